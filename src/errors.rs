//! Errors as people read them. Every error the UI shows goes through [`UserMessage`], so each
//! has a translated message in `locales/`; the `Display` text of the error types stays as the
//! developer-facing wording (logs, tests, and the fallback for internal failures).

use flash_api::passphrase::Weakness;
use flash_api::{EcashError, EngineError, MnemonicError, NsecError, StoreError, VaultError};

/// A message for the person in front of the screen, in the current language.
pub trait UserMessage {
    /// The translated message.
    fn user_message(&self) -> String;
}

/// The strength hint (also shown live while typing) for a refused passphrase.
pub fn weakness_text(w: Weakness) -> String {
    match w {
        Weakness::TooShort => crate::t_now!("passphrase.too_short"),
        Weakness::Pattern => crate::t_now!("passphrase.pattern"),
        Weakness::Common => crate::t_now!("passphrase.common"),
    }
}

impl UserMessage for StoreError {
    fn user_message(&self) -> String {
        match self {
            StoreError::Unavailable(_) => crate::t_now!("home.no_storage"),
            StoreError::Write(_) => crate::t_now!("errors.storage_write"),
            StoreError::Blocked => crate::t_now!("errors.storage_blocked"),
            StoreError::Read(_) => crate::t_now!("errors.storage_read"),
            StoreError::UnknownTable(_) => self.to_string(),
        }
    }
}

impl UserMessage for VaultError {
    fn user_message(&self) -> String {
        match self {
            VaultError::WrongPassphrase => crate::t_now!("errors.wrong_passphrase"),
            VaultError::TooManyAttempts { wait_secs } => {
                rust_i18n::t!("errors.too_many", secs = wait_secs).into_owned()
            }
            VaultError::NoVault => crate::t_now!("errors.no_vault"),
            VaultError::AlreadyExists => crate::t_now!("errors.already_exists"),
            VaultError::NoPasskey => crate::t_now!("errors.no_passkey"),
            VaultError::Tampered(detail) => {
                rust_i18n::t!("errors.tampered", detail = detail).into_owned()
            }
            VaultError::Store(e) => e.user_message(),
            VaultError::KdfTooCostly { max } => {
                rust_i18n::t!("errors.kdf_too_costly", max = max).into_owned()
            }
            VaultError::WeakParams { .. } | VaultError::Kdf(_) | VaultError::Random(_) => {
                self.to_string()
            }
        }
    }
}

impl UserMessage for MnemonicError {
    fn user_message(&self) -> String {
        match self {
            MnemonicError::UnknownWord { position, word } => {
                rust_i18n::t!("errors.unknown_word", position = position, word = word).into_owned()
            }
            MnemonicError::WordCount(n) => rust_i18n::t!("errors.word_count", n = n).into_owned(),
            MnemonicError::Checksum => crate::t_now!("errors.checksum"),
            MnemonicError::Random(_) | MnemonicError::Derivation(_) => self.to_string(),
        }
    }
}

impl UserMessage for NsecError {
    fn user_message(&self) -> String {
        match self {
            NsecError::NotNsec => crate::t_now!("errors.nsec_not"),
            NsecError::IsNpub => crate::t_now!("errors.nsec_npub"),
            NsecError::Invalid => crate::t_now!("errors.nsec_invalid"),
        }
    }
}

impl UserMessage for EngineError {
    fn user_message(&self) -> String {
        match self {
            EngineError::Stopped => crate::t_now!("errors.stopped"),
            EngineError::Interrupted => crate::t_now!("errors.interrupted"),
            EngineError::Locked => crate::t_now!("errors.locked"),
            EngineError::WeakPassphrase(w) => weakness_text(*w),
            EngineError::Mnemonic(e) => e.user_message(),
            EngineError::Nsec(e) => e.user_message(),
            EngineError::Vault(e) => e.user_message(),
            EngineError::Store(e) => e.user_message(),
            EngineError::Ecash(e) => e.user_message(),
        }
    }
}

impl UserMessage for flash_browser::files::FileError {
    fn user_message(&self) -> String {
        match self {
            Self::Save(_) => crate::t_now!("errors.file_save"),
            Self::Read(_) => crate::t_now!("errors.file_read"),
            Self::TooLarge(size, max) => {
                rust_i18n::t!("errors.file_too_large", size = size, max = max).into_owned()
            }
        }
    }
}

impl UserMessage for flash_browser::passkey::PasskeyError {
    fn user_message(&self) -> String {
        match self {
            Self::Unsupported => crate::t_now!("errors.passkey_unsupported"),
            Self::Failed(detail) => {
                rust_i18n::t!("errors.passkey_failed", detail = detail).into_owned()
            }
        }
    }
}

impl UserMessage for flash_browser::sw::SwError {
    fn user_message(&self) -> String {
        match self {
            Self::Unsupported => crate::t_now!("errors.sw_unsupported"),
            Self::Register(detail) => {
                rust_i18n::t!("errors.sw_register", detail = detail).into_owned()
            }
        }
    }
}

impl UserMessage for EcashError {
    fn user_message(&self) -> String {
        use rust_i18n::t;
        match self {
            Self::BadMintUrl => crate::t_now!("ecash_errors.bad_mint_url"),
            // The detail is for developers (it can hold a JavaScript stack): never shown.
            Self::Unreachable(_) => crate::t_now!("ecash_errors.unreachable"),
            Self::UnknownMint => crate::t_now!("ecash_errors.unknown_mint"),
            Self::MintHasBalance(n) => t!("ecash_errors.mint_has_balance", n = n).into_owned(),
            Self::InsufficientFunds => crate::t_now!("ecash_errors.insufficient"),
            Self::BadAmount => crate::t_now!("ecash_errors.bad_amount"),
            Self::OfflineAmounts(list) => {
                let list = list
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ");
                if list.is_empty() {
                    crate::t_now!("ecash_errors.offline_none")
                } else {
                    t!("ecash_errors.offline_amounts", list = list).into_owned()
                }
            }
            Self::BadToken => crate::t_now!("ecash_errors.bad_token"),
            Self::TokenSpent => crate::t_now!("ecash_errors.token_spent"),
            Self::TokenPending => crate::t_now!("ecash_errors.token_pending"),
            Self::UnsupportedUnit => crate::t_now!("ecash_errors.unit"),
            Self::BadSignature => crate::t_now!("ecash_errors.bad_signature"),
            Self::LockedToOther => crate::t_now!("ecash_errors.locked_to_other"),
            Self::NewMint(url) => t!("ecash_errors.new_mint", url = url).into_owned(),
            Self::NeedsMint => crate::t_now!("ecash_errors.needs_mint"),
            Self::BadLockKey => crate::t_now!("ecash_errors.bad_lock_key"),
            Self::BadInvoice => crate::t_now!("ecash_errors.bad_invoice"),
            Self::WrongNetwork => crate::t_now!("ecash_errors.wrong_network"),
            Self::InvoiceExpired => crate::t_now!("ecash_errors.invoice_expired"),
            Self::InvoiceWithoutAmount => crate::t_now!("ecash_errors.invoice_no_amount"),
            Self::PaymentFailed(d) => t!("ecash_errors.payment_failed", detail = d).into_owned(),
            Self::PaymentPending => crate::t_now!("ecash_errors.payment_pending"),
            Self::SendPending => crate::t_now!("ecash_errors.send_pending"),
            Self::LockNeedsMint => crate::t_now!("ecash_errors.lock_needs_mint"),
            Self::QuoteExpired => crate::t_now!("ecash_errors.quote_expired"),
            Self::Storage(d) => t!("ecash_errors.storage", detail = d).into_owned(),
            Self::Other(d) => t!("ecash_errors.other", detail = d).into_owned(),
        }
    }
}
