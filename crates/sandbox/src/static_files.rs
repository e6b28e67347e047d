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
use base64::Engine;
use sha2::{Digest, Sha256};

/// The policy every response carries; `script-src` gains the hashes of the inline scripts of
/// `index.html` (trunk's loader), so no inline script but ours can run.
const CSP_BASE: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; \
connect-src 'self' http: https: ws: wss:; worker-src 'self'; manifest-src 'self'; \
object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

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
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
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

/// Documents that pick the build are always revalidated; trunk's content-hashed files
/// (`name-<16 hex>.ext`) never change, so they are cached for a year.
fn cache_for(file_name: &str, is_index: bool) -> &'static str {
    if is_index || file_name == "sw.js" || !is_hashed(file_name) {
        "no-cache"
    } else {
        "public, max-age=31536000, immutable"
    }
}

fn is_hashed(file_name: &str) -> bool {
    let stem = file_name.split('.').next().unwrap_or("");
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, h)| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The CSP for a document whose HTML is `html`: the base policy plus a `sha256-` source for
/// each inline `<script>` in it.
pub fn csp_for(html: &str) -> String {
    let mut script_src = String::from("script-src 'self' 'wasm-unsafe-eval'");
    for body in inline_scripts(html) {
        let digest = Sha256::digest(body.as_bytes());
        let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
        script_src.push_str(&format!(" 'sha256-{b64}'"));
    }
    format!("{CSP_BASE}; {script_src}")
}

/// The bodies of `<script>` elements that have no `src` attribute.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body_start = tag_end + 1;
        let Some(close) = after[body_start..].find("</script>") else {
            break;
        };
        if !tag.contains(" src=") {
            out.push(&after[body_start..body_start + close]);
        }
        rest = &after[body_start + close..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_hashes_inline_scripts_only() {
        let html = r#"<script src="/a.js"></script><script type="module">init()</script>"#;
        let csp = csp_for(html);
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"init()"));
        assert!(csp.contains(&format!("'sha256-{expected}'")), "{csp}");
        assert_eq!(csp.matches("sha256-").count(), 1);
        assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"));
    }

    #[test]
    fn paths_cannot_escape_dist() {
        assert!(safe_relative("/../etc/passwd").is_none());
        assert!(safe_relative("/a/../../b").is_none());
        assert_eq!(safe_relative("/pos").unwrap(), PathBuf::from("pos"));
        assert_eq!(safe_relative("/").unwrap(), PathBuf::new());
    }

    #[test]
    fn hashed_assets_are_immutable_documents_are_not() {
        assert_eq!(
            cache_for("flash-web-0123456789abcdef_bg.wasm", false),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(
            cache_for("flash-web-0123456789abcdef.js", false),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(cache_for("sw.js", false), "no-cache");
        assert_eq!(cache_for("index.html", true), "no-cache");
        assert_eq!(cache_for("manifest.webmanifest", false), "no-cache");
    }
}
