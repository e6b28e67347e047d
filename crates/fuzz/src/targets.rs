//! The fuzz targets: everything that reads outside input. Each takes raw bytes and must
//! return, whatever they are: a panic here is a frozen wallet in the browser.

use std::str::FromStr;

use flash_core::ecash::purse::{has_dleq, parse_lock_key, parse_token, read_invoice};
use flash_core::store::memory::MemoryStore;
use flash_core::vault::{Kdf, KdfParams, Vault, VaultError};
use zeroize::Zeroizing;

/// A target: its name (also its corpus folder) and the function.
pub type Target = (&'static str, fn(&[u8]));

/// Every target.
pub const TARGETS: &[Target] = &[
    ("token", token),
    ("bolt11", bolt11),
    ("backup", backup),
    ("mint_json", mint_json),
    ("payment_request", payment_request),
    ("lock_key", lock_key),
    ("mnemonic", mnemonic),
];

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// Cashu tokens, V3 and V4, bare or as `cashu:` URIs, and what the app reads from them.
fn token(data: &[u8]) {
    if let Ok(t) = parse_token(&text(data)) {
        let _ = t.value();
        let _ = t.mint_url();
        let _ = t.unit();
        let _ = t.memo();
        let _ = has_dleq(&t);
        let _ = t.to_string();
        let _ = t.token_secrets();
    }
}

/// BOLT11 invoices through the payment preview's reading, at several clocks.
fn bolt11(data: &[u8]) {
    let t = text(data);
    for now in [0, 1_764_000_000, u64::MAX] {
        let _ = read_invoice(&t, now);
    }
}

/// A KDF that derives nothing (the fuzzer must reach the parsing behind it, not wait for
/// Argon2); it still refuses the costs the real one refuses.
struct FakeKdf;

impl Kdf for FakeKdf {
    async fn derive(
        &self,
        _passphrase: &[u8],
        _salt: &[u8],
        params: &KdfParams,
    ) -> Result<Zeroizing<[u8; 32]>, VaultError> {
        let max = KdfParams::MAXIMUM;
        if params.m_kib > max.m_kib || params.t > max.t || params.p > max.p {
            return Err(VaultError::KdfTooCostly {
                max: max.to_string(),
            });
        }
        Ok(Zeroizing::new([7; 32]))
    }
}

/// Backup files, imported into an empty store.
fn backup(data: &[u8]) {
    let _ = futures::executor::block_on(Vault::import_backup(
        MemoryStore::new(),
        data,
        "pass",
        &FakeKdf,
    ));
}

/// A real backup file made with [`FakeKdf`], as a seed that gets past the MAC.
pub fn backup_seed() -> Vec<u8> {
    futures::executor::block_on(async {
        let store = MemoryStore::new();
        let Ok(v) = Vault::create_with(
            store,
            "pass",
            KdfParams::MINIMUM,
            &flash_core::ports::OsRandom,
            &FakeKdf,
            &[(flash_core::store::RECORDS, "mnemonic", b"words")],
        )
        .await
        else {
            return Vec::new();
        };
        v.export_backup(&flash_core::ports::ManualClock::new(1))
            .await
            .unwrap_or_default()
    })
}

/// Mint answers: every response type the wallet reads, and the checks done on keys.
fn mint_json(data: &[u8]) {
    use cdk::nuts::*;
    if let Ok(k) = serde_json::from_slice::<KeysResponse>(data) {
        for ks in k.keysets {
            let _ = ks.verify_id();
        }
    }
    let _ = serde_json::from_slice::<KeysetResponse>(data);
    let _ = serde_json::from_slice::<MintInfo>(data);
    let _ = serde_json::from_slice::<SwapResponse>(data);
    let _ = serde_json::from_slice::<CheckStateResponse>(data);
    let _ = serde_json::from_slice::<RestoreResponse>(data);
    let _ = serde_json::from_slice::<MintResponse>(data);
    let _ = serde_json::from_slice::<MintQuoteBolt11Response<String>>(data);
    let _ = serde_json::from_slice::<MeltQuoteBolt11Response<String>>(data);
    let _ = serde_json::from_slice::<Proof>(data).map(|p| p.y());
}

/// NUT-18 payment requests (`creqA…`).
fn payment_request(data: &[u8]) {
    if let Ok(r) = cdk::nuts::PaymentRequest::from_str(text(data).trim()) {
        let _ = r.to_string();
    }
}

/// The key a token is locked to (npub or hex).
fn lock_key(data: &[u8]) {
    let _ = parse_lock_key(&text(data));
}

/// Recovery words as typed.
fn mnemonic(data: &[u8]) {
    let _ = flash_core::keys::parse(&text(data));
    let _ = flash_core::keys::parse_nsec(&text(data));
}
