//! Turns the user's `q` into a tantivy query, word by word, without any query syntax.
//!
//! `q` is run through the index's own analyser, so the terms are exactly the indexed ones and
//! `"`, `title:x AND (`, `*` or control characters are just separators. Each word matches in
//! the title (boosted) or the description; a multi-word query adds one more clause matching
//! only documents that have every word, so those rank above documents with some words.

use std::collections::BTreeSet;

use tantivy::Term;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
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
///
/// One flat union of every (word, field) term, so tantivy scores it with one union scorer
/// instead of a union of unions; the all-words clause is an intersection driven by the
/// rarest word, so it costs little beyond the union.
pub fn text_query(fields: &ProductFields, terms: &[String]) -> Option<Box<dyn Query>> {
    if terms.is_empty() {
        return None;
    }
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::with_capacity(2 * terms.len() + 1);
    for word in terms {
        clauses.push((Occur::Should, title_query(fields, word)));
        clauses.push((Occur::Should, term_query(fields.description, word)));
    }
    if terms.len() > 1 {
        let every_word = terms.iter().map(|word| word_query(fields, word)).collect();
        let all_words = Box::new(BoostQuery::new(Box::new(BooleanQuery::intersection(every_word)), ALL_WORDS_BOOST));
        clauses.push((Occur::Should, all_words));
    }
    Some(Box::new(BooleanQuery::new(clauses)))
}

/// One word, in the title (boosted) or the description.
fn word_query(fields: &ProductFields, word: &str) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(vec![
        (Occur::Should, title_query(fields, word)),
        (Occur::Should, term_query(fields.description, word)),
    ]))
}

fn title_query(fields: &ProductFields, word: &str) -> Box<dyn Query> {
    Box::new(BoostQuery::new(term_query(fields.title, word), TITLE_BOOST))
}

fn term_query(field: Field, word: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, word), IndexRecordOption::WithFreqs))
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
