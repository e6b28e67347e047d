//! Serves the built PWA the way a production host should: SPA fallback to `index.html` for deep
//! links, the right MIME types (`application/wasm` for streaming compilation), no-cache for the
//! documents that decide which build runs (index, service worker), long caching for hashed
//! assets, a Content-Security-Policy without `unsafe-inline` or `unsafe-eval`, and the brotli
//! or gzip copy `cargo xtask dist` wrote beside a file when the browser accepts it.

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
    let is_index = path == index;
    let accepted = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (sent, encoding) = pick_encoding(&path, accepted);
    let bytes = match tokio::fs::read(&sent).await {
        Ok(b) => b,
        Err(_) => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    let csp = if is_index {
        // The policy hashes the inline scripts of the document itself, not of its copy.
        match tokio::fs::read_to_string(&index).await {
            Ok(html) => csp_for(&html),
            Err(_) => return (StatusCode::NOT_FOUND, "not found").into_response(),
        }
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
    if let Some(encoding) = encoding {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    // Caches must keep the copies per encoding apart.
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if is_fallback {
        headers.insert("x-spa-fallback", HeaderValue::from_static("1"));
    }
    resp
}

/// The file to send for `path` and its `Content-Encoding`: `path.br` if the browser accepts
/// brotli and the copy exists and is not older than `path`, else `path.gz` likewise for
/// gzip, else `path` itself. A file edited after the build (a hot fix, a test's new deploy)
/// is newer than its copies, so it is what is sent.
fn pick_encoding(path: &Path, accept_encoding: &str) -> (PathBuf, Option<&'static str>) {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let Some(original) = modified(path) else {
        return (path.to_path_buf(), None);
    };
    for (token, suffix) in [("br", "br"), ("gzip", "gz")] {
        if accepts(accept_encoding, token) {
            let mut copy = path.as_os_str().to_owned();
            copy.push(format!(".{suffix}"));
            let copy = PathBuf::from(copy);
            if modified(&copy).is_some_and(|m| m >= original) {
                return (copy, Some(token));
            }
        }
    }
    (path.to_path_buf(), None)
}

/// Whether an `Accept-Encoding` value accepts `coding` (RFC 9110 §12.5.3): the coding's own
/// entry decides if there is one (`q=0` refuses it), else a `*` entry, else no.
fn accepts(accept_encoding: &str, coding: &str) -> bool {
    let entries = accept_encoding.split(',').map(|item| {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or("").to_ascii_lowercase();
        let refused = parts.any(|p| {
            let p = p.to_ascii_lowercase();
            p.strip_prefix("q=")
                .and_then(|q| q.trim().parse::<f32>().ok())
                .is_some_and(|q| q <= 0.0)
        });
        (name, !refused)
    });
    let (mut own, mut any) = (None, None);
    for (name, ok) in entries {
        if name == coding {
            own = Some(ok);
        } else if name == "*" {
            any = Some(ok);
        }
    }
    own.or(any).unwrap_or(false)
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

    #[test]
    fn the_copy_a_browser_accepts_is_sent() {
        let d = std::env::temp_dir().join(format!("sandbox-enc-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let wasm = d.join("app.wasm");
        std::fs::write(&wasm, "raw").unwrap();
        std::fs::write(d.join("app.wasm.br"), "br").unwrap();
        std::fs::write(d.join("app.wasm.gz"), "gz").unwrap();
        let chrome = "gzip, deflate, br, zstd";
        assert_eq!(
            pick_encoding(&wasm, chrome),
            (d.join("app.wasm.br"), Some("br"))
        );
        assert_eq!(
            pick_encoding(&wasm, "gzip"),
            (d.join("app.wasm.gz"), Some("gzip"))
        );
        assert_eq!(
            pick_encoding(&wasm, "br;q=0, gzip;q=0.5"),
            (d.join("app.wasm.gz"), Some("gzip"))
        );
        assert_eq!(pick_encoding(&wasm, ""), (wasm.clone(), None));
        assert_eq!(pick_encoding(&wasm, "identity"), (wasm.clone(), None));
        assert_eq!(
            pick_encoding(&wasm, "br;q=0, *"),
            (d.join("app.wasm.gz"), Some("gzip"))
        );
        assert_eq!(pick_encoding(&wasm, "BR;Q=0"), (wasm.clone(), None));
        // Edited after the build: the copies are stale, the file itself is sent.
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::File::options()
            .write(true)
            .open(&wasm)
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert_eq!(pick_encoding(&wasm, chrome), (wasm.clone(), None));
        // No copy beside the file: the file itself.
        let png = d.join("icon.png");
        std::fs::write(&png, "png").unwrap();
        assert_eq!(pick_encoding(&png, chrome), (png.clone(), None));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
