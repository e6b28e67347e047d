//! Outside input that once crashed or fooled the wallet (issue 8), kept as regression tests.
//! A panic in the browser aborts the wasm instance, so "returns an error" is the bar.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use bitcoin::hashes::{sha256, Hash};
use bitcoin::secp256k1::{Secp256k1, SecretKey};
use cdk::lightning_invoice::{Currency, InvoiceBuilder, PaymentSecret};
use flash_core::ecash::purse::{history_csv, read_invoice, HistoryItem};
use flash_core::ecash::EcashError;

/// A real signed mainnet invoice with the given expiry (seconds) and timestamp.
fn invoice(expiry_secs: u64, timestamp: u64) -> String {
    let key = SecretKey::from_slice(&[0x42; 32]).unwrap();
    InvoiceBuilder::new(Currency::Bitcoin)
        .description("coffee".into())
        .payment_hash(sha256::Hash::hash(b"preimage"))
        .payment_secret(PaymentSecret([7; 32]))
        .duration_since_epoch(Duration::from_secs(timestamp))
        .min_final_cltv_expiry_delta(144)
        .amount_milli_satoshis(100_000)
        .expiry_time(Duration::from_secs(expiry_secs))
        .build_signed(|h| Secp256k1::new().sign_ecdsa_recoverable(h, &key))
        .unwrap()
        .to_string()
}

const NOW: u64 = 1_764_000_000;

#[test]
fn an_invoice_with_the_largest_expiry_is_read_without_overflow() {
    // Finding 2: expiry 2^64-1 made `timestamp + expiry` panic in the melt preview.
    let text = invoice(u64::MAX, NOW - 10);
    let read = read_invoice(&text, NOW).unwrap();
    assert_eq!(read.amount_msat, 100_000);
    assert_eq!(read.expiry, u64::MAX, "beyond any clock, not wrapped");
    // The same invoice from the committed corpus (also a fuzz seed).
    let corpus = include_str!("corpus/bolt11/expiry-u64-max.txt").trim();
    assert!(read_invoice(corpus, NOW).is_ok());
}

#[test]
fn invoice_edge_cases_are_errors_not_panics() {
    assert_eq!(
        read_invoice(&invoice(60, NOW - 120), NOW),
        Err(EcashError::InvoiceExpired)
    );
    let ok = read_invoice(&format!("lightning:{}", invoice(3600, NOW)), NOW).unwrap();
    assert_eq!(ok.expiry, NOW + 3600);
    assert_eq!(ok.description.as_deref(), Some("coffee"));
    for junk in [
        "",
        "lnbc",
        "lnbc1",
        "lightning:",
        "lnbc1qqqq",
        "\u{0}\u{ffff}",
        "LNBC1PVJLUEZ",
    ] {
        assert!(read_invoice(junk, NOW).is_err(), "{junk:?}");
    }
}

#[test]
fn csv_export_never_writes_a_spreadsheet_formula() {
    // Finding 16: a memo from a stranger must not run as a formula when the CSV is opened.
    let item = |memo: &str| HistoryItem {
        id: "1".into(),
        incoming: true,
        amount: 1,
        fee: 0,
        mint: "https://m".into(),
        status: "completed".into(),
        time: 0,
        memo: Some(memo.into()),
        kind: "ecash".into(),
    };
    for memo in ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tx"] {
        let csv = history_csv(&[item(memo)]);
        let last = csv
            .lines()
            .nth(1)
            .unwrap()
            .rsplit(',')
            .next()
            .unwrap()
            .to_string();
        let cell = last.trim_start_matches('"');
        assert!(cell.starts_with('\''), "{memo:?} -> {csv:?}");
    }
    let plain = history_csv(&[item("lunch, with \"Bob\"")]);
    assert!(plain.contains("\"lunch, with \"\"Bob\"\"\""), "{plain}");
}
