//! The test-control API, mounted under `/__control` only with `--control`: end-to-end tests use
//! it to take services down and bring them back, as real outages would.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::flash::Flash;
use crate::lightning::{Network, PayError, FAUCET, SHOP};
use crate::mint::MintServer;

/// What the control routes act on.
#[derive(Clone)]
pub struct Stack {
    /// The Cashu mint's server.
    pub mint: Arc<MintServer>,
    /// The Lightning network.
    pub net: Network,
    /// The Flash account server's books.
    pub flash: Flash,
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
        .route("/lightning/{node}", get(node_info))
        .route("/lightning/{node}/balance/{msat}", post(set_balance))
        .route("/lightning/{node}/fee/{base_msat}/{ppm}", post(node_fee))
        .route("/lightning/invoice/{hash}/expire", post(expire))
        .route("/flash/price/{cents_per_btc}", post(flash_price))
        .route(
            "/flash/wallet/{wallet}/balance/{amount}",
            post(flash_balance),
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
    let preimage = hex::encode(paid.preimage);
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

/// A node's id and balance.
async fn node_info(
    State(stack): State<Stack>,
    Path(node): Path<String>,
) -> Result<Json<Value>, (StatusCode, String)> {
    let id = stack.net.node_id(&node).map_err(refused)?;
    let balance = stack.net.balance_msat(&node).map_err(refused)?;
    Ok(Json(
        json!({ "node": node, "id": id.to_string(), "balance_msat": balance }),
    ))
}

/// Sets a node's balance (a payer short of funds).
async fn set_balance(
    State(stack): State<Stack>,
    Path((node, msat)): Path<(String, u64)>,
) -> Result<Json<Value>, (StatusCode, String)> {
    stack.net.set_balance_msat(&node, msat).map_err(refused)?;
    Ok(Json(json!({ "node": node, "balance_msat": msat })))
}

/// Sets the Flash server's BTC price (USD cents for one BTC).
async fn flash_price(State(stack): State<Stack>, Path(cents): Path<u64>) -> Json<Value> {
    stack.flash.set_price(cents);
    Json(json!({ "cents_per_btc": cents }))
}

/// Sets a Flash wallet's balance (sats or cents by its currency).
async fn flash_balance(
    State(stack): State<Stack>,
    Path((wallet, amount)): Path<(String, i64)>,
) -> Result<Json<Value>, (StatusCode, String)> {
    if stack.flash.set_balance(&wallet, amount) {
        Ok(Json(json!({ "wallet": wallet, "balance": amount })))
    } else {
        Err((StatusCode::NOT_FOUND, format!("no Flash wallet {wallet}")))
    }
}

/// Sets what a node pays to route any payment.
async fn node_fee(
    State(stack): State<Stack>,
    Path((node, base, ppm)): Path<(String, u64, u64)>,
) -> Result<Json<Value>, (StatusCode, String)> {
    stack.net.set_fee(&node, base, ppm).map_err(refused)?;
    Ok(Json(json!({ "node": node, "base_msat": base, "ppm": ppm })))
}

/// Expires an open invoice now (by payment hash, hex).
async fn expire(
    State(stack): State<Stack>,
    Path(hash): Path<String>,
) -> Result<Json<Value>, (StatusCode, String)> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(&hash, &mut bytes).map_err(|_| {
        (
            StatusCode::BAD_REQUEST,
            "a payment hash is 64 hex digits".to_string(),
        )
    })?;
    Ok(Json(json!({ "expired": stack.net.expire_invoice(&bytes) })))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::lightning::Network;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn stack() -> Stack {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let dir = std::env::temp_dir().join(format!("flash-control-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let net = Network::new(cdk::lightning_invoice::Currency::Bitcoin);
        let mint = crate::mint::build(&dir, &format!("http://{addr}"), &net, None)
            .await
            .unwrap();
        let mint = Arc::new(MintServer::start(mint, listener, addr).await.unwrap());
        let flash = Flash::new(&net);
        Stack { mint, net, flash }
    }

    async fn call(app: &Router, method: &str, path: &str, body: &str) -> (StatusCode, String) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .body(Body::from(body.to_string()))
            .unwrap();
        let answer = app.clone().oneshot(request).await.unwrap();
        let status = answer.status();
        let bytes = axum::body::to_bytes(answer.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn the_control_api_drives_the_network_and_refuses_nonsense() {
        let s = stack().await;
        let app = router(s.clone());
        // A shop invoice, paid by the faucet through the API.
        let (status, invoice) = call(&app, "GET", "/invoice/21", "").await;
        assert_eq!(status, StatusCode::OK);
        let (status, paid) = call(&app, "POST", "/lightning/pay", &invoice).await;
        assert_eq!(status, StatusCode::OK, "{paid}");
        assert!(paid.contains("preimage"));
        // Twice: refused with the network's reason.
        let (status, again) = call(&app, "POST", "/lightning/pay", &invoice).await;
        assert_eq!(
            (status, again.contains("already paid")),
            (StatusCode::BAD_REQUEST, true)
        );
        let (status, info) = call(&app, "GET", "/lightning/shop", "").await;
        assert_eq!(status, StatusCode::OK);
        assert!(info.contains("\"balance_msat\":100000021000"), "{info}");
        // Unknown nodes, bad hashes and garbage are refused, never a crash.
        for (method, path) in [
            ("GET", "/lightning/nobody"),
            ("POST", "/lightning/nobody/fail-next"),
            ("POST", "/lightning/nobody/balance/5"),
            ("POST", "/lightning/invoice/zz/expire"),
            ("POST", "/lightning/shop/balance/-1"),
        ] {
            let (status, _) = call(&app, method, path, "").await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path}");
        }
        let (status, _) = call(&app, "POST", "/lightning/pay", "lnbc1nonsense").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        s.mint.stop().await;
    }
}
