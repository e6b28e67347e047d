//! The release build: trunk builds the app, then we generate the service worker whose cache
//! name and precache list come from the built files themselves, so every deploy with a change
//! gets a new cache and the old one is dropped.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::sh::{cmd, step, Failed};

/// Builds `dist/` (release), adds the security headers a static host needs, and writes
/// `dist/sw.js`.
pub fn build(root: &Path) -> Result<(), Failed> {
    step("build the PWA (trunk, release)");
    cmd(root, "trunk", &["build", "--release"]).run()?;
    write_headers(&root.join("dist"))?;
    write_service_worker(root)?;
    write_compressed(&root.join("dist"))
}

/// What is sent compressed: text and wasm. Images are compressed already.
const COMPRESSIBLE: &[&str] = &[
    "wasm",
    "js",
    "css",
    "html",
    "json",
    "svg",
    "webmanifest",
    "txt",
];

/// Writes `F.br` (brotli, quality 11) and `F.gz` (gzip -9) beside every compressible file,
/// so a host sends the smaller one a browser accepts without compressing per request (the
/// sandbox does, by `Accept-Encoding`). On a phone's link the wasm is most of the wait.
fn write_compressed(dist: &Path) -> Result<(), Failed> {
    use std::io::Write;
    let (mut raw, mut br_total) = (0usize, 0usize);
    for path in all_files(dist)? {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !COMPRESSIBLE.contains(&ext) {
            continue;
        }
        let bytes = std::fs::read(&path)
            .map_err(|e| Failed(format!("cannot read {}: {e}", path.display())))?;
        let mut br = Vec::with_capacity(bytes.len() / 3);
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 22,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut bytes.as_slice(), &mut br, &params)
            .map_err(|e| Failed(format!("brotli {}: {e}", path.display())))?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bytes)
            .map_err(|e| Failed(format!("gzip {}: {e}", path.display())))?;
        let gz = gz
            .finish()
            .map_err(|e| Failed(format!("gzip {}: {e}", path.display())))?;
        for (suffix, out) in [("br", &br), ("gz", &gz)] {
            let mut name = path.clone().into_os_string();
            name.push(format!(".{suffix}"));
            std::fs::write(&name, out)
                .map_err(|e| Failed(format!("cannot write {}: {e}", path.display())))?;
        }
        raw += bytes.len();
        br_total += br.len();
    }
    println!(
        "compressed: {} KB raw -> {} KB brotli (.br and .gz beside each file)",
        raw / 1024,
        br_total / 1024
    );
    Ok(())
}

/// Every file under `dist`, compressed copies excluded.
fn all_files(dist: &Path) -> Result<Vec<PathBuf>, Failed> {
    let mut out = Vec::new();
    let mut stack = vec![dist.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| Failed(format!("cannot list {}: {e}", dir.display())))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if !is_compressed_copy(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// `F.br` / `F.gz` written by [`write_compressed`]: never precached or listed, the host
/// picks them by `Accept-Encoding` for the URL of `F`.
fn is_compressed_copy(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("br" | "gz"))
}

/// `dist/_headers` (CSP with the inline-script hashes, framing refused, nosniff, referrer
/// policy, cache rules) and a `<meta>` CSP in `index.html` for hosts that send no headers.
fn write_headers(dist: &Path) -> Result<(), Failed> {
    let index = dist.join("index.html");
    let html = std::fs::read_to_string(&index)
        .map_err(|e| Failed(format!("cannot read {}: {e}", index.display())))?;
    let html = flash_headers::with_meta_csp(&html);
    std::fs::write(&index, &html)
        .map_err(|e| Failed(format!("cannot write {}: {e}", index.display())))?;
    let urls: Vec<String> = shell_files(dist)?.into_iter().map(|(u, _)| u).collect();
    let headers = flash_headers::headers_file(&html, &urls);
    std::fs::write(dist.join("_headers"), headers)
        .map_err(|e| Failed(format!("cannot write dist/_headers: {e}")))?;
    println!("headers: dist/_headers and a <meta> CSP in index.html");
    Ok(())
}

/// Every file of the shell, as URL paths, sorted (the service worker itself excluded).
fn shell_files(dist: &Path) -> Result<Vec<(String, PathBuf)>, Failed> {
    let mut out = Vec::new();
    for path in all_files(dist)? {
        let rel = path
            .strip_prefix(dist)
            .map_err(|_| Failed("path outside dist".into()))?
            .to_string_lossy()
            .replace('\\', "/");
        // The worker and the host's headers file are not part of the shell.
        if rel != "sw.js" && rel != "_headers" {
            out.push((format!("/{rel}"), path));
        }
    }
    out.sort();
    Ok(out)
}

/// The build version: a hash over every shell file's path and content.
fn version(files: &[(String, PathBuf)]) -> Result<String, Failed> {
    let mut h = Sha256::new();
    for (url, path) in files {
        let bytes = std::fs::read(path)
            .map_err(|e| Failed(format!("cannot read {}: {e}", path.display())))?;
        h.update(url.as_bytes());
        h.update([0]);
        h.update(Sha256::digest(&bytes));
    }
    Ok(h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The generated header the worker body (`sw/sw.js`) expects.
fn header(version: &str, files: &[(String, PathBuf)]) -> String {
    let list: Vec<String> = files.iter().map(|(u, _)| format!("{u:?}")).collect();
    format!(
        "// Generated by `cargo xtask dist`: do not edit.\nconst VERSION = {version:?};\nconst PRECACHE = [{}];\n",
        list.join(", ")
    )
}

fn write_service_worker(root: &Path) -> Result<(), Failed> {
    let dist = root.join("dist");
    let files = shell_files(&dist)?;
    let version = version(&files)?;
    let body = std::fs::read_to_string(root.join("sw/sw.js"))
        .map_err(|e| Failed(format!("cannot read sw/sw.js: {e}")))?;
    let out = format!("{}\n{body}", header(&version, &files));
    std::fs::write(dist.join("sw.js"), out)
        .map_err(|e| Failed(format!("cannot write dist/sw.js: {e}")))?;
    println!(
        "service worker: cache flash-shell-{version}, {} files precached",
        files.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("icons")).unwrap();
        d
    }

    #[test]
    fn version_follows_content_and_skips_the_worker() {
        let d = tmp("sw");
        std::fs::write(d.join("index.html"), "a").unwrap();
        std::fs::write(d.join("icons/i.png"), "b").unwrap();
        std::fs::write(d.join("sw.js"), "old worker").unwrap();
        std::fs::write(d.join("index.html.br"), "compressed copy").unwrap();
        let files = shell_files(&d).unwrap();
        let urls: Vec<&str> = files.iter().map(|(u, _)| u.as_str()).collect();
        assert_eq!(urls, ["/icons/i.png", "/index.html"]);
        let v1 = version(&files).unwrap();
        std::fs::write(d.join("sw.js"), "another worker").unwrap();
        assert_eq!(
            version(&shell_files(&d).unwrap()).unwrap(),
            v1,
            "sw.js does not count"
        );
        std::fs::write(d.join("index.html"), "changed").unwrap();
        assert_ne!(
            version(&shell_files(&d).unwrap()).unwrap(),
            v1,
            "content changes the version"
        );
        let h = header(&v1, &files);
        assert!(h.contains(&format!("const VERSION = \"{v1}\";")));
        assert!(h.contains("const PRECACHE = [\"/icons/i.png\", \"/index.html\"];"));
    }

    #[test]
    fn compressed_copies_decompress_to_the_file() {
        use std::io::Read;
        let d = tmp("compress");
        let text = "<!doctype html>".repeat(100);
        std::fs::write(d.join("index.html"), &text).unwrap();
        std::fs::write(d.join("icons/i.png"), "png").unwrap();
        write_compressed(&d).unwrap();
        let mut br = String::new();
        brotli::Decompressor::new(
            std::fs::read(d.join("index.html.br")).unwrap().as_slice(),
            4096,
        )
        .read_to_string(&mut br)
        .unwrap();
        assert_eq!(br, text);
        let mut gz = String::new();
        flate2::read::GzDecoder::new(std::fs::read(d.join("index.html.gz")).unwrap().as_slice())
            .read_to_string(&mut gz)
            .unwrap();
        assert_eq!(gz, text);
        assert!(
            !d.join("icons/i.png.br").exists(),
            "images are left as they are"
        );
        // Run again: the copies are not compressed a second time.
        write_compressed(&d).unwrap();
        assert!(!d.join("index.html.br.br").exists());
    }
}
