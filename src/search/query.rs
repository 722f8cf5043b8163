//! Turns the user's `q` into a tantivy query, word by word, without any query syntax.
//!
//! `q` is run through the index's own analyser, so the terms are exactly the indexed ones and
//! `"`, `title:x AND (`, `*` or control characters are just separators. Each word matches in
//! the title (boosted) or the description; a multi-word query adds one more clause matching
//! only documents that have every word, so those rank above documents with some words.

use std::collections::BTreeSet;

use tantivy::Term;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::tokenizer::TextAnalyzer;

use super::schema::ProductFields;

/// A title hit weighs this many description hits: titles are short and say what it is.
const TITLE_BOOST: f32 = 3.0;
/// Weight of the "has every word" clause, on top of the per-word scores it repeats.
const ALL_WORDS_BOOST: f32 = 2.0;
/// Words of `q` beyond this are ignored: it bounds the work one request can ask for
/// (a 500-character `q` is at most this many term lookups).
pub const MAX_QUERY_WORDS: usize = 16;

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

/// The scoring query for `terms`; `None` when there are none (then nothing matches).
pub fn text_query(fields: &ProductFields, terms: &[String]) -> Option<Box<dyn Query>> {
    let per_word: Vec<Box<dyn Query>> = terms.iter().map(|word| word_query(fields, word)).collect();
    match per_word.len() {
        0 => None,
        1 => per_word.into_iter().next(),
        _ => {
            let all_words = BooleanQuery::intersection(per_word.iter().map(|query| query.box_clone()).collect());
            let mut clauses: Vec<(Occur, Box<dyn Query>)> =
                per_word.into_iter().map(|query| (Occur::Should, query)).collect();
            clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(all_words), ALL_WORDS_BOOST))));
            Some(Box::new(BooleanQuery::new(clauses)))
        }
    }
}

/// One word, in the title (boosted) or the description.
fn word_query(fields: &ProductFields, word: &str) -> Box<dyn Query> {
    let term_query = |field| -> Box<dyn Query> {
        Box::new(TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::WithFreqs))
    };
    Box::new(BooleanQuery::new(vec![
        (Occur::Should, Box::new(BoostQuery::new(term_query(fields.title), TITLE_BOOST))),
        (Occur::Should, term_query(fields.description)),
    ]))
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
}
