//! Passphrase strength: a small, explainable estimate (no megabyte dictionary in the bundle).
//! It refuses what is trivially guessable and says why; everything else gets a strength label.

/// How strong a passphrase looks.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Strength {
    /// Refused.
    TooWeak,
    /// Accepted, but could be longer.
    Fair,
    /// Good.
    Strong,
}

/// Why a passphrase is refused; the UI translates each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Weakness {
    /// Fewer than [`MIN_LEN`] characters.
    TooShort,
    /// One character repeated, or a keyboard/number run.
    Pattern,
    /// A well-known password.
    Common,
}

/// The minimum length accepted.
pub const MIN_LEN: usize = 10;

const COMMON: &[&str] = &[
    "password",
    "passw0rd",
    "123456789",
    "1234567890",
    "qwertyuiop",
    "iloveyou",
    "bitcoin",
    "satoshi",
    "letmein",
    "welcome",
    "abc123",
    "111111",
    "dragon",
    "monkey",
    "football",
    "baseball",
    "sunshine",
    "princess",
    "trustno1",
    "whatever",
    "qwerty",
    "flashwallet",
];

/// Assesses `p`: a strength, and the reason when it is refused.
pub fn assess(p: &str) -> (Strength, Option<Weakness>) {
    let chars: Vec<char> = p.chars().collect();
    if chars.len() < MIN_LEN {
        return (Strength::TooWeak, Some(Weakness::TooShort));
    }
    // ASCII letters and digits, ASCII case folding: enough to compare with the (ASCII)
    // common list (other characters only ever made a phrase look less like one), and it
    // keeps Unicode's tables (~10 KB brotli) out of the page module.
    let stripped: String = p
        .chars()
        // The two non-ASCII letters Unicode lowercases to ASCII (Kelvin sign, dotted I).
        .map(|c| match c {
            '\u{212A}' => 'k',
            '\u{0130}' => 'i',
            c => c,
        })
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if COMMON
        .iter()
        .any(|c| stripped == *c || (stripped.starts_with(c) && stripped.len() <= c.len() + 4))
    {
        return (Strength::TooWeak, Some(Weakness::Common));
    }
    // Up to four distinct characters are counted (all the check needs), without a sort:
    // this runs on the page, where every generic sort is code to download.
    let distinct = {
        let mut seen: Vec<char> = Vec::with_capacity(4);
        for c in &chars {
            if !seen.contains(c) {
                seen.push(*c);
                if seen.len() > 3 {
                    break;
                }
            }
        }
        seen.len()
    };
    let run = chars
        .windows(2)
        .all(|w| (w[1] as i64 - w[0] as i64).abs() <= 1);
    if distinct <= 3 || run {
        return (Strength::TooWeak, Some(Weakness::Pattern));
    }
    // Rough entropy: length × log2(pool), pool from the character classes used.
    let mut pool = 0u32;
    if chars.iter().any(|c| c.is_ascii_lowercase()) {
        pool += 26;
    }
    if chars.iter().any(|c| c.is_ascii_uppercase()) {
        pool += 26;
    }
    if chars.iter().any(|c| c.is_ascii_digit()) {
        pool += 10;
    }
    if chars.iter().any(|c| !c.is_ascii_alphanumeric()) {
        pool += 33;
    }
    let bits = chars.len() as f64 * f64::from(pool.max(2)).log2();
    if bits >= 70.0 {
        (Strength::Strong, None)
    } else {
        (Strength::Fair, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_the_trivial_with_a_reason() {
        assert_eq!(
            assess("short"),
            (Strength::TooWeak, Some(Weakness::TooShort))
        );
        assert_eq!(
            assess("Password123"),
            (Strength::TooWeak, Some(Weakness::Common))
        );
        assert_eq!(
            assess("aaaaaaaaaaaa"),
            (Strength::TooWeak, Some(Weakness::Pattern))
        );
        assert_eq!(
            assess("abcdefghijkl"),
            (Strength::TooWeak, Some(Weakness::Pattern))
        );
        assert_eq!(
            assess("1234567890"),
            (Strength::TooWeak, Some(Weakness::Common))
        );
    }

    #[test]
    fn grades_the_rest() {
        assert_eq!(assess("tangerine1").0, Strength::Fair);
        assert_eq!(assess("correct horse battery staple").0, Strength::Strong);
        assert_eq!(assess("Tr0ub4dor&3-xylophone").0, Strength::Strong);
    }
}
