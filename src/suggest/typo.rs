//! Typo tolerance: which indexed words the last word of a query may have been meant as.
//!
//! A word matches when one of its prefixes is within the allowed edit distance of the typed
//! prefix (the person is still typing, so `hedphon` should find `headphones`). Edits are
//! insertions, deletions, substitutions and swaps of two neighbouring letters (optimal string
//! alignment), so `kettel` finds `kettle` at distance 1.
//!
//! Why not `fst::automaton::Levenshtein`: it builds a full DFA per query; with it, typo
//! queries measured p99 4.8 ms even at 1,000 titles (more than the whole 2 ms budget, nearly
//! all of it construction), and it counts a swap as two edits. This automaton computes one dynamic-programming row per byte
//! the fst walk visits, in a fixed-size state, and the walk prunes every branch whose row is
//! already over the distance — a few hundred steps on a catalog's vocabulary.

use fst::{Automaton, IntoStreamer, Map, Streamer};

/// Prefixes shorter than this get no typo tolerance: too many words are one edit away.
pub(super) const MIN_TYPO_CHARS: usize = 5;
/// Prefixes at least this long may be two edits away.
pub(super) const TWO_TYPOS_CHARS: usize = 8;
/// Longer prefixes are not searched with typos (the state is a fixed array of this size + 1);
/// no real word needs more.
pub(super) const MAX_TYPO_CHARS: usize = 24;

const ROW: usize = MAX_TYPO_CHARS + 1;

/// Words having a prefix within `max_distance` edits of `prefix`.
pub(super) struct TypoMatcher {
    prefix: Vec<u8>,
    max_distance: u8,
}

/// How far the key read so far is from every prefix of the query.
#[derive(Clone, Copy)]
pub(super) struct TypoState {
    /// `row[i]`: distance between the key read so far and the query's first `i` bytes,
    /// capped at `max_distance + 1`.
    row: [u8; ROW],
    /// The row before the last byte, for swaps.
    previous_row: [u8; ROW],
    /// The last byte read (0 before any).
    last_byte: u8,
    /// A prefix of the key already matched: every continuation matches too.
    matched: bool,
}

impl TypoMatcher {
    /// A matcher for `prefix` (normalised, so ASCII), or `None` when it is too short or too
    /// long for typo tolerance.
    pub(super) fn new(prefix: &str) -> Option<Self> {
        let length = prefix.len();
        if !(MIN_TYPO_CHARS..=MAX_TYPO_CHARS).contains(&length) || !prefix.is_ascii() {
            return None;
        }
        let max_distance = if length >= TWO_TYPOS_CHARS { 2 } else { 1 };
        Some(Self { prefix: prefix.as_bytes().to_vec(), max_distance })
    }

    /// Indexes of the matching words in `words`, sorted.
    pub(super) fn word_indexes<D: AsRef<[u8]>>(&self, words: &Map<D>) -> Vec<u64> {
        let mut indexes = Vec::new();
        let mut stream = words.search(self).into_stream();
        while let Some((_, index)) = stream.next() {
            indexes.push(index);
        }
        indexes
    }

    /// Whether `word` (normalised) matches, for titles that are not in the map yet.
    pub(super) fn matches(&self, word: &str) -> bool {
        let mut state = self.start();
        for &byte in word.as_bytes() {
            if state.matched || !self.can_match(&state) {
                break;
            }
            state = self.accept(&state, byte);
        }
        state.matched
    }

    fn capped(&self, distance: usize) -> u8 {
        u8::try_from(distance).unwrap_or(u8::MAX).min(self.max_distance + 1)
    }
}

impl Automaton for TypoMatcher {
    type State = TypoState;

    fn start(&self) -> TypoState {
        let mut row = [0; ROW];
        for (i, cell) in row.iter_mut().enumerate().take(self.prefix.len() + 1) {
            *cell = self.capped(i);
        }
        let matched = row[self.prefix.len()] <= self.max_distance;
        TypoState { row, previous_row: row, last_byte: 0, matched }
    }

    fn is_match(&self, state: &TypoState) -> bool {
        state.matched
    }

    fn can_match(&self, state: &TypoState) -> bool {
        state.matched || state.row[..=self.prefix.len()].iter().any(|&distance| distance <= self.max_distance)
    }

    fn will_always_match(&self, state: &TypoState) -> bool {
        state.matched
    }

    fn accept(&self, state: &TypoState, byte: u8) -> TypoState {
        if state.matched {
            return *state;
        }
        let query = &self.prefix;
        let mut row = [0; ROW];
        row[0] = (state.row[0] + 1).min(self.max_distance + 1);
        for i in 1..=query.len() {
            let substitution = state.row[i - 1] + u8::from(query[i - 1] != byte);
            let mut distance = substitution.min(state.row[i] + 1).min(row[i - 1] + 1);
            let swapped = i >= 2 && query[i - 1] == state.last_byte && query[i - 2] == byte;
            if swapped && state.last_byte != byte {
                distance = distance.min(state.previous_row[i - 2] + 1);
            }
            row[i] = distance.min(self.max_distance + 1);
        }
        let matched = row[query.len()] <= self.max_distance;
        TypoState { row, previous_row: state.row, last_byte: byte, matched }
    }
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
        for typo in ["blnder", "bledner", "blendar", "lbender", "blendder"] {
            assert!(matcher(typo).matches("blender"), "{typo}");
        }
    }

    #[test]
    fn an_exact_prefix_matches_and_an_unrelated_word_does_not() {
        assert!(matcher("blend").matches("blender"));
        assert!(!matcher("blend").matches("toaster"));
        assert!(!matcher("blend").matches("bl"), "too short a word is too far");
    }

    #[test]
    fn a_typo_in_an_unfinished_word_matches_the_word() {
        assert!(matcher("hedpho").matches("headphones"));
    }

    #[test]
    fn two_typos_need_eight_letters() {
        assert!(!matcher("bledna").matches("blender"));
        assert!(matcher("hedphnes").matches("headphones"), "two dropped letters in eight");
        assert!(matcher("headpohnse").matches("headphones"), "two swaps in ten");
        assert!(!matcher("hadpohnse").matches("headphones"), "three edits");
    }

    #[test]
    fn word_indexes_finds_the_words_in_an_fst() {
        let words = Map::from_iter([("blender", 0), ("kettle", 1), ("kettlebell", 2)]).expect("sorted");
        assert_eq!(matcher("kettel").word_indexes(&words), [1, 2]);
        assert_eq!(matcher("xettle").word_indexes(&words), [1, 2]);
        assert!(matcher("zzzzz").word_indexes(&words).is_empty());
    }
}
