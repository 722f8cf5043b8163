//! The words of the user's `q`, and the rules that say how each word may match.
//!
//! `q` is run through the index's own analyser, so the words are exactly the indexed terms
//! and `"`, `title:x AND (`, `*` or control characters are just separators. No query syntax
//! is ever interpreted.

use std::collections::BTreeSet;

use tantivy::tokenizer::TextAnalyzer;

/// Words of `q` beyond this are ignored. It bounds the work one request can ask for (a
/// 500-word `q` costs what an 8-word one does) and the ranking key (see `rank`), which
/// counts matched words, typos, exactness and fields per word. Meilisearch keeps 10.
pub const MAX_QUERY_WORDS: usize = 8;
/// Typo and prefix expansions kept per word: the most frequent terms first. A word's cost
/// (postings walked) is bounded by this many terms per field, however short or common it is.
pub const MAX_EXPANSIONS: usize = 64;
/// A prefix shorter than this expands to too much to mean anything.
pub const MIN_PREFIX_CHARS: usize = 2;

/// The distinct terms of `q`, in the order they first appear, at most [`MAX_QUERY_WORDS`].
pub fn query_terms(analyzer: &mut TextAnalyzer, q: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut terms = Vec::new();
    let mut stream = analyzer.token_stream(q);
    while stream.advance() && terms.len() < MAX_QUERY_WORDS {
        let text = &stream.token().text;
        if seen.insert(text.clone()) {
            terms.push(text.clone());
        }
    }
    terms
}

/// The Damerau-Levenshtein distance a word may be from a term: 1 for 5-8 characters, 2 for
/// 9 or more, none for shorter words or any word with a digit (SKUs, sizes and years match
/// exactly: `500ml` must not find `300ml`).
pub fn typo_budget(word: &str) -> u8 {
    if has_digit(word) {
        return 0;
    }
    match word.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// Whether the word may also match the terms it is a prefix of: only the last word (the one
/// being typed), of at least [`MIN_PREFIX_CHARS`] characters, and never a word with a digit
/// (`10` must not find `100`: numbers match exactly).
pub fn may_match_as_prefix(word: &str, is_last: bool) -> bool {
    is_last && word.chars().count() >= MIN_PREFIX_CHARS && !has_digit(word)
}

fn has_digit(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::schema::text_analyzer;

    #[test]
    fn terms_are_distinct_analysed_and_bounded() {
        let mut analyzer = text_analyzer();
        assert_eq!(query_terms(&mut analyzer, "Kettle kettle STEEL"), ["kettle", "steel"]);
        assert!(query_terms(&mut analyzer, "\"*( \u{0} \u{7}").is_empty());
        let long: String = (0..200).map(|i| format!("w{i} ")).collect();
        assert_eq!(query_terms(&mut analyzer, &long).len(), MAX_QUERY_WORDS);
    }

    #[test]
    fn the_typo_budget_grows_with_the_word_and_is_zero_with_digits() {
        let budgets: Vec<u8> = ["tent", "kettl", "kettlers", "stainless", "500ml", "kettle2"].map(typo_budget).to_vec();
        assert_eq!(budgets, [0, 1, 1, 2, 0, 0]);
    }

    #[test]
    fn only_the_last_word_of_two_letters_or_more_without_digits_is_a_prefix() {
        assert!(may_match_as_prefix("ke", true));
        assert!(!may_match_as_prefix("k", true));
        assert!(!may_match_as_prefix("kett", false));
        assert!(!may_match_as_prefix("50", true));
    }
}
