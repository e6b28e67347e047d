//! The test-control API, mounted under `/__control` only with `--control`: end-to-end tests use
//! it to take services down and bring them back, as real outages would.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::mint::MintServer;

/// The control routes.
pub fn router(mint: Arc<MintServer>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/mint/stop", post(mint_stop))
        .route("/mint/start", post(mint_start))
        .with_state(mint)
}

async fn health(State(mint): State<Arc<MintServer>>) -> Json<Value> {
    Json(json!({ "mint_running": mint.is_running().await }))
}

async fn mint_stop(State(mint): State<Arc<MintServer>>) -> Json<Value> {
    mint.stop().await;
    Json(json!({ "mint_running": false }))
}

async fn mint_start(
    State(mint): State<Arc<MintServer>>,
) -> Result<Json<Value>, (StatusCode, String)> {
    mint.restart()
        .await
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(json!({ "mint_running": true })))
}
