//! The key hierarchy: one BIP39 seed is the root of every key the wallet uses, so the 12 or 24
//! words restore everything. NOSTR key by NIP-06 (`m/44'/1237'/0'/0/0`), the Cashu NUT-13 seed,
//! and a BIP84 receive address (`m/84'/0'/0'/0/i`) for self-custody withdrawals.

pub use flash_api::errors::{MnemonicError, NsecError};

use bitcoin::bech32::{self, Bech32, Hrp};
use bitcoin::bip32::{DerivationPath, Xpriv};
use bitcoin::secp256k1::{Keypair, Secp256k1};
use bitcoin::{Address, CompressedPublicKey, Network};
use zeroize::Zeroizing;

use crate::ports::Random;

/// Parses an `nsec1…` (NIP-19) secret key.
pub fn parse_nsec(input: &str) -> Result<Zeroizing<[u8; 32]>, NsecError> {
    let text = input.trim();
    let (hrp, data) = bech32::decode(text).map_err(|_| NsecError::NotNsec)?;
    match hrp.as_str() {
        "nsec" => {}
        "npub" => return Err(NsecError::IsNpub),
        _ => return Err(NsecError::NotNsec),
    }
    let bytes: [u8; 32] = data.as_slice().try_into().map_err(|_| NsecError::Invalid)?;
    bitcoin::secp256k1::SecretKey::from_slice(&bytes).map_err(|_| NsecError::Invalid)?;
    Ok(Zeroizing::new(bytes))
}

/// The `npub1…` of a NOSTR secret key.
pub fn npub_of(secret: &[u8; 32]) -> Result<String, MnemonicError> {
    let secp = Secp256k1::signing_only();
    let sk = bitcoin::secp256k1::SecretKey::from_slice(secret)
        .map_err(|e| MnemonicError::Derivation(e.to_string()))?;
    let xonly = Keypair::from_secret_key(&secp, &sk)
        .x_only_public_key()
        .0
        .serialize();
    let hrp = Hrp::parse("npub").map_err(|e| MnemonicError::Derivation(e.to_string()))?;
    bech32::encode::<Bech32>(hrp, &xonly).map_err(|e| MnemonicError::Derivation(e.to_string()))
}

/// Generates a new phrase of `words` words (12 or 24).
pub fn generate(words: usize, rng: &impl Random) -> Result<bip39::Mnemonic, MnemonicError> {
    let len = match words {
        12 => 16,
        24 => 32,
        n => return Err(MnemonicError::WordCount(n)),
    };
    let mut entropy = Zeroizing::new([0u8; 32]);
    rng.fill(&mut entropy[..len])?;
    bip39::Mnemonic::from_entropy(&entropy[..len])
        .map_err(|e| MnemonicError::Derivation(e.to_string()))
}

/// Whether `word` is one of the English BIP39 recovery words (for scrubbing them from text
/// that may be shown or copied, such as a crash report).
pub fn is_recovery_word(word: &str) -> bool {
    bip39::Language::English.find_word(word).is_some()
}

/// Parses what a user typed: case and extra spaces do not matter; errors name the bad word.
pub fn parse(input: &str) -> Result<bip39::Mnemonic, MnemonicError> {
    // Copies of the words are wiped when dropped, like the phrase they come from.
    let words: Zeroizing<Vec<String>> =
        Zeroizing::new(input.split_whitespace().map(|w| w.to_lowercase()).collect());
    let list = bip39::Language::English.word_list();
    if let Some((i, w)) = words
        .iter()
        .enumerate()
        .find(|(_, w)| !list.contains(&w.as_str()))
    {
        return Err(MnemonicError::UnknownWord {
            position: i + 1,
            word: w.clone(),
        });
    }
    if ![12, 15, 18, 21, 24].contains(&words.len()) {
        return Err(MnemonicError::WordCount(words.len()));
    }
    let joined = Zeroizing::new(words.join(" "));
    bip39::Mnemonic::parse_in_normalized(bip39::Language::English, &joined).map_err(|e| match e {
        bip39::Error::InvalidChecksum => MnemonicError::Checksum,
        bip39::Error::BadWordCount(n) => MnemonicError::WordCount(n),
        other => MnemonicError::Derivation(other.to_string()),
    })
}

/// Three distinct word positions (1-based, ascending) the user must type back to show the
/// phrase was written down ([`flash_api::words::check_positions`] over a [`Random`] port).
pub fn check_positions(word_count: usize, rng: &impl Random) -> Result<Vec<usize>, MnemonicError> {
    flash_api::words::check_positions(word_count, |buf| rng.fill(buf))
}

/// Every key, derived from one seed. Secret material is zeroized on drop and never printed.
pub struct KeyHierarchy {
    seed: Zeroizing<[u8; 64]>,
}

impl std::fmt::Debug for KeyHierarchy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyHierarchy { .. }")
    }
}

fn path(p: &str) -> Result<DerivationPath, MnemonicError> {
    p.parse()
        .map_err(|e: bitcoin::bip32::Error| MnemonicError::Derivation(e.to_string()))
}

impl KeyHierarchy {
    /// From a phrase (no BIP39 passphrase: the wallet's passphrase protects storage instead).
    pub fn from_mnemonic(m: &bip39::Mnemonic) -> Self {
        Self {
            seed: Zeroizing::new(m.to_seed_normalized("")),
        }
    }

    fn derive(&self, p: &str) -> Result<Xpriv, MnemonicError> {
        let secp = Secp256k1::signing_only();
        let master = Xpriv::new_master(Network::Bitcoin, &self.seed[..])
            .map_err(|e| MnemonicError::Derivation(e.to_string()))?;
        master
            .derive_priv(&secp, &path(p)?)
            .map_err(|e| MnemonicError::Derivation(e.to_string()))
    }

    /// The NOSTR secret key (NIP-06, account 0).
    pub fn nostr_secret(&self) -> Result<Zeroizing<[u8; 32]>, MnemonicError> {
        let x = self.derive("m/44'/1237'/0'/0/0")?;
        Ok(Zeroizing::new(x.private_key.secret_bytes()))
    }

    /// The NOSTR public key as 32-byte x-only hex.
    pub fn nostr_pubkey_hex(&self) -> Result<String, MnemonicError> {
        Ok(hex(&self.nostr_xonly()?))
    }

    fn nostr_xonly(&self) -> Result<[u8; 32], MnemonicError> {
        let secp = Secp256k1::signing_only();
        let x = self.derive("m/44'/1237'/0'/0/0")?;
        let kp = Keypair::from_secret_key(&secp, &x.private_key);
        Ok(kp.x_only_public_key().0.serialize())
    }

    /// The NOSTR public key as `npub1…` (NIP-19).
    pub fn npub(&self) -> Result<String, MnemonicError> {
        npub_of(&*self.nostr_secret()?)
    }

    /// The 64-byte BIP39 seed, which NUT-13 derives Cashu secrets from.
    pub fn cashu_seed(&self) -> Zeroizing<[u8; 64]> {
        self.seed.clone()
    }

    /// The BIP84 (native SegWit) receive address at `index` on `network`.
    pub fn bip84_address(&self, network: Network, index: u32) -> Result<String, MnemonicError> {
        let coin = if network == Network::Bitcoin { 0 } else { 1 };
        let secp = Secp256k1::signing_only();
        let x = self.derive(&format!("m/84'/{coin}'/0'/0/{index}"))?;
        let pk = CompressedPublicKey(x.private_key.public_key(&secp));
        Ok(Address::p2wpkh(&pk, network).to_string())
    }
}

fn hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

// Native only: they use the OS generator (the browser's is tested in flash-browser).
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::ports::OsRandom;

    /// NIP-06's published vectors.
    #[test]
    fn nip06_vectors() {
        let cases = [
            (
                "leader monkey parrot ring guide accident before fence cannon height naive bean",
                "7f7ff03d123792d6ac594bfa67bf6d0c0ab55b6b1fdb6249303fe861f1ccba9a",
                "17162c921dc4d2518f9a101db33695df1afb56ab82f5ff3e5da6eec3ca5cd917",
                "npub1zutzeysacnf9rru6zqwmxd54mud0k44tst6l70ja5mhv8jjumytsd2x7nu",
            ),
            (
                "what bleak badge arrange retreat wolf trade produce cricket blur garlic valid proud rude strong choose busy staff weather area salt hollow arm fade",
                "c15d739894c81a2fcfd3a2df85a0d2c0dbc47a280d092799f144d73d7ae78add",
                "d41b22899549e1f3d335a31002cfd382174006e166d3e658e3a5eecdb6463573",
                "npub16sdj9zv4f8sl85e45vgq9n7nsgt5qphpvmf7vk8r5hhvmdjxx4es8rq74h",
            ),
        ];
        for (words, sk, pk, npub) in cases {
            let keys = KeyHierarchy::from_mnemonic(&parse(words).unwrap());
            assert_eq!(hex(&keys.nostr_secret().unwrap()[..]), sk);
            assert_eq!(keys.nostr_pubkey_hex().unwrap(), pk);
            assert_eq!(keys.npub().unwrap(), npub);
        }
    }

    /// BIP84's published vector: first receive address of "abandon … about".
    #[test]
    fn bip84_vector() {
        let words = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
        let keys = KeyHierarchy::from_mnemonic(&parse(words).unwrap());
        assert_eq!(
            keys.bip84_address(Network::Bitcoin, 0).unwrap(),
            "bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu"
        );
        assert_eq!(
            keys.bip84_address(Network::Bitcoin, 1).unwrap(),
            "bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g"
        );
    }

    #[test]
    fn nsec_import_matches_nip06_and_refuses_the_wrong_things() {
        let sk = parse_nsec(" nsec10allq0gjx7fddtzef0ax00mdps9t2kmtrldkyjfs8l5xruwvh2dq0lhhkp ")
            .unwrap();
        assert_eq!(
            hex(&sk[..]),
            "7f7ff03d123792d6ac594bfa67bf6d0c0ab55b6b1fdb6249303fe861f1ccba9a"
        );
        assert_eq!(
            npub_of(&sk).unwrap(),
            "npub1zutzeysacnf9rru6zqwmxd54mud0k44tst6l70ja5mhv8jjumytsd2x7nu"
        );
        assert_eq!(
            parse_nsec("npub1zutzeysacnf9rru6zqwmxd54mud0k44tst6l70ja5mhv8jjumytsd2x7nu")
                .unwrap_err(),
            NsecError::IsNpub
        );
        assert_eq!(
            parse_nsec("nsec10allq0gjx7fddtzef0ax00mdps9t2kmtrldkyjfs8l5xruwvh2dq0lhhkq")
                .unwrap_err(),
            NsecError::NotNsec,
            "a one-letter typo fails the checksum"
        );
        assert_eq!(parse_nsec("hello").unwrap_err(), NsecError::NotNsec);
    }

    #[test]
    fn bad_phrases_name_the_problem() {
        let e = parse("abandon abandon abandn abandon abandon abandon abandon abandon abandon abandon abandon about").unwrap_err();
        assert_eq!(
            e,
            MnemonicError::UnknownWord {
                position: 3,
                word: "abandn".into()
            }
        );
        assert!(e.to_string().contains("word 3 (\"abandn\")"));
        let e = parse("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon").unwrap_err();
        assert_eq!(e, MnemonicError::Checksum);
        assert_eq!(
            parse("abandon about").unwrap_err(),
            MnemonicError::WordCount(2)
        );
        // Case and spacing do not matter.
        assert!(parse("  Abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon ABOUT ").is_ok());
    }

    #[test]
    fn check_positions_are_three_distinct_in_range() {
        for _ in 0..50 {
            let p = check_positions(12, &OsRandom).unwrap();
            assert_eq!(p.len(), 3);
            assert!(p.windows(2).all(|w| w[0] < w[1]));
            assert!(p.iter().all(|&i| (1..=12).contains(&i)));
        }
    }

    #[test]
    fn generated_phrases_have_the_asked_length_and_differ() {
        let a = generate(12, &OsRandom).unwrap();
        let b = generate(24, &OsRandom).unwrap();
        assert_eq!(a.word_count(), 12);
        assert_eq!(b.word_count(), 24);
        assert_ne!(a.to_string(), generate(12, &OsRandom).unwrap().to_string());
        assert_eq!(
            generate(13, &OsRandom).unwrap_err(),
            MnemonicError::WordCount(13)
        );
        assert!(
            format!("{:?}", KeyHierarchy::from_mnemonic(&a)).contains(".."),
            "Debug hides the seed"
        );
    }
}
