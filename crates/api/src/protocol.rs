//! The messages between the page and the engine's worker (issue 9). The page sends
//! [`ToEngine`]; the worker answers each request once, by id, and sends events unasked
//! ([`FromEngine`]). A page and a worker from different builds (an update half-applied) find
//! out at [`ToEngine::Hello`] instead of misreading each other. Both sides encode with
//! [`encode`] / [`decode`] (postcard: compact, no field names on the wire).
//!
//! The variants follow `WalletHandle`'s methods one to one. Where a method takes a sleep
//! function today (`await_invoice`, `pay`), the request does not: the engine owns its time.
//! Secrets travel as [`Secret`], zeroized on drop and never shown by `Debug`.

use serde::{Deserialize, Serialize};

use crate::errors::EngineError;
use crate::status::{Event, Identity, Status};
use crate::views::{
    FailedToken, HistoryItem, InvoiceView, Lock, MeltPreview, MintView, Paid, PasskeyRequest,
    PendingItem, Received, Recovered, SentToken, TokenView,
};

/// Bumped whenever a message changes shape.
pub const VERSION: u16 = 6;

/// A secret on its way across (a passphrase, the words, an nsec, a PRF output, a token
/// being received): zeroized when dropped, `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps `bytes`.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    /// The text, when it is UTF-8 (passphrases, words, nsecs and tokens always are).
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// What the page asks. Each variant is the `WalletHandle` method of the same name, and its
/// fields that method's arguments (documented there).
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    Status,
    NewPhrase {
        words: u8,
    },
    Setup {
        phrase: Secret,
        passphrase: Secret,
    },
    Unlock {
        passphrase: Secret,
    },
    Lock,
    LockNow,
    Identity,
    ExportBackup,
    BackupSaved,
    ImportBackup {
        file: Vec<u8>,
        passphrase: Secret,
    },
    LastBackup,
    ChangePassphrase {
        current: Secret,
        new: Secret,
        keep_passkey: bool,
    },
    SetNsec {
        nsec: Option<Secret>,
    },
    Passkey,
    AddPasskey {
        passphrase: Secret,
        credential_id: Vec<u8>,
        prf_salt: Vec<u8>,
        prf_output: Secret,
    },
    RemovePasskey,
    UnlockWithPasskey {
        prf_output: Secret,
    },
    AddMint {
        url: String,
    },
    RemoveMint {
        url: String,
        force: bool,
    },
    Mints,
    Invoice {
        mint: String,
        sats: u64,
    },
    AwaitInvoice {
        mint: String,
        quote_id: String,
    },
    QuotePayment {
        mint: String,
        invoice: String,
    },
    Pay {
        mint: String,
        quote_id: String,
    },
    SendToken {
        mint: String,
        sats: u64,
        memo: Option<String>,
        offline: bool,
        lock: Option<Lock>,
    },
    LockPubkey,
    InspectToken {
        token: Secret,
    },
    ReceiveToken {
        token: Secret,
        add_new_mint: bool,
    },
    FailedTokens,
    DismissFailed {
        id: String,
    },
    SavedTokens,
    Pending,
    Reclaim {
        mint: String,
        id: String,
    },
    Recover,
    Restore {
        mint: Option<String>,
    },
    History,
}

/// What a request answers with, when it worked: one variant per kind of value the
/// `WalletHandle` methods return (`Done` for `()`).
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer {
    Done,
    Status(Status),
    Phrase(Secret),
    Identity(Identity),
    Backup(Vec<u8>),
    LastBackup(Option<u64>),
    Passkey(Option<PasskeyRequest>),
    Mint(MintView),
    Mints(Vec<MintView>),
    Invoice(InvoiceView),
    Sats(u64),
    Preview(MeltPreview),
    Paid(Paid),
    Sent(SentToken),
    LockPubkey(Option<String>),
    Token(TokenView),
    Received(Received),
    Failed(Vec<FailedToken>),
    /// Tokens kept for when their mint answers: (id, mint, sats).
    Saved(Vec<(String, String, u64)>),
    Pending(Vec<PendingItem>),
    Recovered(Recovered),
    History(Vec<HistoryItem>),
}

/// Page → worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ToEngine {
    /// First message: the page's protocol version.
    Hello {
        /// [`VERSION`] of the page's build.
        version: u16,
    },
    /// A request; its answer carries the same `id`.
    Ask {
        /// Chosen by the page, unique among its open requests.
        id: u32,
        /// What is asked.
        request: Request,
    },
    /// Stop (`true`) or allow again this engine's writes to IndexedDB at once: another tab
    /// took the wallet over and must be the only writer (see `flash_browser::tabs`).
    Fence {
        /// Whether writes are refused.
        on: bool,
    },
    /// The page no longer waits for request `id` (it left the screen that asked): the
    /// engine stops waiting for it too. Work already handed to the engine finishes and is
    /// journalled as always; only the waiting (an invoice poll, a payment poll) ends.
    Cancel {
        /// The request's id.
        id: u32,
    },
}

/// Worker → page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FromEngine {
    /// Answer to `Hello`: the worker's version (the page reloads when it differs).
    Hello {
        /// [`VERSION`] of the worker's build.
        version: u16,
    },
    /// The answer to request `id`.
    Answer {
        /// The request's id.
        id: u32,
        /// What it gave.
        result: Result<Answer, EngineError>,
    },
    /// Something changed (sent unasked).
    Event(Event),
    /// Another engine took the writer lock from this one, whose writes are now refused. A
    /// page that still owns the wallet answers with `Fence { on: false }` (takes it back);
    /// one that lost it lets it be.
    WriterLost,
}

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a message between the page and the engine could not be read: {0}")]
pub struct CodecError(String);

/// The bytes of `message`, in a buffer of exactly their size (measured first, so no growing
/// vector leaves partial copies of a secret behind), zeroized when dropped.
pub fn encode<T: Serialize>(message: &T) -> Result<zeroize::Zeroizing<Vec<u8>>, CodecError> {
    let size = postcard::serialize_with_flavor(message, postcard::ser_flavors::Size::default())
        .map_err(|e| CodecError(e.to_string()))?;
    let mut out = zeroize::Zeroizing::new(vec![0u8; size]);
    postcard::to_slice(message, &mut out).map_err(|e| CodecError(e.to_string()))?;
    Ok(out)
}

/// `bytes` read back, all of them (trailing bytes mean another shape: refused); any input
/// gives a value or an error, never a panic.
pub fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, CodecError> {
    match postcard::take_from_bytes(bytes) {
        Ok((value, [])) => Ok(value),
        Ok(_) => Err(CodecError("trailing bytes".into())),
        Err(e) => Err(CodecError(e.to_string())),
    }
}

/// The id of an `Ask` that does not decode as a whole (a page whose request shape this build
/// does not know), so the engine can still answer it `Stopped` instead of leaving the page
/// waiting for ever. `None` for anything else.
pub fn asked_id(bytes: &[u8]) -> Option<u32> {
    // `ToEngine::Ask` is variant 1; its first field is the id (both varints).
    match postcard::take_from_bytes::<(u32, u32)>(bytes) {
        Ok(((1, id), _)) => Some(id),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn an_unreadable_ask_still_gives_its_id() {
        let mut bytes = encode(&ToEngine::Ask {
            id: 300,
            request: Request::Status,
        })
        .unwrap()
        .to_vec();
        assert_eq!(asked_id(&bytes), Some(300));
        bytes.push(0xff); // now it does not decode as a whole
        assert!(decode::<ToEngine>(&bytes).is_err());
        assert_eq!(asked_id(&bytes), Some(300));
        assert_eq!(
            asked_id(&encode(&ToEngine::Cancel { id: 3 }).unwrap()),
            None
        );
        assert_eq!(asked_id(&[]), None);
    }
    use super::*;

    #[test]
    fn messages_survive_the_trip_and_stay_small() {
        let ask = ToEngine::Ask {
            id: 7,
            request: Request::Unlock {
                passphrase: Secret::new("correct horse battery staple"),
            },
        };
        let bytes = encode(&ask).unwrap();
        assert_eq!(decode::<ToEngine>(&bytes).unwrap(), ask);
        assert!(bytes.len() < 40, "{} bytes", bytes.len());
        assert!(!format!("{ask:?}").contains("horse"), "Debug hides secrets");

        let answer = FromEngine::Answer {
            id: 7,
            result: Err(EngineError::Locked),
        };
        let bytes = encode(&answer).unwrap();
        assert_eq!(decode::<FromEngine>(&bytes).unwrap(), answer);
    }

    /// postcard names variants by position: a variant added anywhere but at the end, or a
    /// field changed, reads as another request in a worker of the other build. Changing the
    /// shape means bumping [`VERSION`] and these bytes together.
    #[test]
    fn the_wire_shape_is_pinned_to_the_version() {
        assert_eq!(VERSION, 6);
        assert_eq!(encode(&Request::Status).unwrap().as_slice(), [0]);
        assert_eq!(
            encode(&Request::RemoveMint {
                url: "u".into(),
                force: true
            })
            .unwrap()
            .as_slice(),
            [18, 1, b'u', 1]
        );
        assert_eq!(encode(&Request::History).unwrap().as_slice(), [35]);
        assert_eq!(
            encode(&Answer::History(vec![])).unwrap().as_slice(),
            [21, 0]
        );
        assert_eq!(
            encode(&ToEngine::Hello { version: 1 }).unwrap().as_slice(),
            [0, 1]
        );
        assert_eq!(
            encode(&ToEngine::Fence { on: true }).unwrap().as_slice(),
            [2, 1]
        );
        assert_eq!(
            encode(&ToEngine::Cancel { id: 300 }).unwrap().as_slice(),
            [3, 172, 2]
        );
        assert_eq!(encode(&FromEngine::WriterLost).unwrap().as_slice(), [3]);
        assert_eq!(encode(&Event::HistoryChanged).unwrap().as_slice(), [2]);
        assert_eq!(
            encode(&Status {
                state: crate::WalletState::Locked,
                balance: crate::Sats(0),
                started_at_ms: 0,
                waiting_on: Vec::new(),
            })
            .unwrap()
            .as_slice(),
            [3, 0, 0, 0]
        );
        assert!(
            decode::<Request>(&[0, 0]).is_err(),
            "trailing bytes refused"
        );
    }

    #[test]
    fn any_bytes_give_a_value_or_an_error_never_a_panic() {
        let mut bytes = [0u8; 12];
        for first in 0..=255u8 {
            for fill in [0u8, 1, 0x7f, 0x80, 0xff] {
                bytes.fill(fill);
                bytes[0] = first;
                for len in 0..bytes.len() {
                    let _ = decode::<ToEngine>(&bytes[..len]);
                    let _ = decode::<FromEngine>(&bytes[..len]);
                }
            }
        }
    }
}
