//! `cargo xtask fuzz [target] [--secs N] [--execs N]`: a mutation fuzzer on stable Rust for
//! every parser of outside input (cargo-fuzz needs a nightly toolchain, which cannot be had
//! here). Each target starts from its committed corpus (`crates/fuzz/corpus/<target>`), mutates
//! (bit flips, byte edits, inserts, deletes, splices between seeds, chunk repeats), keeps
//! inputs that reach a new outcome class as new seeds, and catches every panic: the input is
//! written to `target/fuzz-findings/<target>/` and the run fails.
#![forbid(unsafe_code)]

mod targets;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// xorshift64*: fast, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INTERESTING: &[&[u8]] = &[
    b"0",
    b"-1",
    b"18446744073709551615",
    b"4294967295",
    b"null",
    b"[]",
    b"{}",
    b"\"\"",
    b"\xff\xff",
    b"\x00",
    b"cashuA",
    b"cashuB",
    b"lnbc",
    b"creqA",
    b"npub1",
    b"nsec1",
    b"=",
];

fn mutate(rng: &mut Rng, input: &[u8], seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(8) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(out.len() + 1);
                out.insert(i, rng.next() as u8);
            }
            3 if !out.is_empty() => {
                let i = rng.below(out.len());
                let n = rng.below(out.len() - i).min(16) + 1;
                out.drain(i..(i + n).min(out.len()));
            }
            4 if !seeds.is_empty() => {
                let other = &seeds[rng.below(seeds.len())];
                let cut = rng.below(out.len() + 1);
                let from = rng.below(other.len() + 1);
                out.truncate(cut);
                out.extend_from_slice(&other[from..]);
            }
            5 if !out.is_empty() => {
                let i = rng.below(out.len());
                let n = rng.below(out.len() - i).min(32) + 1;
                let chunk: Vec<u8> = out[i..(i + n).min(out.len())].to_vec();
                let at = rng.below(out.len() + 1);
                out.splice(at..at, chunk);
            }
            6 => {
                let word = INTERESTING[rng.below(INTERESTING.len())];
                let at = rng.below(out.len() + 1);
                out.splice(at..at, word.iter().copied());
            }
            _ if out.len() > 4 => {
                // Swap two bytes (keeps the alphabet of encodings like bech32 and base64).
                let (i, j) = (rng.below(out.len()), rng.below(out.len()));
                out.swap(i, j);
            }
            _ => {}
        }
    }
    out.truncate(64 * 1024);
    out
}

fn corpus(dir: &Path) -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if let Ok(bytes) = std::fs::read(&p) {
                seeds.push(bytes);
            }
        }
    }
    if seeds.is_empty() {
        seeds.push(Vec::new());
    }
    seeds
}

/// The outcome class of one run: which of a few cheap signals it produced (input length
/// bucket, whether it is UTF-8, how the target's own quick reading went). Inputs reaching a
/// new class become seeds, a crude stand-in for coverage feedback.
fn class(data: &[u8]) -> u64 {
    let len = (usize::BITS - data.len().leading_zeros()) as u64;
    let utf8 = std::str::from_utf8(data).is_ok() as u64;
    let first = data.first().copied().unwrap_or(0) as u64;
    (len << 9) | (utf8 << 8) | first
}

struct Report {
    target: &'static str,
    execs: u64,
    findings: Vec<PathBuf>,
    seeds: usize,
}

fn run(
    target: &'static str,
    f: fn(&[u8]),
    root: &Path,
    budget: Duration,
    max_execs: u64,
) -> Report {
    let mut seeds = corpus(&root.join("crates/fuzz/corpus").join(target));
    if target == "backup" {
        seeds.push(targets::backup_seed());
    }
    let mut seen: HashSet<u64> = seeds.iter().map(|s| class(s)).collect();
    let findings_dir = root.join("target/fuzz-findings").join(target);
    let mut findings = Vec::new();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ target.len() as u64);
    let started = Instant::now();
    let mut execs = 0u64;
    let check = |input: &[u8], findings: &mut Vec<PathBuf>| {
        if std::panic::catch_unwind(|| f(input)).is_err() {
            let _ = std::fs::create_dir_all(&findings_dir);
            let name = format!("crash-{:016x}", {
                let mut h = 0xcbf2_9ce4_8422_2325u64;
                for b in input {
                    h = (h ^ *b as u64).wrapping_mul(0x100_0000_01b3);
                }
                h
            });
            let path = findings_dir.join(name);
            let _ = std::fs::write(&path, input);
            findings.push(path);
        }
    };
    for s in seeds.clone() {
        check(&s, &mut findings);
        execs += 1;
    }
    while started.elapsed() < budget && execs < max_execs && findings.len() < 10 {
        let base = seeds[rng.below(seeds.len())].clone();
        let input = mutate(&mut rng, &base, &seeds);
        check(&input, &mut findings);
        execs += 1;
        if seen.insert(class(&input)) && seeds.len() < 4096 {
            seeds.push(input);
        }
    }
    Report {
        target,
        execs,
        findings,
        seeds: seeds.len(),
    }
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut secs = 10u64;
    let mut max_execs = u64::MAX;
    let mut only: Option<String> = None;
    let mut root = PathBuf::from(".");
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--secs" => {
                secs = args.get(i + 1).and_then(|v| v.parse().ok()).unwrap_or(secs);
                i += 1;
            }
            "--execs" => {
                max_execs = args
                    .get(i + 1)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(max_execs);
                i += 1;
            }
            "--root" => {
                root = args.get(i + 1).map(PathBuf::from).unwrap_or(root);
                i += 1;
            }
            "--list" => {
                for (name, _) in targets::TARGETS {
                    println!("{name}");
                }
                return std::process::ExitCode::SUCCESS;
            }
            name => only = Some(name.to_string()),
        }
        i += 1;
    }
    // Panics are expected findings here: keep their messages short and on stderr.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("  panic: {info}");
    }));
    let mut failed = false;
    let mut ran = 0;
    for (name, f) in targets::TARGETS {
        if only.as_deref().is_some_and(|o| o != *name) {
            continue;
        }
        ran += 1;
        let r = run(name, *f, &root, Duration::from_secs(secs), max_execs);
        println!(
            "fuzz {:<16} {:>10} execs  {:>5} seeds  {} findings",
            r.target,
            r.execs,
            r.seeds,
            r.findings.len()
        );
        for p in &r.findings {
            println!("  finding: {}", p.display());
            failed = true;
        }
    }
    if ran == 0 {
        eprintln!("no fuzz target named {only:?}; `--list` shows them");
        return std::process::ExitCode::from(2);
    }
    if failed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}
