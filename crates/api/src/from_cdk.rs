//! cdk's errors, mapped once to [`EcashError`] (enabled by the `cdk` feature, which only the
//! engine turns on: the page never links cdk).

use crate::EcashError;

/// A mint's error body can be megabytes: errors keep its first 300 characters.
fn short(mut text: String) -> String {
    if let Some((cut, _)) = text.char_indices().nth(300) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

impl From<cdk_common::Error> for EcashError {
    fn from(e: cdk_common::Error) -> Self {
        use cdk_common::Error as E;
        match e {
            E::TokenAlreadySpent => Self::TokenSpent,
            E::TokenPending => Self::TokenPending,
            E::InsufficientFunds => Self::InsufficientFunds,
            E::UnsupportedUnit => Self::UnsupportedUnit,
            E::HttpError(None, m) => Self::Unreachable(short(m)),
            E::HttpError(Some(s), m) if s >= 500 => Self::Unreachable(short(format!("{s} {m}"))),
            E::Timeout => Self::Unreachable("timed out".into()),
            E::DleqProofNotProvided | E::CouldNotVerifyDleq | E::DHKE(_) => Self::BadSignature,
            E::Database(d) => Self::Storage(d.to_string()),
            other => {
                // Only transport failures are recognised by their text (cdk gives them no
                // variant of their own in every transport); nothing final is decided by text.
                let text = other.to_string();
                let lower = text.to_lowercase();
                if lower.contains("connect") || lower.contains("network") || lower.contains("fetch")
                {
                    Self::Unreachable(short(text))
                } else {
                    Self::Other(short(text))
                }
            }
        }
    }
}

impl From<cdk_common::database::Error> for EcashError {
    fn from(e: cdk_common::database::Error) -> Self {
        Self::Storage(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_mint_error_is_cut_short() {
        let body = "é".repeat(1_000_000);
        let EcashError::Unreachable(text) = cdk_common::Error::HttpError(Some(503), body).into()
        else {
            panic!("a 503 is the mint being unreachable");
        };
        assert!(text.chars().count() <= 301, "{}", text.len());
        assert!(text.starts_with("503 é"));
    }
}
