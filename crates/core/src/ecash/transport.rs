//! The mint HTTP port: cdk's own transport (fetch in the browser), with one change. cdk
//! replays failed requests to mints that advertise NUT-19 caching, timing the replays with
//! tokio timers, which do not exist in a browser page, and holding a payment open for up to
//! five minutes while the user waits. Flash instead persists every step (sagas) and resumes it
//! itself, so it hides NUT-19 from cdk and a failed request fails at once.

use cdk_common::nuts::nut22::AuthToken;
use cdk_http_client::{Async, HttpError, RawResponse, Transport};
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

/// cdk's transport without NUT-19 replays.
#[derive(Debug, Clone, Default)]
pub struct MintTransport(Async);

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
            let info: serde_json::Value = self.0.http_get(url, auth).await?;
            return serde_json::from_value(without_replay(info))
                .map_err(|e| HttpError::Other(e.to_string()));
        }
        self.0.http_get(url, auth).await
    }

    async fn http_get_raw(
        &self,
        url: Url,
        auth: Option<AuthToken>,
    ) -> Result<RawResponse, HttpError> {
        self.0.http_get_raw(url, auth).await
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
        self.0.http_post(url, auth_token, payload).await
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
        self.0.http_post_form_raw(url, auth_token, payload).await
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
}
