//! The view types the UI renders: plain data, no behaviour, no cdk. The engine builds them;
//! they are what a reply carries across to the page.

use serde::{Deserialize, Serialize};

use crate::errors::EcashError;

/// What the app shows about a mint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintView {
    /// The mint's address.
    pub url: String,
    /// Its name, when it gives one.
    pub name: Option<String>,
    /// Short description.
    pub description: Option<String>,
    /// Message of the day.
    pub motd: Option<String>,
    /// Contact methods and addresses.
    pub contact: Vec<(String, String)>,
    /// NUT numbers it says it supports.
    pub nuts: Vec<u8>,
    /// Spendable balance held at this mint.
    pub balance: u64,
    /// Reserved or pending (sent, not yet claimed; melts in flight).
    pub pending: u64,
    /// Input fee of its active keyset, in parts per thousand per proof.
    pub input_fee_ppk: u64,
}

/// A Lightning invoice to receive eCash with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceView {
    /// Mint that issues.
    pub mint: String,
    /// Quote id at the mint.
    pub quote_id: String,
    /// BOLT11 invoice to pay.
    pub request: String,
    /// Amount in sat.
    pub amount: u64,
    /// Unix seconds.
    pub expiry: u64,
}

/// A Lightning payment about to be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeltPreview {
    /// Paying mint.
    pub mint: String,
    /// Melt quote id.
    pub quote_id: String,
    /// Invoice amount in sat.
    pub amount: u64,
    /// Most the routing fee can be; the unused part comes back as change.
    pub fee_reserve: u64,
    /// Invoice description.
    pub description: Option<String>,
    /// Invoice expiry, unix seconds.
    pub expiry: u64,
}

/// What Flash reads from a BOLT11 invoice before asking a mint to pay it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadInvoice {
    /// The invoice text without a `lightning:` prefix.
    pub text: String,
    /// Amount in millisatoshi.
    pub amount_msat: u64,
    /// Its description, when given directly (not as a hash).
    pub description: Option<String>,
    /// When it expires, unix seconds (`u64::MAX` when it is set beyond any clock).
    pub expiry: u64,
}

/// A Lightning payment that went through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paid {
    /// Amount paid.
    pub amount: u64,
    /// Fee actually paid.
    pub fee: u64,
    /// Proof of payment.
    pub preimage: Option<String>,
}

/// A token about to be received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenView {
    /// Issuing mint.
    pub mint: String,
    /// Total value in sat.
    pub amount: u64,
    /// Sender's memo.
    pub memo: Option<String>,
    /// Whether this wallet already uses the mint. Receiving from a new mint needs the user's
    /// yes (a stranger's token must not silently add a mint Flash then talks to at every
    /// unlock).
    pub mint_known: bool,
    /// Whether every proof carries its DLEQ proof (NUT-12), so it can be checked without the
    /// mint. Tokens without it are still received online (the mint's swap is the proof).
    pub offline_proof: bool,
}

/// Lock a token to a receiver's key (NUT-11 P2PK).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lock {
    /// The receiver: `npub1…`, or a hex public key (33-byte compressed or 32-byte x-only).
    pub to: String,
    /// After this many seconds the token can also be taken back with our own key.
    pub refund_after_secs: Option<u64>,
}

/// What receiving a token did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// Sats received (after the mint's fees when redeemed).
    pub amount: u64,
    /// False: the mint was unreachable; the token was verified offline and kept, and is
    /// redeemed when the mint answers (shown apart from the spendable balance until then).
    pub redeemed: bool,
    /// Whether the token carried DLEQ proofs (false: accepted on the mint's word alone).
    pub offline_proof: bool,
}

/// A token made to send.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentToken {
    /// The encoded token (`cashuB…`).
    pub token: String,
    /// Amount in sat.
    pub amount: u64,
    /// Fee the receiver will pay to redeem (input fees).
    pub fee: u64,
}

/// One line of history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryItem {
    /// Stable id.
    pub id: String,
    /// Money in (true) or out.
    pub incoming: bool,
    /// Amount in sat.
    pub amount: u64,
    /// Fee in sat.
    pub fee: u64,
    /// Mint.
    pub mint: String,
    /// "pending", "completed", "failed"…
    pub status: String,
    /// Unix seconds.
    pub time: u64,
    /// Memo, if any.
    pub memo: Option<String>,
    /// What kind of operation: "lightning", "ecash".
    pub kind: String,
}

/// An unfinished operation and what can be done with it. Its `Debug` leaves the token out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingItem {
    /// Operation id (saga id or send id).
    pub id: String,
    /// "send", "receive", "mint", "melt", "swap".
    pub kind: String,
    /// Amount in sat.
    pub amount: u64,
    /// Mint.
    pub mint: String,
    /// Unix seconds when it started.
    pub since: u64,
    /// Whether one tap can take the money back (an unclaimed sent token).
    pub reclaimable: bool,
    /// A locked token to hand over (again): made, not yet claimed by its receiver.
    pub token: Option<String>,
}

impl std::fmt::Debug for PendingItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingItem")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("amount", &self.amount)
            .field("mint", &self.mint)
            .field("since", &self.since)
            .field("reclaimable", &self.reclaimable)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .finish()
    }
}

/// Outcome of start-up recovery.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovered {
    /// Operations finished or rolled back.
    pub resolved: usize,
    /// Operations left for later (mint unreachable).
    pub deferred: usize,
    /// Sats minted from invoices paid while the app was closed.
    pub minted: u64,
    /// Mints where something was left for later (a mint did not answer or refused, or a
    /// payment there is still in flight), in order: the UI names them instead of failing
    /// the unlock.
    pub waiting_on: Vec<String>,
}

/// History as CSV (RFC 4180 quoting), for export.
pub fn history_csv(items: &[HistoryItem]) -> String {
    fn q(s: &str) -> String {
        // A cell starting with = + - @ (or tab/CR) is a formula to spreadsheets: a memo from a
        // stranger must never run as one (OWASP "CSV injection"), so it is prefixed with '.
        let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{s}")
        } else {
            s.to_string()
        };
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s
        }
    }
    let mut out = String::from("time_unix,direction,kind,amount_sat,fee_sat,mint,status,memo\r\n");
    for i in items {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\r\n",
            i.time,
            if i.incoming { "in" } else { "out" },
            i.kind,
            i.amount,
            i.fee,
            q(&i.mint),
            q(&i.status),
            q(i.memo.as_deref().unwrap_or(""))
        ));
    }
    out
}

/// A saved token that could not be redeemed for good: kept (never deleted) with the reason,
/// so the user can see it, copy it and try it elsewhere. Its `Debug` leaves the token out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedToken {
    /// Stable id (hash of the token).
    pub id: String,
    /// Its mint.
    pub mint: String,
    /// Its face value in sat.
    pub amount: u64,
    /// Why it failed, as the error the user would have seen.
    pub reason: EcashError,
    /// The token itself, to copy.
    pub token: String,
}

impl std::fmt::Debug for FailedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailedToken")
            .field("id", &self.id)
            .field("mint", &self.mint)
            .field("amount", &self.amount)
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}

/// What the browser needs to ask the passkey for its PRF output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyRequest {
    /// The WebAuthn credential id.
    pub credential_id: Vec<u8>,
    /// The PRF input (`eval.first`).
    pub prf_salt: Vec<u8>,
}

impl std::fmt::Debug for SentToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is bearer money: never printed.
        f.debug_struct("SentToken")
            .field("amount", &self.amount)
            .field("fee", &self.fee)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Views cross the page/worker boundary as messages: each survives the trip unchanged,
    /// and a locked token does not show in `Debug`.
    #[test]
    fn views_survive_serialization() {
        let item = PendingItem {
            id: "locked-1".into(),
            kind: "locked".into(),
            amount: 100,
            mint: "https://mint.example".into(),
            since: 1,
            reclaimable: false,
            token: Some("cashuBsecret".into()),
        };
        let text = serde_json::to_string(&item).unwrap();
        assert_eq!(serde_json::from_str::<PendingItem>(&text).unwrap(), item);
        assert!(!format!("{item:?}").contains("cashuBsecret"));
        let recovered = Recovered {
            resolved: 1,
            deferred: 2,
            minted: 3,
            waiting_on: vec!["https://mint.example".into()],
        };
        let text = serde_json::to_string(&recovered).unwrap();
        assert_eq!(serde_json::from_str::<Recovered>(&text).unwrap(), recovered);
    }
}
