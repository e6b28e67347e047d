//! Where the bytes of a wasm module go, by crate: the code section's function bodies, each
//! credited to the crate its (demangled) name starts with, from the module's `name` section.
//! `cargo xtask bench` prints the top of this list for the app's module as wasm-bindgen wrote
//! it (before wasm-opt, which drops the names; shares hold roughly after it). This does what
//! `twiggy top` grouped by crate would, without installing twiggy.

use std::collections::HashMap;

/// Reads an unsigned LEB128 at `*at`, moving past it; `None` past the end.
fn leb(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f).checked_shl(shift)?;
        if byte < 0x80 {
            return Some(value);
        }
        shift += 7;
    }
}

fn usize_leb(bytes: &[u8], at: &mut usize) -> Option<usize> {
    leb(bytes, at).and_then(|v| usize::try_from(v).ok())
}

/// The crate a function name belongs to: the first path segment, looking through `<`, `&`,
/// `dyn`, and `<T as trait>` to the trait's crate when the type is generic.
pub fn crate_of(name: &str) -> String {
    let segment = |text: &str| -> Option<String> {
        let t = text.trim_start_matches(['<', '&', '(', '[']);
        let t = t.trim_start_matches("mut ").trim_start_matches("dyn ");
        let end = t.find("::")?;
        let first = &t[..end];
        let first = first.split('[').next().unwrap_or(first);
        (!first.is_empty()
            && first
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
        .then(|| first.to_string())
    };
    if name.starts_with("rustsecp256k1") {
        return "secp256k1-sys (C)".into();
    }
    segment(name)
        .or_else(|| name.split_once(" as ").and_then(|(_, t)| segment(t)))
        .unwrap_or_else(|| "(unnamed)".into())
}

/// Code bytes per crate, largest first, or `None` if `wasm` cannot be read.
pub fn by_crate(wasm: &[u8]) -> Option<Vec<(String, usize)>> {
    if wasm.get(..4)? != b"\0asm" {
        return None;
    }
    let mut at = 8;
    let mut imported = 0usize;
    let mut bodies: Vec<usize> = Vec::new();
    let mut names: HashMap<usize, String> = HashMap::new();
    while at < wasm.len() {
        let id = *wasm.get(at)?;
        at += 1;
        let size = usize_leb(wasm, &mut at)?;
        let start = at;
        let end = start.checked_add(size)?;
        let section = wasm.get(start..end)?;
        let mut p = 0;
        match id {
            2 => {
                // Imports: count the functions, which come first in the index space.
                for _ in 0..usize_leb(section, &mut p)? {
                    for _ in 0..2 {
                        let len = usize_leb(section, &mut p)?;
                        p = p.checked_add(len)?;
                    }
                    let kind = *section.get(p)?;
                    p += 1;
                    match kind {
                        0 => {
                            usize_leb(section, &mut p)?;
                            imported += 1;
                        }
                        1 => {
                            p += 1;
                            let flags = usize_leb(section, &mut p)?;
                            usize_leb(section, &mut p)?;
                            if flags & 1 == 1 {
                                usize_leb(section, &mut p)?;
                            }
                        }
                        2 => {
                            let flags = usize_leb(section, &mut p)?;
                            usize_leb(section, &mut p)?;
                            if flags & 1 == 1 {
                                usize_leb(section, &mut p)?;
                            }
                        }
                        3 => p += 2,
                        4 => {
                            p += 1;
                            usize_leb(section, &mut p)?;
                        }
                        _ => return None,
                    }
                }
            }
            10 => {
                for _ in 0..usize_leb(section, &mut p)? {
                    let before = p;
                    let len = usize_leb(section, &mut p)?;
                    p = p.checked_add(len)?;
                    bodies.push(p - before);
                }
            }
            0 => {
                let len = usize_leb(section, &mut p)?;
                if section.get(p..p.checked_add(len)?)? == b"name" {
                    p += len;
                    while p < section.len() {
                        let sub = *section.get(p)?;
                        p += 1;
                        let sub_len = usize_leb(section, &mut p)?;
                        let sub_end = p.checked_add(sub_len)?;
                        if sub == 1 {
                            let mut q = p;
                            for _ in 0..usize_leb(section, &mut q)? {
                                let index = usize_leb(section, &mut q)?;
                                let len = usize_leb(section, &mut q)?;
                                let text = section.get(q..q.checked_add(len)?)?;
                                q += len;
                                names.insert(index, String::from_utf8_lossy(text).into_owned());
                            }
                        }
                        p = sub_end;
                    }
                }
            }
            _ => {}
        }
        at = end;
    }
    let mut sizes: HashMap<String, usize> = HashMap::new();
    for (i, size) in bodies.iter().enumerate() {
        let name = names.get(&(imported + i)).map(String::as_str).unwrap_or("");
        *sizes.entry(crate_of(name)).or_default() += size;
    }
    let mut out: Vec<(String, usize)> = sizes.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_credited_to_their_crate() {
        assert_eq!(crate_of("cdk::wallet::Wallet::send::h12"), "cdk");
        assert_eq!(
            crate_of("<cdk_common::error::Error as core::fmt::Display>::fmt"),
            "cdk_common"
        );
        assert_eq!(crate_of("<T as tachys::view::Render>::build"), "tachys");
        assert_eq!(
            crate_of("<&mut serde_json::de::Deserializer<R>>::x"),
            "serde_json"
        );
        assert_eq!(crate_of("core[c5930c85a12de82]::fmt::write"), "core");
        assert_eq!(
            crate_of("rustsecp256k1_v0_10_0_ecmult"),
            "secp256k1-sys (C)"
        );
        assert_eq!(crate_of(""), "(unnamed)");
    }

    #[test]
    fn a_tiny_module_is_read_and_garbage_is_refused() {
        // (module (func $a) (func $b)) with a name section naming them.
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend([1, 4, 1, 0x60, 0, 0]); // type section: one () -> ()
        m.extend([3, 3, 2, 0, 0]); // two functions of type 0
        m.extend([10, 7, 2, 2, 0, 0x0b, 2, 0, 0x0b]); // two empty bodies
        let mut names = b"\x04name".to_vec();
        let sub = b"\x02\x00\x08cdk::a_f\x01\x09flash::bf".to_vec();
        names.push(1);
        names.push(sub.len() as u8);
        names.extend(&sub);
        m.push(0);
        m.push(names.len() as u8);
        m.extend(&names);
        let sizes = by_crate(&m).expect("readable");
        assert_eq!(
            sizes,
            vec![("cdk".to_string(), 3), ("flash".to_string(), 3)]
        );
        assert_eq!(by_crate(b"not wasm"), None);
        assert_eq!(by_crate(&m[..m.len() - 3]), None);
    }

    /// `cargo test -p xtask -- --ignored --nocapture`: the list for the last release build.
    #[test]
    #[ignore = "needs a release build of the app"]
    fn print_the_apps_list() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let wasm = std::fs::read(root.join("target/wasm-bindgen/release/flash-web_bg.wasm"))
            .expect("a release build");
        for (name, bytes) in by_crate(&wasm).expect("readable").iter().take(20) {
            println!("{bytes:>9} {name}");
        }
    }
}
