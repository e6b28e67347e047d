//! The passphrase KDF: Argon2id with versioned parameters stored beside the wrapped key, so
//! parameters can be raised later (re-wrap on the next unlock) without breaking old vaults.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::VaultError;

/// Argon2id parameters, versioned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// 1 = Argon2id v0x13 with 32-byte output.
    pub version: u32,
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl KdfParams {
    /// OWASP's minimum for Argon2id (m = 19 MiB, t = 2, p = 1): nothing weaker is accepted
    /// for new keys.
    pub const MINIMUM: KdfParams = KdfParams {
        version: 1,
        m_kib: 19 * 1024,
        t: 2,
        p: 1,
    };

    /// What new vaults use: above the minimum, since the browser runs the KDF in a Web Worker
    /// (the page never freezes) and unlock stays well under a second (`cargo xtask bench`).
    pub const DEFAULT: KdfParams = KdfParams {
        version: 1,
        m_kib: 64 * 1024,
        t: 3,
        p: 1,
    };

    /// Whether these are at least [`KdfParams::MINIMUM`].
    pub fn meets_minimum(&self) -> bool {
        self.at_least(&Self::MINIMUM)
    }

    /// Refuses parameters below [`KdfParams::MINIMUM`] for new keys.
    pub fn check_minimum(&self) -> Result<(), VaultError> {
        if self.meets_minimum() {
            Ok(())
        } else {
            Err(VaultError::WeakParams {
                min: Self::MINIMUM.to_string(),
            })
        }
    }

    /// Whether every cost is at least `other`'s.
    pub fn at_least(&self, other: &KdfParams) -> bool {
        self.version >= other.version
            && self.m_kib >= other.m_kib
            && self.t >= other.t
            && self.p >= other.p
    }
}

impl fmt::Display for KdfParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Argon2id m={} MiB t={} p={}",
            self.m_kib / 1024,
            self.t,
            self.p
        )
    }
}

/// The KDF as a port: the browser runs it in a Web Worker so the page never freezes; native
/// code and tests run it inline.
#[allow(async_fn_in_trait)]
pub trait Kdf {
    /// Derives the 32-byte key-encryption key.
    async fn derive(
        &self,
        passphrase: &[u8],
        salt: &[u8],
        params: &KdfParams,
    ) -> Result<Zeroizing<[u8; 32]>, VaultError>;
}

/// Argon2id on the calling thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct InlineKdf;

impl Kdf for InlineKdf {
    async fn derive(
        &self,
        passphrase: &[u8],
        salt: &[u8],
        params: &KdfParams,
    ) -> Result<Zeroizing<[u8; 32]>, VaultError> {
        derive(passphrase, salt, params)
    }
}

/// Derives the 32-byte key-encryption key.
pub fn derive(
    passphrase: &[u8],
    salt: &[u8],
    params: &KdfParams,
) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    if params.version != 1 {
        return Err(VaultError::Tampered(format!(
            "unknown KDF version {}",
            params.version
        )));
    }
    let p = Params::new(params.m_kib, params.t, params.p, Some(32))
        .map_err(|e| VaultError::Kdf(e.to_string()))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, p);
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase, salt, &mut out[..])
        .map_err(|e| VaultError::Kdf(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_matches_the_rfc9106_shape() {
        // Deterministic: same inputs, same key; any change of input changes it.
        let p = KdfParams {
            version: 1,
            m_kib: 64,
            t: 1,
            p: 1,
        };
        let a = derive(b"pass", b"saltsaltsaltsalt", &p).unwrap();
        assert_eq!(a, derive(b"pass", b"saltsaltsaltsalt", &p).unwrap());
        assert_ne!(a, derive(b"pasS", b"saltsaltsaltsalt", &p).unwrap());
        assert_ne!(a, derive(b"pass", b"saltsaltsaltsalT", &p).unwrap());
        assert_ne!(
            a,
            derive(b"pass", b"saltsaltsaltsalt", &KdfParams { t: 2, ..p }).unwrap()
        );
    }

    #[test]
    fn minimum_is_owasp() {
        assert!(KdfParams::DEFAULT.meets_minimum());
        assert!(!KdfParams {
            m_kib: 1024,
            ..KdfParams::MINIMUM
        }
        .meets_minimum());
        assert_eq!(KdfParams::MINIMUM.to_string(), "Argon2id m=19 MiB t=2 p=1");
    }

    #[test]
    fn unknown_versions_are_refused() {
        let p = KdfParams {
            version: 9,
            ..KdfParams::MINIMUM
        };
        assert!(matches!(
            derive(b"x", b"saltsaltsaltsalt", &p),
            Err(VaultError::Tampered(_))
        ));
    }
}
