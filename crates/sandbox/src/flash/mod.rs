//! A stand-in for the Flash server (`api.flashapp.me`): its public GraphQL API on its own
//! origin, over the stack's Lightning network. `POST /graphql` as the real server takes it
//! (JSON `{query, variables, operationName}`, `Authorization: Bearer <token>` or
//! `X-API-KEY: fk_…`, CORS that reflects the caller's origin with credentials), answers
//! validated by the committed schema ([`graphql`]), money kept by [`ledger`].
//!
//! Left out for now: the graphql-transport-ws subscription server, on-chain, TOTP, cashout,
//! and every operation the wallet does not use (they answer `NOT_IMPLEMENTED`).

pub mod graphql;
pub mod ledger;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

pub use ledger::Flash;

/// The largest request body the fake reads (Apollo's default limit is larger; a wallet's
/// requests are a few KB, and a test of a huge body needs only some limit to hit).
pub const MAX_BODY: usize = 100 * 1024;

/// The GraphQL endpoint, with Flash's CORS.
pub fn router(flash: Flash) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_credentials(true)
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers(AllowHeaders::mirror_request());
    Router::new()
        .route("/graphql", post(handle))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(cors)
        .with_state(flash)
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn handle(State(flash): State<Flash>, headers: HeaderMap, body: Bytes) -> Response {
    let json_body = header_str(&headers, header::CONTENT_TYPE.as_str())
        .is_some_and(|c| c.starts_with("application/json"));
    if !json_body {
        return bad_request("POST body must be JSON (Content-Type: application/json)");
    }
    let request: graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return bad_request(&format!("POST body is not a GraphQL request: {e}")),
    };
    let bearer = header_str(&headers, header::AUTHORIZATION.as_str())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let api_key = header_str(&headers, "x-api-key").map(str::trim);
    let caller = flash.caller(bearer, api_key);
    match graphql::execute(&flash, &caller, bearer, &request) {
        Ok(answer) => Json(answer).into_response(),
        Err(graphql::Rejected(errors)) => (StatusCode::BAD_REQUEST, Json(errors)).into_response(),
    }
}

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]})),
    )
        .into_response()
}

#[cfg(test)]
mod tests;
