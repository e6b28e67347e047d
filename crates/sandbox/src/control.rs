//! The test-control API, mounted under `/__control` only with `--control`: end-to-end tests use
//! it to take services down and bring them back, as real outages would.

use std::sync::Arc;

use axum::extract::{Path, State};
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
        .route("/invoice/{sats}", get(invoice))
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

/// A real signed mainnet BOLT11 invoice for `sats` from a Lightning node that is not the mint
/// (a fixed test key): what a shop or a friend would hand over. The mint's fake backend pays
/// it like any other.
pub fn external_invoice(sats: u64) -> Result<String, String> {
    use bitcoin::hashes::{sha256, Hash};
    use bitcoin::secp256k1::{Secp256k1, SecretKey};
    use cdk::lightning_invoice::{Currency, InvoiceBuilder, PaymentSecret};
    let key = SecretKey::from_slice(&[0x42; 32]).map_err(|e| e.to_string())?;
    let mut preimage = [0u8; 32];
    getrandom::fill(&mut preimage).map_err(|e| e.to_string())?;
    InvoiceBuilder::new(Currency::Bitcoin)
        .description("coffee".into())
        .payment_hash(sha256::Hash::hash(&preimage))
        .payment_secret(PaymentSecret(preimage))
        .current_timestamp()
        .min_final_cltv_expiry_delta(144)
        .amount_milli_satoshis(sats.saturating_mul(1000))
        .build_signed(|h| Secp256k1::new().sign_ecdsa_recoverable(h, &key))
        .map(|i| i.to_string())
        .map_err(|e| e.to_string())
}

async fn invoice(Path(sats): Path<u64>) -> Result<String, (StatusCode, String)> {
    external_invoice(sats).map_err(|e| (StatusCode::BAD_REQUEST, e))
}
