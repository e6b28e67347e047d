//! Why things fail, as kinds with their fields: one error type per module of the engine
//! (storage, randomness, vault, keys, eCash, the engine itself). Each `Display` is a plain
//! sentence for logs and tests; the UI shows its own translated text per kind
//! (`src/errors.rs`). They live here, without cdk, so the page can receive them as messages;
//! core's conversions from cdk's errors are behind the `cdk` feature (the orphan rule wants
//! them beside the type).

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use crate::ecash_error::EcashError;
use crate::passphrase::Weakness;

/// The plain sentence for a refused passphrase (logs and tests; the UI translates its own).
fn weakness_text(w: Weakness) -> &'static str {
    match w {
        Weakness::TooShort => {
            "choose a longer passphrase: at least 10 characters (a few words work well)"
        }
        Weakness::Pattern => {
            "that passphrase is a simple pattern; use a few unrelated words instead"
        }
        Weakness::Common => {
            "that passphrase is one of the most common; choose something only you would pick"
        }
    }
}

/// Why randomness could not be had. Without it no key can be made, so nothing proceeds.
#[derive(Debug, Error, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[error("this device could not produce secure random numbers ({0}); Flash cannot create keys safely here")]
pub struct RandomError(pub String);

/// Why a storage call failed; the UI shows these as they are, so each says what to do.
#[derive(Debug, Error, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum StoreError {
    /// No usable storage (private mode, blocked by settings, quota 0).
    #[error("this browser does not allow Flash to store data here (private mode or blocked storage); open Flash in a normal window to keep a wallet: {0}")]
    Unavailable(String),
    /// Another tab holds the database open at an older version and does not let go, so it
    /// cannot be upgraded (an old copy of Flash, still open somewhere).
    #[error("Flash is still open in another tab with an older version; close or reload that tab, then reload this one")]
    Blocked,
    /// A write did not complete; nothing was changed.
    #[error("saving failed and nothing was changed ({0}); free some space or check the browser's storage settings, then try again")]
    Write(String),
    /// A read failed.
    #[error("reading saved data failed ({0}); reload the app and try again")]
    Read(String),
    /// A table name that is not in the schema: a programming error, caught by the tests.
    #[error("unknown table {0:?}")]
    UnknownTable(String),
}

/// Why words are not a valid recovery phrase, naming what to fix.
#[derive(Debug, Error, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MnemonicError {
    /// A word that is not in the BIP39 English list.
    #[error("word {position} (\"{word}\") is not a recovery word; check its spelling")]
    UnknownWord {
        /// 1-based position.
        position: usize,
        /// The word as typed.
        word: String,
    },
    /// Not 12, 15, 18, 21 or 24 words.
    #[error("a recovery phrase has 12 or 24 words; this has {0}")]
    WordCount(usize),
    /// Every word is valid but the last does not match: a word is wrong or out of order.
    #[error(
        "these words are not a valid recovery phrase (checksum); one word is wrong or out of order"
    )]
    Checksum,
    /// Randomness failed while generating.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// Key derivation failed (cannot happen for valid seeds; reported rather than panicking).
    #[error("key derivation failed: {0}")]
    Derivation(String),
}

/// Why a pasted NOSTR secret key was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NsecError {
    /// Not an `nsec1…` string at all, or a typo broke its checksum.
    #[error("that is not a NOSTR secret key: paste the whole key starting with nsec1 (a typo breaks its checksum)")]
    NotNsec,
    /// An `npub` was pasted where the secret key was asked for.
    #[error(
        "that is a public key (npub); importing needs the secret key, which starts with nsec1"
    )]
    IsNpub,
    /// Decoded, but not a valid secp256k1 secret key.
    #[error("that nsec does not hold a valid key")]
    Invalid,
}

/// What can go wrong with the vault, each worded for the person in front of the screen.
#[derive(Debug, Error, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VaultError {
    /// The passphrase does not open the vault. Nothing changed.
    #[error("that passphrase is not right; nothing was changed, try again")]
    WrongPassphrase,
    /// Too many wrong passphrases in a row: wait before the next try.
    #[error("too many wrong passphrases; wait {wait_secs} s before trying again")]
    TooManyAttempts {
        /// Seconds until the next attempt is allowed.
        wait_secs: u64,
    },
    /// No vault on this device.
    #[error("there is no wallet on this device yet; create one or restore from your words")]
    NoVault,
    /// A vault exists already: creating another would destroy it.
    #[error("a wallet already exists on this device; unlock it, or restore a backup into a fresh browser profile")]
    AlreadyExists,
    /// Stored bytes failed authentication: tampered with, or corrupted.
    #[error("saved data failed its integrity check ({0}); it was not used. Restore from your backup or words if this persists")]
    Tampered(String),
    /// No passkey is set up for this wallet.
    #[error("no passkey is set up for this wallet; unlock with your passphrase")]
    NoPasskey,
    /// KDF parameters below the minimum this app accepts for new keys.
    #[error("key-derivation settings are too weak (need at least {min})")]
    WeakParams {
        /// The minimum, human-readable.
        min: String,
    },
    /// Stored or imported KDF parameters ask for more than Flash will spend (a damaged or
    /// hostile file). Nothing was derived or changed.
    #[error("this wallet data asks for more key-derivation work than Flash allows (at most {max}); it may be damaged or crafted — use another backup or restore from your words")]
    KdfTooCostly {
        /// The maximum, human-readable.
        max: String,
    },
    /// The passphrase KDF failed (out of memory on a small device, usually).
    #[error("deriving the key from the passphrase failed ({0}); close other tabs and try again")]
    Kdf(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Randomness failed.
    #[error(transparent)]
    Random(#[from] RandomError),
}

/// Why a command failed. Each message says what to do; nothing was changed.
#[derive(Debug, Error, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EngineError {
    /// The engine task has ended (page unloading, or a bug): nothing was changed.
    #[error(
        "the wallet engine has stopped; reload the page to start it again (nothing was changed)"
    )]
    Stopped,
    /// The command needs an unlocked wallet.
    #[error("unlock your wallet first")]
    Locked,
    /// The passphrase is too weak to protect money.
    #[error("{}", weakness_text(*.0))]
    WeakPassphrase(Weakness),
    /// The recovery words are not valid.
    #[error(transparent)]
    Mnemonic(#[from] MnemonicError),
    /// The pasted NOSTR key is not valid.
    #[error(transparent)]
    Nsec(#[from] NsecError),
    /// The vault refused.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// Storage is not usable in this browser.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An eCash operation failed.
    #[error(transparent)]
    Ecash(#[from] EcashError),
    /// The engine stopped while this was running (its worker died): it may or may not have
    /// happened. Never said of a request the engine had not started.
    #[error("Flash stopped while this was running, so it may have gone through; reload, then check Activity before trying again")]
    Interrupted,
}
