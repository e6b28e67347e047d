//! `cargo xtask`: the one source of truth for setting up, building, running, testing and
//! benchmarking Flash Web. CI runs `cargo xtask test` and nothing else of substance.
#![forbid(unsafe_code)]

mod dist;
mod locales;
mod setup;
mod sh;
mod wasm_size;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use sh::{cmd, Failed};

const USAGE: &str = "usage: cargo xtask <command>

  setup          install what is missing (idempotent; fast when present)
  dev [--port N] build the PWA (release), start the local stack, print the URLs; Ctrl-C stops
  test           fmt, clippy (native + wasm32), native tests, browser tests, end-to-end tests
  bench          sizes (raw/gzip/brotli), cold/warm load, unlock and eCash receive times in headless Chromium
  dist           build the release PWA into dist/
  sizes          the page and engine modules' code by crate, from the last dist build
  fuzz [target] [--secs N] [--execs N]
                 fuzz every parser of outside input (default 10 s per target; `--list` names them)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::all(&root),
        Some("dist") => setup::all(&root).and_then(|()| dist::build(&root)),
        Some("dev") => dev(&root, &args[1..]),
        Some("test") => test(&root),
        Some("bench") => bench(&root),
        // The code-by-crate lists of the last `dist` build, without the browser runs.
        Some("sizes") => {
            print_code_by_crate(&root);
            Ok(())
        }
        Some("fuzz") => fuzz(&root, &args[1..]),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failed(msg)) => {
            eprintln!("\nxtask: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// Runs the fuzzer (`crates/fuzz`), built with the dev profile the tests already built.
fn fuzz(root: &Path, rest: &[String]) -> Result<(), Failed> {
    let root_arg = root.to_string_lossy().to_string();
    let mut args = vec![
        "run",
        "--quiet",
        "--package",
        "flash-fuzz",
        "--",
        "--root",
        &root_arg,
    ];
    args.extend(rest.iter().map(String::as_str));
    cmd(root, "cargo", &args).run()
}

/// The page module (`flash-web`, with `flash-browser` without its `engine` feature) and the
/// protocol crate it shares with the engine's worker: nothing of cdk, secp256k1, argon2 or
/// the `bitcoin` crate may come in through them (the engine is `crates/engine-worker`).
fn page_crates_link_no_engine(root: &Path) -> Result<(), Failed> {
    for args in [
        &[
            "tree",
            "-p",
            "flash-api",
            "-e",
            "normal",
            "--prefix",
            "none",
        ][..],
        &[
            "tree",
            "-p",
            "flash-web",
            "--target",
            "wasm32-unknown-unknown",
            "-e",
            "normal",
            "--prefix",
            "none",
        ][..],
    ] {
        let tree = cmd(root, "cargo", args)
            .output()
            .ok_or_else(|| Failed(format!("cargo {} failed", args.join(" "))))?;
        let heavy = engine_crates(&tree);
        if !heavy.is_empty() {
            return Err(Failed(format!(
                "`cargo {}` must stay free of engine crates, found: {}",
                args.join(" "),
                heavy.join(", ")
            )));
        }
    }
    Ok(())
}

/// The lines of a `cargo tree --prefix none` listing that name an engine crate.
fn engine_crates(tree: &str) -> Vec<&str> {
    tree.lines()
        .filter(|l| {
            ["cdk", "secp256k1", "argon2", "bitcoin v", "flash-core"]
                .iter()
                .any(|c| l.starts_with(c))
        })
        .collect()
}

/// The app module's code by crate (top 15), from wasm-bindgen's output before wasm-opt.
fn print_code_by_crate(root: &Path) {
    for (module, file) in [
        ("page module", "flash-web_bg.wasm"),
        ("engine module", "engine-worker_bg.wasm"),
    ] {
        print_module_by_crate(root, module, file);
    }
}

fn print_module_by_crate(root: &Path, module: &str, file: &str) {
    let path = target_dir(root).join("wasm-bindgen/release").join(file);
    let Some(sizes) = std::fs::read(&path)
        .ok()
        .and_then(|w| wasm_size::by_crate(&w))
    else {
        println!("code by crate: {} could not be read", path.display());
        return;
    };
    let total: usize = sizes.iter().map(|(_, n)| n).sum();
    println!("\n{module}, code by crate (before wasm-opt; {total} bytes of code):");
    for (name, bytes) in sizes.iter().take(15) {
        let share = if total == 0 {
            0.0
        } else {
            *bytes as f64 * 100.0 / total as f64
        };
        println!("  {bytes:>9}  {share:>5.1} %  {name}");
    }
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set (relative to the repository, as
/// cargo reads it from here), else `target/`. One target dir shared by every step.
fn target_dir(root: &Path) -> PathBuf {
    target_dir_from(root, std::env::var_os("CARGO_TARGET_DIR"))
}

fn target_dir_from(root: &Path, set: Option<std::ffi::OsString>) -> PathBuf {
    match set.filter(|v| !v.is_empty()) {
        Some(dir) => root.join(dir), // an absolute path replaces `root`
        None => root.join("target"),
    }
}

/// The sandbox binary, built with the dev profile so tests and `dev` share one build.
fn build_sandbox(root: &Path) -> Result<PathBuf, Failed> {
    cmd(root, "cargo", &["build", "--package", "flash-sandbox"]).run()?;
    Ok(target_dir(root).join("debug/flash-sandbox"))
}

fn dev(root: &Path, rest: &[String]) -> Result<(), Failed> {
    let mut port = "8080".to_string();
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--port" => {
                port = it
                    .next()
                    .cloned()
                    .ok_or_else(|| Failed("--port needs a number".into()))?
            }
            other => return Err(Failed(format!("unknown flag {other:?} for dev\n\n{USAGE}"))),
        }
    }
    setup::all(root)?;
    dist::build(root)?;
    let sandbox = build_sandbox(root)?;
    let data = target_dir(root).join("sandbox-data");
    let data = data.to_string_lossy();
    let dist = root.join("dist");
    let dist = dist.to_string_lossy();
    let bin = sandbox.to_string_lossy();
    cmd(
        root,
        &bin,
        &["--port", &port, "--dist", &dist, "--data-dir", &data],
    )
    .run()
}

fn test(root: &Path) -> Result<(), Failed> {
    let started = std::time::Instant::now();
    setup::all(root)?;
    sh::step("format");
    cmd(root, "cargo", &["fmt", "--all", "--check"]).run()?;

    sh::step("clippy (native)");
    let native = [
        "-p",
        "flash-api",
        "-p",
        "flash-core",
        "-p",
        "flash-sandbox",
        "-p",
        "flash-headers",
        "-p",
        "flash-fuzz",
        "-p",
        "xtask",
    ];
    let mut args = vec!["clippy", "--all-targets"];
    args.extend(native);
    args.extend(["--", "-D", "warnings"]);
    cmd(root, "cargo", &args).run()?;

    sh::step("the page's crates link no engine crates");
    page_crates_link_no_engine(root)?;

    sh::step("clippy (wasm32)");
    cmd(
        root,
        "cargo",
        &[
            "clippy",
            "--target",
            "wasm32-unknown-unknown",
            "--all-targets",
            "-p",
            "flash-web",
            "-p",
            "flash-api",
            "-p",
            "flash-core",
            "-p",
            "flash-browser",
            "-p",
            "flash-kdf-worker",
            "-p",
            "flash-engine-worker",
            "--",
            "-D",
            "warnings",
        ],
    )
    .run()?;
    cmd(
        root,
        "cargo",
        &[
            "clippy",
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            "flash-browser",
            "--no-default-features",
            "--",
            "-D",
            "warnings",
        ],
    )
    .run()?;

    sh::step("native tests");
    let mut args = vec!["test"];
    args.extend(native);
    cmd(root, "cargo", &args).run()?;
    locales::check(root)?;

    sh::step("fuzz (briefly, from the committed corpus; `cargo xtask fuzz` for long runs)");
    fuzz(root, &["--secs".to_string(), "3".to_string()])?;

    sh::step("browser tests (wasm-bindgen-test, headless Chromium)");
    cmd(
        root,
        "cargo",
        &[
            "test",
            "--target",
            "wasm32-unknown-unknown",
            "-p",
            "flash-browser",
        ],
    )
    .env("WASM_BINDGEN_TEST_TIMEOUT", "120")
    .run()?;

    sh::step("end-to-end tests (Playwright, headless Chromium, local stack)");
    dist::build(root)?;
    let sandbox = build_sandbox(root)?;
    cmd(
        root,
        "node",
        &[
            "--test",
            "--test-concurrency=1",
            "--test-timeout=180000",
            "tests/e2e/",
        ],
    )
    .env("FLASH_SANDBOX_BIN", &sandbox.to_string_lossy())
    .env("FLASH_DIST", &root.join("dist").to_string_lossy())
    .run()?;

    println!(
        "\nxtask: every test passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn bench(root: &Path) -> Result<(), Failed> {
    setup::all(root)?;
    dist::build(root)?;
    print_code_by_crate(root);
    let sandbox = build_sandbox(root)?;
    cmd(root, "node", &["tests/bench/bench.mjs"])
        .env("FLASH_SANDBOX_BIN", &sandbox.to_string_lossy())
        .env("FLASH_DIST", &root.join("dist").to_string_lossy())
        .run()
}

#[cfg(test)]
mod engine_crates_tests {
    use super::engine_crates;

    #[test]
    fn engine_crates_are_spotted_and_others_pass() {
        let tree = "flash-api v0.1.0 (/r)\nserde v1.0.0\ncdk-common v0.18.3\nbitcoin_hashes v0.14.0\nbitcoin v0.32.7\nsecp256k1 v0.29.1\n";
        assert_eq!(
            engine_crates(tree),
            vec!["cdk-common v0.18.3", "bitcoin v0.32.7", "secp256k1 v0.29.1"]
        );
    }
}

#[cfg(test)]
mod target_dir_tests {
    use super::target_dir_from;
    use std::path::Path;

    #[test]
    fn cargo_target_dir_is_honoured() {
        let root = Path::new("/repo");
        assert_eq!(target_dir_from(root, None), Path::new("/repo/target"));
        assert_eq!(
            target_dir_from(root, Some("".into())),
            Path::new("/repo/target")
        );
        assert_eq!(
            target_dir_from(root, Some("/shared/t".into())),
            Path::new("/shared/t")
        );
        assert_eq!(
            target_dir_from(root, Some("out".into())),
            Path::new("/repo/out")
        );
    }
}
