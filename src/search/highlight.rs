//! `highlight=true`: a result's title and description, HTML-escaped, with every word that
//! made it match wrapped in `<mark>`, the description cropped around its first match.
//!
//! The text is tokenised with the index's own analyser, so a word is marked exactly when
//! the index would match it: the same term, a typo or prefix expansion the query used, or
//! the same English stem.

use std::fmt::Write as _;

use serde::Serialize;
use tantivy::tokenizer::TextAnalyzer;

use super::expand::WordMatch;
use super::schema::{stem_analyzer, text_analyzer};

/// Words kept around the description's first match (about the contract's 30).
const CROP_WORDS: usize = 30;
/// Of those, words shown before the first match, so it reads in context.
const CROP_WORDS_BEFORE: usize = 8;
const ELLIPSIS: &str = "…";

/// A row's text with matched words marked (`<mark>…</mark>`), as `highlight=true` shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Highlight {
    /// The whole title, marked.
    pub title: String,
    /// About 30 words around the description's first match, marked.
    pub description: String,
}

/// Marks what `words` match; build one per search and reuse it for every row.
pub struct Highlighter<'a> {
    words: &'a [WordMatch],
    analyzer: TextAnalyzer,
    stemmer: TextAnalyzer,
}

/// A word of the text: its byte range, and whether a query word matches it.
struct Token {
    from: usize,
    to: usize,
    matched: bool,
}

impl<'a> Highlighter<'a> {
    /// A highlighter for the query's `words`.
    pub fn new(words: &'a [WordMatch]) -> Self {
        Self { words, analyzer: text_analyzer(), stemmer: stem_analyzer() }
    }

    /// Marks what the words match in one row's title and description.
    pub fn highlight(&mut self, title: &str, description: &str) -> Highlight {
        let title_tokens = self.tokens(title);
        let tokens = self.tokens(description);
        let first_match = tokens.iter().position(|token| token.matched);
        let start = first_match.map_or(0, |first| first.saturating_sub(CROP_WORDS_BEFORE));
        let end = (start + CROP_WORDS).min(tokens.len());
        let mut cropped = String::new();
        if tokens.len() > end || start > 0 {
            let from = if start == 0 { 0 } else { tokens[start].from };
            let to = if end == tokens.len() { description.len() } else { tokens[end - 1].to };
            if start > 0 {
                cropped.push_str(ELLIPSIS);
            }
            cropped.push_str(&marked(description, &tokens[start..end], from, to));
            if end < tokens.len() {
                cropped.push_str(ELLIPSIS);
            }
        } else {
            cropped = marked(description, &tokens, 0, description.len());
        }
        Highlight { title: marked(title, &title_tokens, 0, title.len()), description: cropped }
    }

    fn tokens(&mut self, text: &str) -> Vec<Token> {
        let mut tokens = Vec::new();
        {
            let mut stream = self.analyzer.token_stream(text);
            while stream.advance() {
                let token = stream.token();
                tokens.push((token.offset_from, token.offset_to, token.text.clone()));
            }
        }
        tokens.into_iter().map(|(from, to, term)| Token { from, to, matched: self.matches(&term) }).collect()
    }

    fn matches(&mut self, term: &str) -> bool {
        // A word's own terms, and those of its multi-word synonyms' (or its run's) words.
        let every = || {
            self.words.iter().flat_map(|word| {
                std::iter::once(word).chain(word.phrases.iter().flat_map(|phrase| phrase.words.iter()))
            })
        };
        if every().any(|word| word.terms.contains(term)) {
            return true;
        }
        let mut stream = self.stemmer.token_stream(term);
        let stem = if stream.advance() { stream.token().text.clone() } else { return false };
        every().any(|word| word.stem == stem || word.synonym_stems.contains(&stem))
    }
}

/// `text[from..to]`, escaped, with the matched tokens (all inside the range) marked.
fn marked(text: &str, tokens: &[Token], from: usize, to: usize) -> String {
    let mut out = String::with_capacity(to.saturating_sub(from) + 16);
    let mut at = from;
    for token in tokens.iter().filter(|token| token.matched) {
        escape_into(&mut out, text.get(at..token.from).unwrap_or(""));
        out.push_str("<mark>");
        escape_into(&mut out, text.get(token.from..token.to).unwrap_or(""));
        out.push_str("</mark>");
        at = token.to;
    }
    escape_into(&mut out, text.get(at..to).unwrap_or(""));
    out
}

fn escape_into(out: &mut String, text: &str) {
    // Writing into a String cannot fail.
    let _ = maud::Escaper::new(out).write_str(text);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::search::schema::stem_of;

    fn word(text: &str, also: &[&str]) -> WordMatch {
        let mut terms: BTreeSet<String> = also.iter().map(|term| (*term).to_owned()).collect();
        terms.insert(text.to_owned());
        WordMatch {
            word: text.to_owned(),
            terms,
            stem: stem_of(text),
            alternatives: Vec::new(),
            correction: None,
            docs: 0,
            phrases: Vec::new(),
            synonym_stems: Vec::new(),
            synonyms: Vec::new(),
        }
    }

    #[test]
    fn every_matched_word_is_marked_and_the_rest_escaped() {
        let words = [word("kettle", &[]), word("ste", &["steel"])];
        let mut highlighter = Highlighter::new(&words);
        let shown = highlighter.highlight("Steel <Kettles> & co", "A kettle.");
        assert_eq!(shown.title, "<mark>Steel</mark> &lt;<mark>Kettles</mark>&gt; &amp; co");
        assert_eq!(shown.description, "A <mark>kettle</mark>.");
    }

    #[test]
    fn a_long_description_is_cropped_around_its_first_match() {
        let words = [word("kettle", &[])];
        let description = format!("{} kettle {}", "w ".repeat(50), "z ".repeat(50));
        let shown = Highlighter::new(&words).highlight("T", &description);
        assert!(shown.description.starts_with('…') && shown.description.ends_with('…'), "{}", shown.description);
        assert!(shown.description.contains("<mark>kettle</mark>"));
        assert_eq!(shown.description.split_whitespace().count(), CROP_WORDS);
    }
}
