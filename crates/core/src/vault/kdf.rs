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

    /// The most Flash will spend on one derivation. Parameters come from storage and from
    /// backup files, which are outside input: a file asking for 4 TiB or 2^32 passes would
    /// freeze or kill the page, so anything above this is refused before Argon2 runs.
    pub const MAXIMUM: KdfParams = KdfParams {
        version: 1,
        m_kib: 1024 * 1024,
        t: 16,
        p: 8,
    };

    /// Each cost the larger of `self`'s and `other`'s: an upgrade never lowers a parameter.
    pub fn max(&self, other: &KdfParams) -> KdfParams {
        KdfParams {
            version: self.version.max(other.version),
            m_kib: self.m_kib.max(other.m_kib),
            t: self.t.max(other.t),
            p: self.p.max(other.p),
        }
    }

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
    let max = KdfParams::MAXIMUM;
    if params.m_kib > max.m_kib || params.t > max.t || params.p > max.p || salt.len() > 1024 {
        return Err(VaultError::KdfTooCostly {
            max: max.to_string(),
        });
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
    fn absurd_costs_are_refused_before_argon2_runs() {
        // A crafted backup file's slot: 4 TiB of memory, 2^32-1 passes. Refused at once
        // (running it would freeze the page or abort the wasm instance on allocation).
        for p in [
            KdfParams {
                m_kib: u32::MAX,
                ..KdfParams::MINIMUM
            },
            KdfParams {
                t: u32::MAX,
                ..KdfParams::MINIMUM
            },
            KdfParams {
                p: u32::MAX,
                ..KdfParams::MINIMUM
            },
        ] {
            assert!(
                matches!(
                    derive(b"x", b"saltsaltsaltsalt", &p),
                    Err(VaultError::KdfTooCostly { .. })
                ),
                "{p}"
            );
        }
        assert!(KdfParams::DEFAULT.at_least(&KdfParams::MINIMUM));
        assert!(KdfParams::MAXIMUM.at_least(&KdfParams::DEFAULT));
    }

    #[test]
    fn max_never_lowers_a_cost() {
        let stronger_memory = KdfParams {
            m_kib: 128 * 1024,
            t: 1,
            ..KdfParams::DEFAULT
        };
        let m = stronger_memory.max(&KdfParams::DEFAULT);
        assert_eq!(m.m_kib, 128 * 1024);
        assert_eq!(m.t, KdfParams::DEFAULT.t);
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
