//! Amounts, formatted in exactly one place so every screen (wallet, POS, history, receipts)
//! shows sats the same way and a locale change is one edit.

use serde::{Deserialize, Serialize};

/// An amount of satoshis. Money is never a float in this codebase.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Sats(pub u64);

/// Number grouping conventions: Western thousands, or the Indian lakh/crore system (Hindi).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grouping {
    /// 1,234,567 (English) or 1.234.567 with a different separator.
    Thousands(char),
    /// 12,34,567 (Indian numbering).
    Indian(char),
}

impl Grouping {
    /// The grouping for a BCP-47 language tag such as `en`, `es` or `hi-IN`.
    pub fn for_locale(tag: &str) -> Self {
        let lang = tag
            .split(['-', '_'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match lang.as_str() {
            "hi" => Grouping::Indian(','),
            "es" => Grouping::Thousands('.'),
            _ => Grouping::Thousands(','),
        }
    }
}

/// Groups the digits of `n` by `grouping`.
pub fn group_digits(n: u64, grouping: Grouping) -> String {
    let digits = n.to_string();
    let bytes = digits.as_bytes();
    let (sep, first, rest) = match grouping {
        Grouping::Thousands(s) => (s, 3, 3),
        Grouping::Indian(s) => (s, 3, 2),
    };
    if bytes.len() <= first {
        return digits;
    }
    let (head, tail) = digits.split_at(bytes.len() - first);
    let mut groups: Vec<&str> = vec![tail];
    let mut head = head;
    while head.len() > rest {
        let (h, t) = head.split_at(head.len() - rest);
        groups.push(t);
        head = h;
    }
    groups.push(head);
    groups.reverse();
    groups.join(&sep.to_string())
}

impl Sats {
    /// The number alone, grouped for `locale`: "1,000", "1.000", "1,00,000".
    pub fn format_number(self, locale: &str) -> String {
        group_digits(self.0, Grouping::for_locale(locale))
    }

    /// The amount with its unit: "1 sat", "1,000 sats". The unit word is not translated: "sat"
    /// is used as-is in every language the wallet ships.
    pub fn format(self, locale: &str) -> String {
        let unit = if self.0 == 1 { "sat" } else { "sats" };
        format!("{} {unit}", self.format_number(locale))
    }

    /// The amount in bitcoin with all eight decimals, e.g. "0.00012345 BTC", computed on
    /// integers so no rounding can creep in.
    pub fn format_btc(self) -> String {
        format!("{}.{:08} BTC", self.0 / 100_000_000, self.0 % 100_000_000)
    }
}

/// A byte count for people: "0 B", "512 B", "1.5 KB", "20.0 MB", "1.2 GB" (decimal units, as
/// browsers and operating systems report storage).
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1_000 {
        return format!("{bytes} B");
    }
    // In integers (tenths of the unit, rounded): float formatting would add ~5 KB brotli of
    // code to the page module for this one line.
    let (mut tenth, mut unit) = (100u64, 0); // bytes in a tenth of the unit
    while bytes / (tenth * 10) >= 1_000 && unit < UNITS.len() - 1 {
        tenth *= 1_000;
        unit += 1;
    }
    let round = |tenth: u64| bytes / tenth + u64::from(bytes % tenth >= tenth / 2);
    let mut tenths = round(tenth);
    if tenths >= 10_000 && unit < UNITS.len() - 1 {
        // Rounded up to 1000 of this unit: 1.0 of the next.
        tenth *= 1_000;
        unit += 1;
        tenths = round(tenth);
    }
    format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_for_people() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(999), "999 B");
        assert_eq!(format_bytes(1_500), "1.5 KB");
        assert_eq!(format_bytes(20_000_000), "20.0 MB");
        assert_eq!(format_bytes(1_234_000_000), "1.2 GB");
        assert_eq!(format_bytes(999_949), "999.9 KB");
        assert_eq!(format_bytes(999_950), "1.0 MB");
        assert_eq!(format_bytes(1_000_000), "1.0 MB");
        assert_eq!(format_bytes(u64::MAX), "18446744.1 TB", "no overflow");
    }

    #[test]
    fn groups_like_each_locale() {
        assert_eq!(Sats(0).format("en"), "0 sats");
        assert_eq!(Sats(1).format("en"), "1 sat");
        assert_eq!(Sats(999).format("en"), "999 sats");
        assert_eq!(Sats(1_000).format("en"), "1,000 sats");
        assert_eq!(Sats(21_000_000).format_number("en-US"), "21,000,000");
        assert_eq!(Sats(1_234_567).format_number("es"), "1.234.567");
        assert_eq!(Sats(1_234_567).format_number("hi-IN"), "12,34,567");
        assert_eq!(Sats(100_000).format_number("hi"), "1,00,000");
        assert_eq!(
            Sats(u64::MAX).format_number("en"),
            "18,446,744,073,709,551,615"
        );
    }

    #[test]
    fn btc_has_eight_exact_decimals() {
        assert_eq!(Sats(1).format_btc(), "0.00000001 BTC");
        assert_eq!(Sats(12_345).format_btc(), "0.00012345 BTC");
        assert_eq!(
            Sats(2_100_000_000_000_000).format_btc(),
            "21000000.00000000 BTC"
        );
    }
}
