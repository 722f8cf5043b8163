//! Typo tolerance: which indexed words the last word of a query may have been meant as.
//!
//! A word matches when one of its prefixes is within the allowed edit distance of the typed
//! prefix (the person is still typing, so `hedphon` should find `headphones`). Distances come
//! from fst's Levenshtein automaton, which counts a swap of two neighbouring letters as two
//! edits; so for distance 1 each single swap of the prefix is also tried as an exact prefix —
//! otherwise `kettel` would never find `kettle`.

use fst::automaton::{Levenshtein, StartsWith, Str};
use fst::{Automaton, IntoStreamer, Map, Streamer};

/// Prefixes shorter than this get no typo tolerance: too many words are one edit away.
pub const MIN_TYPO_CHARS: usize = 5;
/// Prefixes at least this long may be two edits away.
pub const TWO_TYPOS_CHARS: usize = 8;
/// Longer prefixes are not searched with typos: the Levenshtein automaton grows with the
/// prefix, and no real word needs more.
pub const MAX_TYPO_CHARS: usize = 24;

/// The words a mistyped prefix may stand for.
pub struct TypoMatcher {
    /// Words with a prefix within the allowed distance of the typed prefix.
    near: StartsWith<Levenshtein>,
    /// The typed prefix with one pair of neighbouring letters swapped, each tried as an exact
    /// prefix (only at distance 1; at distance 2 the automaton covers a swap).
    swapped: Vec<String>,
}

impl TypoMatcher {
    /// A matcher for `prefix` (normalised), or `None` when it is too short or too long for
    /// typo tolerance.
    pub fn new(prefix: &str) -> Option<Self> {
        let length = prefix.chars().count();
        if !(MIN_TYPO_CHARS..=MAX_TYPO_CHARS).contains(&length) {
            return None;
        }
        let distance = if length >= TWO_TYPOS_CHARS { 2 } else { 1 };
        let near = match Levenshtein::new(prefix, distance) {
            Ok(automaton) => automaton.starts_with(),
            Err(error) => {
                tracing::warn!(%error, prefix, "no typo tolerance for this prefix");
                return None;
            }
        };
        let swapped = if distance == 1 { neighbour_swaps(prefix) } else { Vec::new() };
        Some(Self { near, swapped })
    }

    /// Indexes of the matching words in `words`, sorted, each once.
    pub fn word_indexes(&self, words: &Map<Vec<u8>>) -> Vec<u64> {
        let mut indexes = Vec::new();
        let mut near = words.search(&self.near).into_stream();
        while let Some((_, index)) = near.next() {
            indexes.push(index);
        }
        for swapped in &self.swapped {
            let mut stream = words.search(Str::new(swapped).starts_with()).into_stream();
            while let Some((_, index)) = stream.next() {
                indexes.push(index);
            }
        }
        indexes.sort_unstable();
        indexes.dedup();
        indexes
    }

    /// Whether `word` (normalised) matches, for titles that are not in the map yet.
    pub fn matches(&self, word: &str) -> bool {
        accepts(&self.near, word) || self.swapped.iter().any(|swapped| word.starts_with(swapped.as_str()))
    }
}

/// Every distinct string made by swapping two neighbouring characters of `text`.
fn neighbour_swaps(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut swaps = Vec::new();
    for index in 1..chars.len() {
        if chars[index - 1] != chars[index] {
            let mut swapped = chars.clone();
            swapped.swap(index - 1, index);
            swaps.push(swapped.into_iter().collect());
        }
    }
    swaps
}

fn accepts<A: Automaton>(automaton: &A, word: &str) -> bool {
    let mut state = automaton.start();
    for &byte in word.as_bytes() {
        if !automaton.can_match(&state) {
            return false;
        }
        state = automaton.accept(&state, byte);
    }
    automaton.is_match(&state)
}

#[cfg(test)]
mod tests {
    use fst::Map;

    use super::TypoMatcher;

    fn matcher(prefix: &str) -> TypoMatcher {
        TypoMatcher::new(prefix).expect("long enough for typos")
    }

    #[test]
    fn short_prefixes_get_no_typo_tolerance() {
        assert!(TypoMatcher::new("kett").is_none());
    }

    #[test]
    fn a_dropped_swapped_or_wrong_letter_in_a_seven_letter_word_still_matches() {
        for typo in ["blnder", "bledner", "blendar", "lbender"] {
            assert!(matcher(typo).matches("blender"), "{typo}");
        }
    }

    #[test]
    fn a_typo_in_an_unfinished_word_matches_the_word() {
        assert!(matcher("hedpho").matches("headphones"));
    }

    #[test]
    fn two_typos_need_eight_letters() {
        assert!(!matcher("bledna").matches("blender"));
        assert!(matcher("hedphnes").matches("headphones"), "two dropped letters in eight");
    }

    #[test]
    fn word_indexes_finds_the_words_in_an_fst() {
        let words = Map::from_iter([("blender", 0), ("kettle", 1), ("kettlebell", 2)]).expect("sorted");
        assert_eq!(matcher("kettel").word_indexes(&words), [1, 2]);
    }
}
