//! What can go wrong moving eCash, in words a person can act on. cdk's errors are many and
//! technical; each is mapped once, here.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why an eCash operation failed. Unless a variant says otherwise, nothing was changed.
#[derive(Debug, Error, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EcashError {
    /// The text is not a mint address.
    #[error("that is not a mint address; it should look like https://mint.example.com")]
    BadMintUrl,
    /// The mint could not be reached (offline, down, blocked).
    #[error("the mint could not be reached ({0}); check your connection and try again — your balance is unchanged")]
    Unreachable(String),
    /// The wallet does not know this mint yet.
    #[error("add this mint first (Settings → Mints)")]
    UnknownMint,
    /// The mint still holds this wallet's money.
    #[error("this mint still holds {0} sat of yours; send or pay it out first, or confirm removal to forget it")]
    MintHasBalance(u64),
    /// Not enough spendable eCash at that mint.
    #[error("not enough funds at this mint for that amount plus fees")]
    InsufficientFunds,
    /// Offline, the coins held cannot make the exact amount; these amounts they can make.
    #[error("offline, only exact coins can be sent, and they cannot make that amount; amounts possible now: {}", .0.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", "))]
    OfflineAmounts(Vec<u64>),
    /// Zero or absurd amounts.
    #[error("enter an amount of at least 1 sat")]
    BadAmount,
    /// The pasted text is not a Cashu token.
    #[error(
        "this is not a Cashu token (it should start with cashuA or cashuB); copy it again in full"
    )]
    BadToken,
    /// The token's proofs were already redeemed.
    #[error("this token has already been claimed; nothing was added")]
    TokenSpent,
    /// The token is being spent right now elsewhere.
    #[error("this token is being spent somewhere else right now; try again in a minute")]
    TokenPending,
    /// The token is in another unit than sat.
    #[error("this token is not in sats; Flash holds sats only for now")]
    UnsupportedUnit,
    /// The mint's signatures on a token do not check out.
    #[error("this token's signatures do not match its mint's keys; it may be forged — do not accept it as payment")]
    BadSignature,
    /// The token is from a mint this wallet does not use: the user must agree to add it.
    #[error("this token is from a mint you don't use: {0}. Add it and receive?")]
    NewMint(String),
    /// The token has no DLEQ proofs, so it cannot be checked offline: it needs its mint.
    #[error("this token has no offline proof (DLEQ), so it can only be received while its mint is reachable; try again when you are online — nothing was changed")]
    NeedsMint,
    /// The token is locked to a key this wallet does not hold.
    #[error("this token is locked to someone else's key; only they can claim it")]
    LockedToOther,
    /// The lock key is not an npub or a public key.
    #[error("lock to an npub (npub1…) or a hex public key; that text is neither")]
    BadLockKey,
    /// The text is not a Lightning invoice.
    #[error("this is not a Lightning invoice (it should start with lnbc); copy it again in full")]
    BadInvoice,
    /// The invoice is for testnet/regtest/signet.
    #[error("this invoice is for a test network, not Bitcoin; ask for a mainnet invoice")]
    WrongNetwork,
    /// The invoice has expired.
    #[error("this invoice has expired; ask the recipient for a new one")]
    InvoiceExpired,
    /// An invoice with no amount.
    #[error("this invoice has no amount; ask the recipient for one with an amount")]
    InvoiceWithoutAmount,
    /// The Lightning payment was not made; the funds are back.
    #[error("the payment failed and your funds are back: {0}")]
    PaymentFailed(String),
    /// The payment is still in flight; it is tracked under Pending.
    #[error("the mint has not confirmed the payment (it may be unreachable); the funds are held under Pending, Flash keeps checking, and your balance updates by itself when it settles or fails")]
    PaymentPending,
    /// Offline sends use coins as they are; a locked token needs new ones from the mint.
    #[error("a locked token is made by its mint, so it cannot be made offline; send it while online, or send it unlocked")]
    LockNeedsMint,
    /// A locked token's swap was sent but not answered; recovery finishes it.
    #[error("the mint has not answered yet; the locked token is held under Pending and appears there once the mint answers")]
    SendPending,
    /// The invoice was not paid before it expired.
    #[error("the invoice expired before it was paid; nothing was received")]
    QuoteExpired,
    /// Storage refused to save (full disk, locked wallet).
    #[error("saving failed and nothing was changed: {0}")]
    Storage(String),
    /// Anything else cdk reports; shown with cdk's text.
    #[error("the mint operation failed: {0}")]
    Other(String),
}

impl EcashError {
    /// A short stable code for the final reasons a saved token can fail with (stored with the
    /// token in the "could not redeem" list).
    pub fn code(&self) -> &'static str {
        match self {
            Self::TokenSpent => "spent",
            Self::BadSignature => "forged",
            Self::LockedToOther => "locked",
            _ => "other",
        }
    }

    /// The error a stored [`EcashError::code`] stands for.
    pub fn from_code(code: &str) -> Self {
        match code {
            "spent" => Self::TokenSpent,
            "forged" => Self::BadSignature,
            "locked" => Self::LockedToOther,
            other => Self::Other(other.to_string()),
        }
    }
}
