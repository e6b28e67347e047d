//! The official Cashu NUT test vectors (`tests/vectors/cashu-nuts`, copied with their SOURCE.md
//! from the NUTs repository so a clone alone runs them), read from the files themselves, against
//! the crates Flash's eCash runs on.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::str::FromStr;

use cdk_common::dhke::{blind_message, hash_to_curve, sign_message};
use cdk_common::nuts::{BlindSignature, Id, Proof, PublicKey, SecretKey, Token};
use cdk_common::secret::Secret;

fn vectors(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors/cashu-nuts")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Values of lines `label: value` (value up to the first space or `#`), in file order.
fn values(text: &str, label: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix(label))
        .filter_map(|rest| rest.trim().strip_prefix(':'))
        .map(|v| {
            v.split_whitespace()
                .next()
                .unwrap_or("")
                .trim_matches('"')
                .to_string()
        })
        .collect()
}

/// The fenced blocks of a markdown file, in order.
fn blocks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            match current.take() {
                Some(b) => out.push(b),
                None => current = Some(String::new()),
            }
        } else if let Some(b) = current.as_mut() {
            b.push_str(line);
            b.push('\n');
        }
    }
    out
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn nut00_hash_to_curve_blinding_and_signing() {
    let text = vectors("00-tests.md");
    let messages = values(&text, "Message");
    let points = values(&text, "Point");
    assert_eq!(messages.len(), 3);
    for (m, p) in messages.iter().zip(&points) {
        assert_eq!(
            hash_to_curve(&hex(m)).unwrap().to_hex(),
            *p,
            "hash_to_curve({m})"
        );
    }
    let (xs, rs, bs) = (values(&text, "x"), values(&text, "r"), values(&text, "B_"));
    for i in 0..2 {
        let r = SecretKey::from_hex(&rs[i]).unwrap();
        let (b, _) = blind_message(&hex(&xs[i]), Some(r)).unwrap();
        assert_eq!(b.to_hex(), bs[i], "blinded message {i}");
    }
    let ks = values(&text, "mint private key");
    let cs = values(&text, "C_");
    for i in 0..2 {
        let k = SecretKey::from_hex(&ks[i]).unwrap();
        let b = PublicKey::from_hex(&bs[2 + i]).unwrap();
        assert_eq!(
            sign_message(&k, &b).unwrap().to_hex(),
            cs[i],
            "blind signature {i}"
        );
    }
}

#[test]
fn nut00_tokens_v3_and_v4_decode_and_bad_ones_are_refused() {
    let text = vectors("00-tests.md");
    let tokens: Vec<String> = blocks(&text)
        .iter()
        .flat_map(|b| {
            b.lines()
                .map(str::trim)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|l| l.starts_with("cashu") || l.starts_with("casshu") || l.starts_with("eyJ"))
        .collect();
    let good: Vec<&String> = tokens.iter().filter(|t| t.starts_with("cashu")).collect();
    let bad: Vec<&String> = tokens.iter().filter(|t| !t.starts_with("cashu")).collect();
    assert_eq!(bad.len(), 2, "wrong prefix and no prefix");
    for t in bad {
        assert!(Token::from_str(t).is_err(), "must refuse {}", &t[..10]);
        assert_eq!(
            flash_core::ecash::purse::parse_token(t).unwrap_err(),
            flash_core::ecash::EcashError::BadToken
        );
    }
    assert!(good.len() >= 6);
    for t in &good {
        let token = Token::from_str(t).unwrap_or_else(|e| panic!("{}: {e}", &t[..12]));
        assert!(token.value().unwrap() > cdk_common::Amount::ZERO);
    }
    let v4_single = good
        .iter()
        .find(|t| t.starts_with("cashuBpGF0gaJhaUgArSaMTR9YJm"))
        .unwrap();
    let token = Token::from_str(v4_single).unwrap();
    assert_eq!(
        token.mint_url().unwrap().to_string(),
        "http://localhost:3338"
    );
    assert_eq!(token.memo().as_deref(), Some("Thank you"));
    assert_eq!(u64::from(token.value().unwrap()), 1);
    let v4_multi = good
        .iter()
        .find(|t| t.starts_with("cashuBo2F0gqJhaUgA_9SLj17P"))
        .unwrap();
    assert_eq!(
        u64::from(Token::from_str(v4_multi).unwrap().value().unwrap()),
        4
    );
}

#[test]
fn nut12_dleq_proofs_verify_and_a_forged_one_does_not() {
    let text = vectors("12-tests.md");
    let json: Vec<String> = blocks(&text)
        .into_iter()
        .filter(|b| b.trim_start().starts_with('{'))
        .collect();
    let a = PublicKey::from_hex(&values(&text, "A")[1]).unwrap();
    let b_ = PublicKey::from_hex(&values(&text, "B_")[1]).unwrap();
    let sig: BlindSignature = serde_json::from_str(&json[0]).unwrap();
    sig.verify_dleq(a, b_).unwrap();
    let proof: Proof = serde_json::from_str(&json[1]).unwrap();
    proof.verify_dleq(a).unwrap();
    // A forged signature: another valid point as C with the same DLEQ.
    let mut forged = proof.clone();
    forged.c = b_;
    assert!(forged.verify_dleq(a).is_err());
    // A forged proof of equality.
    let mut bad = json[1].clone();
    bad = bad.replace("b31e58ac", "b31e58ad");
    let bad: Proof = serde_json::from_str(&bad).unwrap();
    assert!(bad.verify_dleq(a).is_err());
}

#[test]
fn nut13_secrets_and_blinding_factors_from_the_mnemonic() {
    let text = vectors("13-tests.md");
    let mnemonic = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("\"mnemonic\": \""))
        .map(|s| s.trim_end_matches('"').to_string())
        .unwrap();
    let seed =
        flash_core::keys::KeyHierarchy::from_mnemonic(&flash_core::keys::parse(&mnemonic).unwrap())
            .cashu_seed();
    let id = Id::from_str("009a1f293253e41e").unwrap();
    for counter in 0..5u32 {
        let want_secret = text
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("\"secret_{counter}\": \"")))
            .unwrap()
            .trim_end_matches([',', '"'])
            .to_string();
        let want_r = text
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("\"r_{counter}\": \"")))
            .unwrap()
            .trim_end_matches([',', '"'])
            .to_string();
        assert_eq!(
            Secret::from_seed(&seed, id, counter).unwrap().to_string(),
            want_secret
        );
        assert_eq!(
            SecretKey::from_seed(&seed, id, counter)
                .unwrap()
                .to_secret_hex(),
            want_r
        );
    }
}
