//! Recovery words, the parts the page needs before any engine runs: which words to ask back
//! when the user says they wrote the phrase down.

use crate::errors::{MnemonicError, RandomError};

/// Three distinct word positions (1-based, ascending) the user must type back to show the
/// phrase was written down. `fill` is the randomness (Web Crypto on the page).
pub fn check_positions(
    word_count: usize,
    mut fill: impl FnMut(&mut [u8]) -> Result<(), RandomError>,
) -> Result<Vec<usize>, MnemonicError> {
    let mut picked: Vec<usize> = Vec::new();
    if word_count == 0 {
        return Ok(picked);
    }
    let mut byte = [0u8; 1];
    while picked.len() < 3.min(word_count) {
        fill(&mut byte)?;
        let pos = usize::from(byte[0]) % word_count + 1;
        if !picked.contains(&pos) {
            // Kept in order as it grows (three at most; no generic sort on the page).
            let at = picked.iter().take_while(|p| **p < pos).count();
            picked.insert(at, pos);
        }
    }
    Ok(picked)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn three_distinct_positions_in_range() {
        let mut n = 0u8;
        let positions = check_positions(12, |b| {
            n = n.wrapping_add(5);
            b.fill(n);
            Ok(())
        })
        .unwrap();
        assert_eq!(positions.len(), 3);
        assert!(positions.windows(2).all(|w| w[0] < w[1]));
        assert!(positions.iter().all(|p| (1..=12).contains(p)));
        assert_eq!(check_positions(0, |_| Ok(())).unwrap(), Vec::<usize>::new());
    }
}
