//! Where the wallet is, as the UI sees it: its state, a status snapshot, the identity it shows,
//! and the events the engine sends unasked.

use serde::{Deserialize, Serialize};

use crate::amount::Sats;

/// Where the wallet is in its life: the UI routes on this (onboarding, unlock, home).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WalletState {
    /// Storage is still opening.
    Starting,
    /// This browser gives us no storage (private mode, blocked): say so plainly.
    Unavailable(String),
    /// No wallet on this device yet: offer create or restore.
    NoWallet,
    /// A wallet exists and its keys are not in memory.
    Locked,
    /// Keys are in memory; money can move.
    Unlocked,
}

/// A snapshot the UI renders.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Life-cycle state.
    pub state: WalletState,
    /// Spendable balance over every mint and account.
    pub balance: Sats,
    /// When this engine started (from the clock port).
    pub started_at_ms: u64,
    /// Mints the last recovery left work at (a mint did not answer, or a payment there is
    /// still in flight): named to the user, retried when the page comes back online or on
    /// "Try again".
    pub waiting_on: Vec<String>,
}

/// Public identifiers derived from the seed, shown in settings and used to receive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// NOSTR public key (NIP-06), `npub1…`.
    pub npub: String,
    /// First BIP84 receive address (mainnet).
    pub bip84_address: String,
    /// Whether the NOSTR key is an imported nsec rather than the one from the words.
    pub nostr_imported: bool,
}

/// What the engine tells every subscriber, unasked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// The status changed (state, balance, or the mints the wallet waits on).
    StatusChanged(Status),
    /// An invoice the engine was watching was paid and its eCash minted (whether or not a
    /// screen was waiting for it).
    InvoicePaid {
        /// The mint that issued it.
        mint: String,
        /// Sats minted.
        sats: Sats,
    },
    /// A write changed the history: a list on screen fetches it again.
    HistoryChanged,
    /// A write changed what is in flight (pending operations, saved or failed tokens).
    PendingChanged,
    /// A write changed the mints or what each holds.
    MintsChanged,
    /// A payment left in flight (the mint had not settled it when Pay gave up waiting)
    /// settled later, found by the engine's own checks.
    PaymentSettled {
        /// The mint that paid.
        mint: String,
        /// The melt quote.
        quote_id: String,
        /// Sats paid to the invoice.
        sats: Sats,
        /// Sats paid in fees.
        fee: Sats,
    },
    /// A payment left in flight failed; its eCash is back in the balance.
    PaymentFailed {
        /// The mint that tried.
        mint: String,
        /// The melt quote.
        quote_id: String,
    },
}

/// How long a lock waits for running eCash jobs before it drops them anyway (their sagas are
/// durable and resume at the next unlock). Every mint request has its own timeout, well below.
pub const LOCK_GRACE_MS: u32 = 45_000;
