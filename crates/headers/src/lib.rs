//! The headers Flash Web must be served with, in one place: the sandbox sends them on every
//! response, and `cargo xtask dist` writes them for a static host (`dist/_headers`, the format
//! Netlify and Cloudflare Pages read) plus a `<meta>` CSP fallback in `index.html` for hosts
//! that send no headers at all.
#![forbid(unsafe_code)]

use base64::Engine;
use sha2::{Digest, Sha256};

/// Everything but `script-src` and `frame-ancestors` (which a `<meta>` policy cannot carry).
const CSP_BASE: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; \
connect-src 'self' http: https: ws: wss:; worker-src 'self'; manifest-src 'self'; \
object-src 'none'; base-uri 'self'; form-action 'self'";

/// Headers every response carries besides the CSP and caching.
pub const COMMON: &[(&str, &str)] = &[
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    (
        "Permissions-Policy",
        "camera=(self), microphone=(), geolocation=(), payment=()",
    ),
];

fn script_src(html: &str) -> String {
    let mut script_src = String::from("script-src 'self' 'wasm-unsafe-eval'");
    for body in inline_scripts(html) {
        let digest = Sha256::digest(body.as_bytes());
        let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
        script_src.push_str(&format!(" 'sha256-{b64}'"));
    }
    script_src
}

/// The CSP header for a document whose HTML is `html`: no `unsafe-inline`, no `unsafe-eval`;
/// `script-src` gains a `sha256-` source for each inline `<script>` in it (trunk's loader), so
/// no inline script but ours can run; no framing (clickjacking a wallet).
pub fn csp_for(html: &str) -> String {
    format!("{CSP_BASE}; frame-ancestors 'none'; {}", script_src(html))
}

/// The same policy for a `<meta http-equiv>` tag (browsers ignore `frame-ancestors` there).
pub fn meta_csp_for(html: &str) -> String {
    format!("{CSP_BASE}; {}", script_src(html))
}

/// Inserts the `<meta>` CSP right after `<head>` (before any script), once.
pub fn with_meta_csp(html: &str) -> String {
    if html.contains("http-equiv=\"Content-Security-Policy\"") {
        return html.to_string();
    }
    let tag = format!(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
        meta_csp_for(html)
    );
    match html.find("<head>") {
        Some(i) => format!("{}{tag}{}", &html[..i + 6], &html[i + 6..]),
        None => format!("{tag}{html}"),
    }
}

/// Documents that pick the build are always revalidated; trunk's content-hashed files
/// (`name-<16 hex>.ext`) never change, so they are cached for a year.
pub fn cache_for(file_name: &str, is_index: bool) -> &'static str {
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

/// A `_headers` file for a static host: the security headers on every path, and the cache
/// rule of each file (`urls` are the served paths, e.g. `/index.html`).
pub fn headers_file(index_html: &str, urls: &[String]) -> String {
    let mut out = String::from("/*\n");
    out.push_str(&format!(
        "  Content-Security-Policy: {}\n",
        csp_for(index_html)
    ));
    for (name, value) in COMMON {
        out.push_str(&format!("  {name}: {value}\n"));
    }
    out.push_str("  Cache-Control: no-cache\n");
    for url in urls {
        let name = url.rsplit('/').next().unwrap_or("");
        let rule = cache_for(name, url == "/index.html");
        if rule != "no-cache" {
            out.push_str(&format!(
                "{url}\n  ! Cache-Control\n  Cache-Control: {rule}\n"
            ));
        }
    }
    out
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
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn csp_hashes_inline_scripts_only() {
        let html = r#"<script src="/a.js"></script><script type="module">init()</script>"#;
        let csp = csp_for(html);
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"init()"));
        assert!(csp.contains(&format!("'sha256-{expected}'")), "{csp}");
        assert_eq!(csp.matches("sha256-").count(), 1);
        assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn the_meta_policy_sits_before_every_script_and_keeps_their_hashes() {
        let html = "<html><head><script type=\"module\">init()</script></head></html>";
        let out = with_meta_csp(html);
        let meta = out.find("http-equiv").unwrap();
        assert!(meta < out.find("<script").unwrap());
        assert!(!meta_csp_for(html).contains("frame-ancestors"));
        assert!(out.contains(&script_src(html)));
        assert_eq!(with_meta_csp(&out), out, "inserted once");
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

    #[test]
    fn the_headers_file_names_every_security_header_and_the_immutable_files() {
        let f = headers_file(
            "<script>x</script>",
            &[
                "/index.html".into(),
                "/flash-web-0123456789abcdef_bg.wasm".into(),
            ],
        );
        for h in [
            "Content-Security-Policy:",
            "frame-ancestors 'none'",
            "X-Content-Type-Options: nosniff",
            "Referrer-Policy: no-referrer",
            "X-Frame-Options: DENY",
        ] {
            assert!(f.contains(h), "{h} in {f}");
        }
        assert!(f.contains("/flash-web-0123456789abcdef_bg.wasm\n  ! Cache-Control\n  Cache-Control: public, max-age=31536000, immutable"));
        assert!(!f.contains("/index.html\n"), "index stays no-cache");
    }
}
