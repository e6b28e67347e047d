//! The mint HTTP port: cdk's own transport (fetch in the browser), with one change. cdk
//! replays failed requests to mints that advertise NUT-19 caching, timing the replays with
//! tokio timers, which do not exist in a browser page, and holding a payment open for up to
//! five minutes while the user waits. Flash instead persists every step (sagas) and resumes it
//! itself, so it hides NUT-19 from cdk and a failed request fails at once.
//!
//! In the browser every request also goes through the page's own fetch (given by the browser
//! crate with [`set_fetch`]), which reads at most [`MAX_ANSWER_BYTES`] of an answer: a hostile
//! mint streaming gigabytes would otherwise exhaust the wasm memory and kill the app.

use cdk_common::nuts::nut22::AuthToken;
use cdk_http_client::{Async, Transport};
pub use cdk_http_client::{HttpError, RawResponse};
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

/// cdk's transport without NUT-19 replays, and (in the browser) with a deadline on every
/// request: a mint that never answers must not hold a payment, a lock or an unlock forever.
#[derive(Debug, Clone, Default)]
pub struct MintTransport(Async);

/// How long one mint request may take before it fails as "timed out" (the operation's saga
/// is durable either way, so a late answer is found out by recovery).
pub const MINT_TIMEOUT_MS: u32 = 20_000;

/// The page's timer, given by the browser crate at start-up (`set_timer`).
#[cfg(target_arch = "wasm32")]
static TIMER: std::sync::OnceLock<fn(u32) -> futures::future::LocalBoxFuture<'static, ()>> =
    std::sync::OnceLock::new();

/// Installs the timer mint requests are timed with (browser only; native builds rely on the
/// HTTP client's own timeouts).
#[cfg(target_arch = "wasm32")]
pub fn set_timer(timer: fn(u32) -> futures::future::LocalBoxFuture<'static, ()>) {
    let _ = TIMER.set(timer);
}

/// The largest mint answer read (a mint with a hundred keysets answers `/v1/keys` in about
/// 600 KB); a larger one fails like a lost answer, which recovery handles.
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// One mint request as the page's fetch sends it.
pub struct FetchRequest {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The mint endpoint.
    pub url: String,
    /// Extra headers (content type, NUT-21/22 auth); values are never logged.
    pub headers: Vec<(String, String)>,
    /// The JSON body of a POST.
    pub body: Option<Vec<u8>>,
}

impl std::fmt::Debug for FetchRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header values (auth tokens), bodies (proof secrets) and the path (it carries quote
        // ids: whoever has a paid mint quote's id can mint it) are never printed.
        let origin = self
            .url
            .splitn(4, '/')
            .take(3)
            .collect::<Vec<_>>()
            .join("/");
        f.debug_struct("FetchRequest")
            .field("method", &self.method)
            .field("origin", &origin)
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .finish()
    }
}

/// The page's fetch: status and at most [`MAX_ANSWER_BYTES`] of body.
#[cfg(target_arch = "wasm32")]
pub type Fetch =
    fn(FetchRequest) -> futures::future::LocalBoxFuture<'static, Result<RawResponse, HttpError>>;

#[cfg(target_arch = "wasm32")]
static FETCH: std::sync::OnceLock<Fetch> = std::sync::OnceLock::new();

/// Installs the fetch every mint request goes through (browser only; without it, cdk's own
/// fetch is used, which reads any answer whole).
#[cfg(target_arch = "wasm32")]
pub fn set_fetch(fetch: Fetch) {
    let _ = FETCH.set(fetch);
}

/// The request as the installed fetch sends it, or `None` where cdk's own transport is used.
#[cfg(target_arch = "wasm32")]
fn send(
    request: FetchRequest,
) -> Option<futures::future::LocalBoxFuture<'static, Result<RawResponse, HttpError>>> {
    FETCH.get().map(|fetch| fetch(request))
}

#[cfg(not(target_arch = "wasm32"))]
fn send(
    _request: FetchRequest,
) -> Option<futures::future::BoxFuture<'static, Result<RawResponse, HttpError>>> {
    None
}

/// The headers of a request with `auth` (NUT-21/22) and, for a POST, a JSON body.
fn headers(auth: Option<&AuthToken>, json: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if json {
        out.push(("Content-Type".to_string(), "application/json".to_string()));
    }
    if let Some(auth) = auth {
        out.push((auth.header_key(), auth.to_string()));
    }
    out
}

/// `request`, or [`HttpError::Timeout`] after [`MINT_TIMEOUT_MS`].
#[cfg(target_arch = "wasm32")]
async fn deadline<T>(
    request: impl std::future::Future<Output = Result<T, HttpError>>,
) -> Result<T, HttpError> {
    let Some(timer) = TIMER.get() else {
        return request.await;
    };
    let sleep = timer(MINT_TIMEOUT_MS);
    futures::pin_mut!(request);
    match futures::future::select(request, sleep).await {
        futures::future::Either::Left((result, _)) => result,
        futures::future::Either::Right(_) => Err(HttpError::Timeout),
    }
}

#[cfg(not(target_arch = "wasm32"))]
async fn deadline<T>(
    request: impl std::future::Future<Output = Result<T, HttpError>>,
) -> Result<T, HttpError> {
    request.await
}

/// Removes the NUT-19 entry from a mint's `/v1/info` answer.
fn without_replay(mut info: serde_json::Value) -> serde_json::Value {
    if let Some(nuts) = info.get_mut("nuts").and_then(|n| n.as_object_mut()) {
        nuts.remove("19");
    }
    info
}

#[cfg_attr(target_arch = "wasm32", async_trait::async_trait(?Send))]
#[cfg_attr(not(target_arch = "wasm32"), async_trait::async_trait)]
impl Transport for MintTransport {
    fn with_proxy(
        &mut self,
        proxy: Url,
        host_matcher: Option<&str>,
        accept_invalid_certs: bool,
    ) -> Result<(), HttpError> {
        self.0.with_proxy(proxy, host_matcher, accept_invalid_certs)
    }

    async fn http_get<R>(&self, url: Url, auth: Option<AuthToken>) -> Result<R, HttpError>
    where
        R: DeserializeOwned,
    {
        if url.path().ends_with("/v1/info") {
            let info: serde_json::Value =
                self.http_get_raw(url, auth).await?.json_or_status_error()?;
            // Back through bytes, not `from_value`: the reader from bytes is the one every
            // other answer uses, so the module carries one `MintInfo` reader, not two.
            let bytes = serde_json::to_vec(&without_replay(info))
                .map_err(|e| HttpError::Other(e.to_string()))?;
            return serde_json::from_slice(&bytes).map_err(|e| HttpError::Other(e.to_string()));
        }
        self.http_get_raw(url, auth).await?.json_or_status_error()
    }

    async fn http_get_raw(
        &self,
        url: Url,
        auth: Option<AuthToken>,
    ) -> Result<RawResponse, HttpError> {
        let request = FetchRequest {
            method: "GET",
            url: url.to_string(),
            headers: headers(auth.as_ref(), false),
            body: None,
        };
        match send(request) {
            Some(sent) => deadline(sent).await,
            None => deadline(self.0.http_get_raw(url, auth)).await,
        }
    }

    async fn http_post<P, R>(
        &self,
        url: Url,
        auth_token: Option<AuthToken>,
        payload: &P,
    ) -> Result<R, HttpError>
    where
        P: Serialize + Send + Sync,
        R: DeserializeOwned,
    {
        let body =
            serde_json::to_vec(payload).map_err(|e| HttpError::Serialization(e.to_string()))?;
        let request = FetchRequest {
            method: "POST",
            url: url.to_string(),
            headers: headers(auth_token.as_ref(), true),
            body: Some(body),
        };
        match send(request) {
            Some(sent) => deadline(sent).await?.json_or_status_error(),
            None => deadline(self.0.http_post(url, auth_token, payload)).await,
        }
    }

    async fn http_post_form_raw<P>(
        &self,
        url: Url,
        auth_token: Option<AuthToken>,
        payload: &P,
    ) -> Result<RawResponse, HttpError>
    where
        P: Serialize + Send + Sync,
    {
        deadline(self.0.http_post_form_raw(url, auth_token, payload)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nut19_is_hidden_and_everything_else_kept() {
        let info = serde_json::json!({"name": "m", "nuts": {"4": {"disabled": false}, "19": {"ttl": 300}}});
        let out = without_replay(info);
        assert!(out["nuts"].get("19").is_none());
        assert_eq!(out["nuts"]["4"]["disabled"], false);
        assert_eq!(out["name"], "m");
    }

    #[test]
    fn a_request_prints_no_secret() {
        let request = FetchRequest {
            method: "POST",
            url: "https://mint.example/v1/mint/quote/bolt11/quote-id-7f3a".into(),
            headers: vec![("Clear-auth".into(), "secret-token".into())],
            body: Some(b"{\"secret\":\"proof-secret\"}".to_vec()),
        };
        let printed = format!("{request:?}");
        for secret in ["quote-id-7f3a", "secret-token", "proof-secret"] {
            assert!(!printed.contains(secret), "{printed}");
        }
        assert!(printed.contains("https://mint.example"), "{printed}");
    }
}
