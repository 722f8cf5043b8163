//! The relevance rank of one matching document, packed into the one `f32` a tantivy scorer
//! can hand the collector.
//!
//! The contract's rules are lexicographic: more words matched, then fewer typos, then exact
//! before stem before prefix, then title before category name before description, then BM25
//! (then id, which the collector adds). Adding weighted scores cannot keep such an order
//! exactly, so the rules are packed as integers into the high bits of a positive float's bit
//! pattern and BM25 fills the low 15 bits. Positive finite floats order as their bits do, so
//! the collector's float order is exactly the rules' order.

use tantivy::Score;

use super::expand::MatchClass;
use super::query::MAX_QUERY_WORDS;

/// [`MAX_QUERY_WORDS`] as the packing's integer type (it is a small constant).
#[allow(clippy::cast_possible_truncation)]
const MAX_WORDS: u32 = MAX_QUERY_WORDS as u32;
/// Typos and fields range over 0..=2 per word, so over 0..=2 * MAX_QUERY_WORDS.
const BASE: u32 = 2 * MAX_WORDS + 1;
/// Exactness ranges over 0..=3 per word (exact, stem, synonym, prefix). The largest tier,
/// ((8 * 17 + 16) * 25 + 24) * 17 + 16 = 65,024, still fits the 16 bits above BM25's 15.
const EXACTNESS_BASE: u32 = 3 * MAX_WORDS + 1;
const BM25_BITS: u32 = 15;
const BM25_STEPS: f32 = ((1 << BM25_BITS) - 1) as f32;
/// BM25 is squashed by `s / (s + K)` into 0..1 before quantising: it keeps the order and
/// spends the steps where scores usually are (a few units to a few tens).
const BM25_HALF_POINT: f32 = 16.0;

/// The ranking features of one document, summed over the query's words.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct DocRank {
    /// Query words the document matches.
    pub words_matched: u32,
    /// Typos summed over the matched words.
    pub typos: u32,
    /// [`Exactness`](super::expand::Exactness) summed over the matched words (0 = all exact).
    pub exactness: u32,
    /// [`FieldRank`](super::expand::FieldRank) summed over the matched words (0 = all in titles).
    pub fields: u32,
    /// BM25 summed over the matched words, the last tie-breaker.
    pub bm25: f32,
}

impl DocRank {
    /// Adds one matched word: its best class, and its BM25 (summed over its terms).
    pub fn add_word(&mut self, class: MatchClass, bm25: f32) {
        self.words_matched += 1;
        self.typos += u32::from(class.typos);
        self.exactness += class.exactness as u32;
        self.fields += class.field as u32;
        self.bm25 += bm25;
    }

    /// A positive finite float that orders documents by the rules (greater is better).
    pub fn pack(&self) -> Score {
        let better = |sum: u32, base: u32| (base - 1) - sum.min(base - 1);
        let tier = ((self.words_matched.min(MAX_WORDS) * BASE + better(self.typos, BASE)) * EXACTNESS_BASE
            + better(self.exactness, EXACTNESS_BASE))
            * BASE
            + better(self.fields, BASE);
        let bm25 = self.bm25.max(0.0);
        let squashed = bm25 / (bm25 + BM25_HALF_POINT);
        let steps = round_half_up(squashed * BM25_STEPS);
        Score::from_bits((tier << BM25_BITS) | steps)
    }
}

/// `value.round()` for a value in `0..2^23`, without the libm call `round` is on targets
/// without SSE4.1 (it was a twentieth of a one-word search): below 2^23 a float minus its
/// integer part is exact, so this rounds half away from zero exactly as `round` does.
fn round_half_up(value: f32) -> u32 {
    // `as` truncates towards zero (and saturates): the integer part of a non-negative value.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (whole, fraction) = {
        let whole = value as u32;
        (whole, value - whole as f32)
    };
    if fraction >= 0.5 { whole + 1 } else { whole }
}

/// The BM25 part of a packed rank, as shown in a result's `score`.
pub fn bm25_of(packed: Score) -> f32 {
    let squashed = (packed.to_bits() & ((1 << BM25_BITS) - 1)) as f32 / BM25_STEPS;
    if squashed >= 1.0 { f32::MAX } else { BM25_HALF_POINT * squashed / (1.0 - squashed) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::expand::{Exactness, FieldRank};

    fn rank(words: &[(u8, Exactness, FieldRank)], bm25: f32) -> Score {
        let mut rank = DocRank::default();
        for (typos, exactness, field) in words {
            rank.add_word(MatchClass { typos: *typos, exactness: *exactness, field: *field }, bm25);
        }
        rank.pack()
    }

    const EXACT_TITLE: (u8, Exactness, FieldRank) = (0, Exactness::Exact, FieldRank::Title);

    #[test]
    fn rounding_half_up_is_rounding() {
        let mut value = 0.0f32;
        while value < BM25_STEPS {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let rounded = value.round() as u32;
            assert_eq!(round_half_up(value), rounded, "{value}");
            value += 0.123_457;
        }
        for value in [0.0, 0.5, 0.499_999_97, 1.5, 2.5, 32_766.5, BM25_STEPS] {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let rounded = value.round() as u32;
            assert_eq!(round_half_up(value), rounded, "{value}");
        }
    }

    #[test]
    fn more_words_matched_beats_everything_after_it() {
        let worst_word = (2, Exactness::Prefix, FieldRank::Description);
        assert!(rank(&[worst_word, worst_word], 0.0) > rank(&[EXACT_TITLE], 1000.0));
    }

    #[test]
    fn fewer_typos_beat_exactness_fields_and_bm25() {
        assert!(
            rank(&[(0, Exactness::Prefix, FieldRank::Description)], 0.1)
                > rank(&[(1, Exactness::Exact, FieldRank::Title)], 99.0)
        );
    }

    #[test]
    fn exact_beats_stem_beats_synonym_beats_prefix_whatever_the_field() {
        let exact = rank(&[(0, Exactness::Exact, FieldRank::Description)], 0.1);
        let stem = rank(&[(0, Exactness::Stem, FieldRank::Title)], 50.0);
        let synonym = rank(&[(0, Exactness::Synonym, FieldRank::Title)], 80.0);
        let prefix = rank(&[(0, Exactness::Prefix, FieldRank::Title)], 99.0);
        assert!(exact > stem && stem > synonym && synonym > prefix);
        let worst = [(2, Exactness::Prefix, FieldRank::Description); MAX_QUERY_WORDS];
        assert!(rank(&worst, 1e9).is_finite() && rank(&worst, 1e9) > 0.0);
    }

    #[test]
    fn title_beats_category_beats_description_then_bm25_decides() {
        let in_title = rank(&[EXACT_TITLE], 0.5);
        let in_category = rank(&[(0, Exactness::Exact, FieldRank::Category)], 40.0);
        let in_description = rank(&[(0, Exactness::Exact, FieldRank::Description)], 90.0);
        assert!(in_title > in_category && in_category > in_description);
        assert!(rank(&[EXACT_TITLE], 7.0) > rank(&[EXACT_TITLE], 6.0));
    }

    #[test]
    fn the_packed_rank_is_a_finite_positive_float_and_keeps_its_bm25() {
        let best = [EXACT_TITLE; MAX_QUERY_WORDS];
        let packed = rank(&best, 1e9);
        assert!(packed.is_finite() && packed > 0.0);
        assert!((bm25_of(rank(&[EXACT_TITLE], 7.31)) - 7.31).abs() < 0.01);
    }
}
