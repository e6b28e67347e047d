//! Serves the built PWA the way a production host should: SPA fallback to `index.html` for deep
//! links, the right MIME types (`application/wasm` for streaming compilation), no-cache for the
//! documents that decide which build runs (index, service worker), long caching for hashed
//! assets, and a Content-Security-Policy without `unsafe-inline` or `unsafe-eval`.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use flash_headers::{cache_for, csp_for};

/// The router that serves `dist`.
pub fn router(dist: PathBuf) -> Router {
    Router::new().fallback(serve).with_state(Arc::new(dist))
}

async fn serve(State(dist): State<Arc<PathBuf>>, req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    // `/__…` is reserved for the stack's own APIs (control, only with --control): never the app.
    if req.uri().path().starts_with("/__") {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    let Some(rel) = safe_relative(req.uri().path()) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let index = dist.join("index.html");
    let (path, is_fallback) = if rel.as_os_str().is_empty() {
        (index.clone(), false)
    } else {
        let candidate = dist.join(&rel);
        if candidate.is_file() {
            (candidate, false)
        } else if rel.extension().is_none() {
            // A deep link such as /pos or /settings/backup: the app's router takes it from here.
            (index.clone(), true)
        } else {
            return (StatusCode::NOT_FOUND, "not found").into_response();
        }
    };
    let bytes = match tokio::fs::read(&path).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    let is_index = path == index;
    let csp = if is_index {
        csp_for(&String::from_utf8_lossy(&bytes))
    } else {
        csp_for("")
    };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let mut resp = Response::new(Body::from(bytes));
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(mime_for(&path)),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_for(name, is_index)),
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        headers.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    for (name, value) in flash_headers::COMMON {
        if let Ok(name) = header::HeaderName::from_bytes(name.as_bytes()) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if is_fallback {
        headers.insert("x-spa-fallback", HeaderValue::from_static("1"));
    }
    resp
}

/// Maps a URL path to a path inside `dist`, refusing anything that could climb out of it.
fn safe_relative(url_path: &str) -> Option<PathBuf> {
    let decoded = url_path.trim_start_matches('/');
    let mut out = PathBuf::new();
    for c in Path::new(decoded).components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

fn mime_for(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_escape_dist() {
        assert!(safe_relative("/../etc/passwd").is_none());
        assert!(safe_relative("/a/../../b").is_none());
        assert_eq!(safe_relative("/pos").unwrap(), PathBuf::from("pos"));
        assert_eq!(safe_relative("/").unwrap(), PathBuf::new());
    }
}
