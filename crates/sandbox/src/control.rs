//! The test-control API, mounted under `/__control` only with `--control`: end-to-end tests use
//! it to take services down and bring them back, as real outages would.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::lightning::{Network, PayError, FAUCET, SHOP};
use crate::mint::MintServer;

/// What the control routes act on.
#[derive(Clone)]
pub struct Stack {
    /// The Cashu mint's server.
    pub mint: Arc<MintServer>,
    /// The Lightning network.
    pub net: Network,
}

/// The control routes.
pub fn router(stack: Stack) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/mint/stop", post(mint_stop))
        .route("/mint/start", post(mint_start))
        .route("/invoice/{sats}", get(invoice))
        .route("/lightning/pay", post(faucet_pay))
        .route("/lightning/{node}/fail-next", post(fail_next))
        .route("/lightning/{node}/hold-next", post(hold_next))
        .route("/lightning/{node}/release/{settle}", post(release))
        .route(
            "/lightning/fee/{payer}/{payee}/{base_msat}/{ppm}",
            post(route_fee),
        )
        .with_state(stack)
}

async fn health(State(stack): State<Stack>) -> Json<Value> {
    Json(json!({ "mint_running": stack.mint.is_running().await }))
}

async fn mint_stop(State(stack): State<Stack>) -> Json<Value> {
    stack.mint.stop().await;
    Json(json!({ "mint_running": false }))
}

async fn mint_start(State(stack): State<Stack>) -> Result<Json<Value>, (StatusCode, String)> {
    stack
        .mint
        .restart()
        .await
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(json!({ "mint_running": true })))
}

fn refused(e: PayError) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, e.to_string())
}

/// The faucet pays the invoice in the body (someone paying from outside the app).
async fn faucet_pay(
    State(stack): State<Stack>,
    bolt11: String,
) -> Result<Json<Value>, (StatusCode, String)> {
    let paid = stack
        .net
        .pay(FAUCET, &bolt11, None, None)
        .await
        .map_err(refused)?;
    let preimage: String = paid.preimage.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Json(
        json!({ "preimage": preimage, "fee_msat": paid.fee_msat }),
    ))
}

async fn fail_next(
    State(stack): State<Stack>,
    Path(node): Path<String>,
) -> Result<Json<Value>, (StatusCode, String)> {
    stack
        .net
        .fail_next(&node, "failed by the control API")
        .map_err(refused)?;
    Ok(Json(json!({ "node": node, "next": "fail" })))
}

async fn hold_next(
    State(stack): State<Stack>,
    Path(node): Path<String>,
) -> Result<Json<Value>, (StatusCode, String)> {
    stack.net.hold_next(&node).map_err(refused)?;
    Ok(Json(json!({ "node": node, "next": "hold" })))
}

/// Sets what one route costs (payer → payee): `base_msat` + `ppm` of the amount.
async fn route_fee(
    State(stack): State<Stack>,
    Path((payer, payee, base, ppm)): Path<(String, String, u64, u64)>,
) -> Json<Value> {
    stack.net.set_route_fee(&payer, &payee, base, ppm);
    Json(json!({ "payer": payer, "payee": payee, "base_msat": base, "ppm": ppm }))
}

async fn release(
    State(stack): State<Stack>,
    Path((node, settle)): Path<(String, bool)>,
) -> Json<Value> {
    let released = stack.net.release(&node, settle);
    Json(json!({ "node": node, "released": released }))
}

/// A real signed invoice for `sats` from the network's shop node (not the mint): what a shop
/// or a friend would hand over. The mint pays it over the network like any other.
pub fn external_invoice(net: &Network, sats: u64) -> Result<String, String> {
    net.create_invoice(SHOP, Some(sats.saturating_mul(1000)), "coffee", 3600)
        .map(|i| i.bolt11)
        .map_err(|e| e.to_string())
}

async fn invoice(
    State(stack): State<Stack>,
    Path(sats): Path<u64>,
) -> Result<String, (StatusCode, String)> {
    external_invoice(&stack.net, sats).map_err(|e| (StatusCode::BAD_REQUEST, e))
}
