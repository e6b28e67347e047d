//! Running commands with the tool paths xtask installs, and failing with a message that says
//! which step broke.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A failed step, with what to do about it.
#[derive(Debug)]
pub struct Failed(pub String);

/// Prints a step banner.
pub fn step(name: &str) {
    println!("\n=== {name} ===");
}

/// PATH with cargo's bin dir (trunk, wasm-bindgen) and node_modules/.bin (wasm-opt) first.
pub fn tool_path(root: &Path) -> String {
    let mut dirs: Vec<PathBuf> = vec![root.join("node_modules/.bin")];
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    } else if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    let current = std::env::var_os("PATH").unwrap_or_default();
    dirs.extend(std::env::split_paths(&current));
    std::env::join_paths(dirs)
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|_| current.to_string_lossy().into_owned())
}

/// A command about to run in `dir`.
pub struct Cmd {
    inner: Command,
    shown: String,
}

/// Prepares `program args…` in `dir` with the tool PATH.
pub fn cmd(dir: &Path, program: &str, args: &[&str]) -> Cmd {
    let mut inner = Command::new(program);
    inner
        .args(args)
        .current_dir(dir)
        .env("PATH", tool_path(dir));
    Cmd {
        inner,
        shown: format!("{program} {}", args.join(" ")),
    }
}

impl Cmd {
    /// Adds an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.inner.env(key, value);
        self
    }

    /// Runs with inherited output; non-zero exit is a failure naming the command.
    pub fn run(mut self) -> Result<(), Failed> {
        println!("$ {}", self.shown);
        let status = self
            .inner
            .status()
            .map_err(|e| Failed(format!("could not start `{}`: {e}", self.shown)))?;
        if status.success() {
            Ok(())
        } else {
            Err(Failed(format!("`{}` failed ({status})", self.shown)))
        }
    }

    /// Runs quietly and returns stdout, or `None` when the program is missing or fails.
    pub fn output(mut self) -> Option<String> {
        let out = self.inner.output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}
