//! `q` of `GET /api/search/suggest/` parsed at the edge: checked for length, normalised, and
//! split into the whole words that must match exactly and the last word that is a prefix.

use super::normalise::{normalise, words};
use crate::domain::text::{TextKind, checked};

/// Fewer characters than this (after trimming) is too little to suggest anything useful.
pub const MIN_QUERY_CHARS: usize = 3;
/// More characters than this is not something a person types into a search box.
pub const MAX_QUERY_CHARS: usize = 100;

/// Why a `q` was refused; the message is shown to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// `q` absent or blank.
    #[error("is required")]
    Missing,
    /// Shorter than the minimum after trimming.
    #[error("must be at least {MIN_QUERY_CHARS} characters")]
    TooShort,
    /// Longer than the maximum after trimming.
    #[error("must be at most {MAX_QUERY_CHARS} characters")]
    TooLong,
    /// Holds a control character (contract, Conventions: a query word never does).
    #[error("{0}")]
    ControlCharacter(String),
}

/// A valid, normalised autocomplete query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuggestQuery {
    /// The whole query normalised, words separated by one space (also the cache key's body).
    normalised: String,
    /// Byte offset in `normalised` where the last word (the prefix) starts.
    prefix_start: usize,
}

impl SuggestQuery {
    /// Parses the raw `q` parameter.
    pub fn parse(raw: Option<&str>) -> Result<Self, QueryError> {
        let raw = raw.ok_or(QueryError::Missing)?;
        // Before trimming: a control character is refused wherever it stands.
        checked("q", raw, TextKind::Line).map_err(|error| QueryError::ControlCharacter(error.message))?;
        let trimmed = raw.trim();
        let length = trimmed.chars().count();
        if length < MIN_QUERY_CHARS {
            return Err(if length == 0 { QueryError::Missing } else { QueryError::TooShort });
        }
        if length > MAX_QUERY_CHARS {
            return Err(QueryError::TooLong);
        }
        let normalised = normalise(trimmed);
        let prefix_start = normalised.rfind(' ').map_or(0, |space| space + 1);
        Ok(Self { normalised, prefix_start })
    }

    /// The normalised query, e.g. `steel ke` for `Steel  KE`.
    pub fn normalised(&self) -> &str {
        &self.normalised
    }

    /// The key this query's answer is cached under.
    pub fn cache_key(&self) -> String {
        format!("autocomplete:{}", self.normalised)
    }

    /// The words before the last: each must match a title word exactly.
    pub fn whole_words(&self) -> impl Iterator<Item = &str> {
        words(&self.normalised[..self.prefix_start])
    }

    /// The last word: a title word must start with it (empty when `q` had no letters or digits).
    pub fn prefix(&self) -> &str {
        &self.normalised[self.prefix_start..]
    }
}

#[cfg(test)]
mod tests {
    use super::{QueryError, SuggestQuery};

    #[test]
    fn a_query_splits_into_whole_words_and_a_last_prefix() {
        let query = SuggestQuery::parse(Some("  Nordwind  Compact KE ")).expect("valid");
        assert_eq!(query.whole_words().collect::<Vec<_>>(), ["nordwind", "compact"]);
        assert_eq!(query.prefix(), "ke");
        assert_eq!(query.cache_key(), "autocomplete:nordwind compact ke");
    }

    #[test]
    fn a_single_word_query_is_all_prefix() {
        let query = SuggestQuery::parse(Some("Crè")).expect("valid");
        assert_eq!(query.whole_words().count(), 0);
        assert_eq!(query.prefix(), "cre");
    }

    #[test]
    fn length_is_counted_in_characters_after_trimming() {
        assert_eq!(SuggestQuery::parse(None), Err(QueryError::Missing));
        assert_eq!(SuggestQuery::parse(Some("   ")), Err(QueryError::Missing));
        assert_eq!(SuggestQuery::parse(Some(" ab ")), Err(QueryError::TooShort));
        assert!(SuggestQuery::parse(Some("éèà")).is_ok(), "three accented characters are three characters");
        assert!(SuggestQuery::parse(Some(&"a".repeat(100))).is_ok());
        assert_eq!(SuggestQuery::parse(Some(&"a".repeat(101))), Err(QueryError::TooLong));
    }

    #[test]
    fn a_query_without_letters_has_an_empty_prefix() {
        let query = SuggestQuery::parse(Some("?!?")).expect("valid length");
        assert_eq!(query.prefix(), "");
    }
}
