//! Installs what a fresh machine lacks, and does nothing (quickly) when it is all there:
//! the wasm32 target, Debian packages (C toolchain for secp256k1/ring, protoc for cdk,
//! Chromium and its driver), trunk, wasm-bindgen-cli at the exact Cargo.lock version, and the
//! npm packages from package-lock.json (playwright-core, binaryen's wasm-opt).

use std::path::Path;

use crate::sh::{cmd, step, Failed};

/// The trunk release this project builds with (0.22 needs a newer rustc).
pub const TRUNK_VERSION: &str = "0.21.14";

/// Debian packages, each with a file that proves it is installed.
const APT: &[(&str, &str)] = &[
    ("clang", "/usr/bin/clang"),
    ("llvm", "/usr/bin/llvm-ar"),
    ("protobuf-compiler", "/usr/bin/protoc"),
    ("chromium", "/usr/bin/chromium"),
    ("chromium-driver", "/usr/bin/chromedriver"),
];

/// Everything.
pub fn all(root: &Path) -> Result<(), Failed> {
    step("setup (installs only what is missing)");
    wasm_target(root)?;
    apt(root)?;
    node(root)?;
    trunk(root)?;
    wasm_bindgen(root)?;
    npm(root)?;
    Ok(())
}

fn wasm_target(root: &Path) -> Result<(), Failed> {
    let installed = cmd(root, "rustup", &["target", "list", "--installed"])
        .output()
        .unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    cmd(root, "rustup", &["target", "add", "wasm32-unknown-unknown"]).run()
}

fn apt(root: &Path) -> Result<(), Failed> {
    let missing: Vec<&str> = APT
        .iter()
        .filter(|(_, file)| !Path::new(file).exists())
        .map(|(pkg, _)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    println!("installing Debian packages: {}", missing.join(" "));
    let sudo = !is_root(root);
    let run = |args: &[&str]| {
        if sudo {
            let mut v = vec!["-n", "apt-get"];
            v.extend(args);
            cmd(root, "sudo", &v)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .run()
        } else {
            cmd(root, "apt-get", args)
                .env("DEBIAN_FRONTEND", "noninteractive")
                .run()
        }
    };
    run(&["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(missing.iter().copied());
    run(&args).map_err(|Failed(m)| {
        Failed(format!(
            "{m}\ninstall these Debian packages yourself (as root): apt-get install {}",
            missing.join(" ")
        ))
    })
}

fn is_root(root: &Path) -> bool {
    cmd(root, "id", &["-u"])
        .output()
        .is_some_and(|o| o.trim() == "0")
}

fn node(root: &Path) -> Result<(), Failed> {
    if cmd(root, "node", &["--version"]).output().is_some()
        && cmd(root, "npm", &["--version"]).output().is_some()
    {
        return Ok(());
    }
    Err(Failed(
        "Node.js 20+ and npm are needed for the end-to-end tests and wasm-opt; install them (apt-get install nodejs npm)".into(),
    ))
}

fn trunk(root: &Path) -> Result<(), Failed> {
    let have = cmd(root, "trunk", &["--version"])
        .output()
        .unwrap_or_default();
    if have.trim() == format!("trunk {TRUNK_VERSION}") {
        return Ok(());
    }
    println!("installing trunk {TRUNK_VERSION} (first time only, ~7-15 min on 2 cores)");
    cmd(
        root,
        "cargo",
        &["install", "--locked", &format!("trunk@{TRUNK_VERSION}")],
    )
    .run()
}

/// The wasm-bindgen version in Cargo.lock; the CLI must match it exactly.
pub fn locked_wasm_bindgen(root: &Path) -> Result<String, Failed> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock"))
        .map_err(|e| Failed(format!("cannot read Cargo.lock: {e}")))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(v.trim_end_matches('"').to_string());
            }
        }
    }
    Err(Failed("Cargo.lock has no wasm-bindgen entry".into()))
}

fn wasm_bindgen(root: &Path) -> Result<(), Failed> {
    let want = locked_wasm_bindgen(root)?;
    let trunk_toml = std::fs::read_to_string(root.join("Trunk.toml")).unwrap_or_default();
    if !trunk_toml.contains(&format!("wasm_bindgen = \"{want}\"")) {
        return Err(Failed(format!(
            "Trunk.toml pins a wasm-bindgen other than Cargo.lock's {want}: set [tools] wasm_bindgen = \"{want}\""
        )));
    }
    let have = cmd(root, "wasm-bindgen", &["--version"])
        .output()
        .unwrap_or_default();
    let runner = cmd(root, "wasm-bindgen-test-runner", &["--version"]).output();
    if have.trim() == format!("wasm-bindgen {want}") && runner.is_some() {
        return Ok(());
    }
    println!("installing wasm-bindgen-cli {want} (first time only, ~3 min)");
    // Not --locked: one of its pinned dependencies is no longer on the registry.
    cmd(
        root,
        "cargo",
        &["install", "wasm-bindgen-cli", "--version", &want, "--force"],
    )
    .run()
}

fn npm(root: &Path) -> Result<(), Failed> {
    let lock = root.join("package-lock.json");
    let stamp = root.join("node_modules/.package-lock.json");
    let fresh = match (std::fs::metadata(&lock), std::fs::metadata(&stamp)) {
        (Ok(l), Ok(s)) => match (l.modified(), s.modified()) {
            (Ok(l), Ok(s)) => s >= l,
            _ => false,
        },
        _ => false,
    };
    if fresh && root.join("node_modules/.bin/wasm-opt").exists() {
        return Ok(());
    }
    cmd(root, "npm", &["ci", "--no-audit", "--no-fund"]).run()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_locked_wasm_bindgen_version() {
        let root = crate::workspace_root();
        let v = locked_wasm_bindgen(&root).unwrap();
        assert!(v.starts_with("0.2."), "{v}");
        let trunk = std::fs::read_to_string(root.join("Trunk.toml")).unwrap();
        assert!(
            trunk.contains(&format!("wasm_bindgen = \"{v}\"")),
            "Trunk.toml and Cargo.lock agree"
        );
    }
}
