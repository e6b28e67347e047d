//! Checks the translations: every key the UI uses (`tr!("…")`, `t_now!("…")`) exists in every
//! locale file, and every locale has the same keys as English. rust-i18n shows a raw key when one
//! is missing; this makes that a test failure instead of a user-visible bug.

use std::collections::BTreeSet;
use std::path::Path;

use crate::sh::{step, Failed};

/// Flattens a simple nested YAML map (two-space indentation, `key: value`) into dotted keys.
fn keys_of(yaml: &str) -> BTreeSet<String> {
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut out = BTreeSet::new();
    for line in yaml.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let Some((key, value)) = line.trim().split_once(':') else {
            continue;
        };
        while path.last().is_some_and(|(i, _)| *i >= indent) {
            path.pop();
        }
        let full: Vec<&str> = path.iter().map(|(_, k)| k.as_str()).chain([key]).collect();
        if value.trim().is_empty() {
            path.push((indent, key.to_string()));
        } else {
            out.insert(full.join("."));
        }
    }
    out
}

/// Keys used in Rust sources through the i18n macros.
fn used_keys(src: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for mac in ["tr!(\"", "t_now!(\"", "t!(\""] {
        for (i, _) in src.match_indices(mac) {
            // `t!(` only as its own identifier (not the tail of `format!(`).
            let before = src[..i].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &src[i + mac.len()..];
            if let Some(end) = rest.find('"') {
                out.insert(rest[..end].to_string());
            }
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Fails naming each missing key and the file that lacks it.
pub fn check(root: &Path) -> Result<(), Failed> {
    step("translations");
    let mut locales = Vec::new();
    for entry in std::fs::read_dir(root.join("locales"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let p = entry.path();
        let text =
            std::fs::read_to_string(&p).map_err(|e| Failed(format!("{}: {e}", p.display())))?;
        locales.push((
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            keys_of(&text),
        ));
    }
    let english = locales
        .iter()
        .find(|(n, _)| n == "en.yml")
        .map(|(_, k)| k.clone())
        .ok_or_else(|| Failed("locales/en.yml is missing".into()))?;
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut problems = Vec::new();
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap_or_default();
        for key in used_keys(&src) {
            if !english.contains(&key) {
                problems.push(format!(
                    "{} uses {key:?}, missing from locales/en.yml",
                    f.display()
                ));
            }
        }
    }
    for (name, keys) in &locales {
        for missing in english.difference(keys) {
            problems.push(format!("locales/{name} lacks {missing:?}"));
        }
    }
    if problems.is_empty() {
        println!(
            "{} keys, {} locale(s): complete",
            english.len(),
            locales.len()
        );
        Ok(())
    } else {
        Err(Failed(problems.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_nested_keys() {
        let k = keys_of("app:\n  name: Flash\nnav:\n  home: Wallet\n  sub:\n    deep: x\ntop: y\n");
        let v: Vec<&str> = k.iter().map(String::as_str).collect();
        assert_eq!(v, ["app.name", "nav.home", "nav.sub.deep", "top"]);
    }

    #[test]
    fn finds_keys_used_by_the_macros() {
        let k = used_keys(
            r#"view! { {tr!("nav.home")} } let s = t_now!("a.b"); rust_i18n::t!("c.d", n = 1); format!("{x}")"#,
        );
        let v: Vec<&str> = k.iter().map(String::as_str).collect();
        assert_eq!(v, ["a.b", "c.d", "nav.home"]);
    }

    #[test]
    fn the_app_s_translations_are_complete() {
        check(&crate::workspace_root()).unwrap();
    }
}
