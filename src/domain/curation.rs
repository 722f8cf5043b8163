//! What a merchandiser steers search with, parsed once at the edge: synonym sets and search
//! rules (contract, "Search administration"). The admin API and the admin pages share these
//! parsers, so both refuse the same input with the same field errors.
//!
//! Entries and queries are kept as typed (trimmed, single spaces); search folds them with the
//! index's own analyser when it loads them, so an entry matches exactly what a query word would.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::domain::text::{TextKind, checked};
use crate::domain::{FieldError, ProductId, Timestamp};
use crate::error::{Error, Result};

/// The longest set or rule name.
pub const MAX_NAME_CHARS: usize = 64;
/// Words in one synonym entry.
pub const MAX_ENTRY_WORDS: usize = 3;
/// Entries in one set (a root counts apart).
pub const MAX_SET_ENTRIES: usize = 20;
/// Synonym sets a store may hold.
pub const MAX_SYNONYM_SETS: i64 = 10_000;
/// Pins and hides in one rule.
pub const MAX_PINS: usize = 100;
/// Hidden products in one rule.
pub const MAX_HIDES: usize = 1_000;
/// Characters of one entry or rule query: three long words at most, and a bound on what a
/// request can make the server fold.
const MAX_ENTRY_CHARS: usize = 100;
/// Characters of a rule's query.
const MAX_QUERY_CHARS: usize = 200;

/// A set's or rule's name: 1..=64 of `a-z 0-9 _ -`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct CurationName(String);

impl CurationName {
    /// `Err` names the field `name`.
    pub fn parse(text: &str) -> std::result::Result<Self, FieldError> {
        let valid = !text.is_empty()
            && text.chars().count() <= MAX_NAME_CHARS
            && text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(FieldError::new("name", format!("must be 1 to {MAX_NAME_CHARS} of a-z, 0-9, _ and -")))
        }
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A synonym set: multi-way (`root` is `None`: every entry finds the others) or one-way (the
/// root finds the entries, not the reverse).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SynonymSet {
    /// Its name, unique.
    pub name: CurationName,
    /// One-way sets' source entry.
    pub root: Option<String>,
    /// 2..=20 entries (1..=20 with a root), each 1 to 3 words.
    pub synonyms: Vec<String>,
}

impl SynonymSet {
    /// Parses `PUT /api/admin/synonyms/<name>/`'s body under `name`.
    pub fn parse(name: &str, body: &Value) -> Result<Self> {
        let mut errors = Vec::new();
        let name = CurationName::parse(name).map_err(|error| errors.push(error)).ok();
        let object = as_object(body)?;
        reject_unknown(object, &["name", "root", "synonyms"], "a synonym set", &mut errors);
        let root = match object.get("root") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => entry("root", text, &mut errors),
            Some(_) => {
                errors.push(FieldError::new("root", "must be null or a string of 1 to 3 words"));
                None
            }
        };
        let mut synonyms = Vec::new();
        match object.get("synonyms") {
            Some(Value::Array(items)) => {
                let least = if object.get("root").is_some_and(|root| !root.is_null()) { 1 } else { 2 };
                if items.len() < least || items.len() > MAX_SET_ENTRIES {
                    let message = format!("must hold {least} to {MAX_SET_ENTRIES} entries");
                    errors.push(FieldError::new("synonyms", message));
                }
                let mut seen = BTreeSet::new();
                for (i, item) in items.iter().enumerate() {
                    let field = format!("synonyms[{i}]");
                    let Some(text) = item.as_str() else {
                        errors.push(FieldError::new(field, "must be a string of 1 to 3 words"));
                        continue;
                    };
                    if let Some(text) = entry(&field, text, &mut errors)
                        && seen.insert(text.to_lowercase())
                    {
                        synonyms.push(text);
                    }
                }
            }
            _ => errors.push(FieldError::new("synonyms", "is required and must be an array of strings")),
        }
        match name {
            Some(name) if errors.is_empty() => Ok(Self { name, root, synonyms }),
            _ => Err(Error::Validation(errors)),
        }
    }
}

/// How a rule's query meets a search's `q`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleMatch {
    /// The normalised `q` is the normalised query.
    Exact,
    /// The normalised `q` holds the query as whole consecutive words.
    Contains,
}

impl RuleMatch {
    /// `exact` or `contains`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Contains => "contains",
        }
    }
}

/// A product a rule pins, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Pin {
    /// The pinned product.
    pub product_id: ProductId,
    /// Its 1-based place in the result list.
    pub position: u32,
}

/// A search rule (curation): pins and hides for the searches whose `q` it matches, inside its
/// time window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchRule {
    /// Its name, unique; rules apply in name order.
    pub name: CurationName,
    /// The words it is about, as typed.
    pub query: String,
    /// `exact` or `contains`.
    #[serde(rename = "match")]
    pub match_kind: RuleMatch,
    /// At most [`MAX_PINS`], positions 1 and up.
    pub pin: Vec<Pin>,
    /// At most [`MAX_HIDES`] product ids.
    pub hide: Vec<ProductId>,
    /// Applies from this instant (inclusive), if set.
    pub active_from: Option<Timestamp>,
    /// Applies until this instant (exclusive), if set.
    pub active_until: Option<Timestamp>,
}

impl SearchRule {
    /// Parses `PUT /api/admin/search-rules/<name>/`'s body under `name` (product ids are checked
    /// against the catalog by the write).
    pub fn parse(name: &str, body: &Value) -> Result<Self> {
        let mut errors = Vec::new();
        let name = CurationName::parse(name).map_err(|error| errors.push(error)).ok();
        let object = as_object(body)?;
        let known = ["name", "query", "match", "pin", "hide", "active_from", "active_until"];
        reject_unknown(object, &known, "a search rule", &mut errors);
        let query = match object.get("query").and_then(Value::as_str) {
            Some(text) => words_text("query", text, MAX_QUERY_CHARS, &mut errors),
            None => {
                errors.push(FieldError::new("query", "is required and must be a string"));
                None
            }
        };
        let match_kind = match object.get("match").and_then(Value::as_str) {
            None if object.get("match").is_none() => Some(RuleMatch::Exact),
            Some("exact") => Some(RuleMatch::Exact),
            Some("contains") => Some(RuleMatch::Contains),
            _ => {
                errors.push(FieldError::new("match", "must be `exact` or `contains`"));
                None
            }
        };
        let pin = parse_pins(object.get("pin"), &mut errors);
        let hide = parse_hides(object.get("hide"), &mut errors);
        let active_from = instant(object.get("active_from"), "active_from", &mut errors);
        let active_until = instant(object.get("active_until"), "active_until", &mut errors);
        if let (Some(Some(from)), Some(Some(until))) = (active_from, active_until)
            && from > until
        {
            errors.push(FieldError::new("active_from", "must not be after active_until"));
        }
        match (name, query, match_kind, active_from, active_until) {
            (Some(name), Some(query), Some(match_kind), Some(active_from), Some(active_until)) if errors.is_empty() => {
                Ok(Self { name, query, match_kind, pin, hide, active_from, active_until })
            }
            _ => Err(Error::Validation(errors)),
        }
    }

    /// Every product id the rule names, pinned or hidden, each once.
    pub fn product_ids(&self) -> BTreeSet<ProductId> {
        self.pin.iter().map(|pin| pin.product_id).chain(self.hide.iter().copied()).collect()
    }
}

fn parse_pins(value: Option<&Value>, errors: &mut Vec<FieldError>) -> Vec<Pin> {
    let items = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            errors.push(FieldError::new("pin", "must be an array of {\"product_id\", \"position\"}"));
            return Vec::new();
        }
    };
    if items.len() > MAX_PINS {
        errors.push(FieldError::new("pin", format!("must hold at most {MAX_PINS} pins")));
        return Vec::new();
    }
    let mut pins: Vec<Pin> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let product_id = item.get("product_id").and_then(Value::as_i64).filter(|id| *id > 0);
        let position = item.get("position").and_then(Value::as_u64).filter(|at| *at > 0);
        let position = position.and_then(|at| u32::try_from(at).ok()).filter(|at| *at <= 10_000);
        let unknown = item.as_object().is_some_and(|o| o.keys().any(|k| k != "product_id" && k != "position"));
        match (product_id, position) {
            _ if unknown => {
                errors.push(FieldError::new(format!("pin[{i}]"), "has a field other than product_id and position"));
            }
            (Some(id), Some(_)) if pins.iter().any(|pin| pin.product_id.0 == id) => {
                errors.push(FieldError::new(format!("pin[{i}].product_id"), "is pinned twice"));
            }
            (Some(id), Some(position)) => pins.push(Pin { product_id: ProductId(id), position }),
            (None, _) => errors.push(FieldError::new(format!("pin[{i}].product_id"), "must be a positive integer")),
            (_, None) => {
                errors.push(FieldError::new(format!("pin[{i}].position"), "must be an integer from 1 to 10000"));
            }
        }
    }
    pins
}

fn parse_hides(value: Option<&Value>, errors: &mut Vec<FieldError>) -> Vec<ProductId> {
    let items = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            errors.push(FieldError::new("hide", "must be an array of product ids"));
            return Vec::new();
        }
    };
    if items.len() > MAX_HIDES {
        errors.push(FieldError::new("hide", format!("must hold at most {MAX_HIDES} product ids")));
        return Vec::new();
    }
    let mut hides = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        match item.as_i64().filter(|id| *id > 0) {
            Some(id) => {
                hides.insert(ProductId(id));
            }
            None => errors.push(FieldError::new(format!("hide[{i}]"), "must be a positive integer")),
        }
    }
    hides.into_iter().collect()
}

/// `Some(None)`: null or absent; `None`: an error was recorded.
fn instant(value: Option<&Value>, field: &str, errors: &mut Vec<FieldError>) -> Option<Option<Timestamp>> {
    match value {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(text)) => match Timestamp::parse_rfc3339(text) {
            Some(at) => Some(Some(at)),
            None => {
                errors.push(FieldError::new(field, "must be an RFC 3339 timestamp, e.g. 2027-06-01T00:00:00Z"));
                None
            }
        },
        Some(_) => {
            errors.push(FieldError::new(field, "must be null or an RFC 3339 timestamp"));
            None
        }
    }
}

/// An entry of 1..=3 words, trimmed, single-spaced.
fn entry(field: &str, text: &str, errors: &mut Vec<FieldError>) -> Option<String> {
    let text = words_text(field, text, MAX_ENTRY_CHARS, errors)?;
    if text.split(' ').count() > MAX_ENTRY_WORDS {
        errors.push(FieldError::new(field, format!("must be 1 to {MAX_ENTRY_WORDS} words")));
        return None;
    }
    Some(text)
}

/// Non-blank one-line text, its words single-spaced.
fn words_text(field: &str, text: &str, max_chars: usize, errors: &mut Vec<FieldError>) -> Option<String> {
    if let Err(error) = checked(field, text, TextKind::Line) {
        errors.push(error);
        return None;
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let joined = words.join(" ");
    if joined.is_empty() || joined.chars().count() > max_chars {
        errors.push(FieldError::new(field, format!("must be 1 to {max_chars} characters, not blank")));
        return None;
    }
    Some(joined)
}

fn as_object(body: &Value) -> Result<&Map<String, Value>> {
    body.as_object().ok_or_else(|| Error::field("body", "must be a JSON object"))
}

fn reject_unknown(object: &Map<String, Value>, known: &[&str], what: &str, errors: &mut Vec<FieldError>) {
    for member in object.keys().filter(|member| !known.contains(&member.as_str())) {
        errors.push(FieldError::new(member.clone(), format!("is not a field of {what}")));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(result: Result<impl std::fmt::Debug>) -> Vec<String> {
        match result {
            Err(Error::Validation(errors)) => errors.into_iter().map(|error| error.field).collect(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn a_set_needs_a_valid_name_two_entries_or_a_root_and_at_most_three_words_each() {
        assert!(SynonymSet::parse("knitwear", &json!({"synonyms": ["sweater", "jumper"]})).is_ok());
        assert!(SynonymSet::parse("shoes", &json!({"root": "trainers", "synonyms": ["running shoes"]})).is_ok());
        assert_eq!(fields(SynonymSet::parse("Knit Wear", &json!({"synonyms": ["a", "b"]}))), ["name"]);
        assert_eq!(fields(SynonymSet::parse("k", &json!({"synonyms": ["sweater"]}))), ["synonyms"]);
        assert_eq!(fields(SynonymSet::parse("k", &json!({"synonyms": ["a b c d", "e"]}))), ["synonyms[0]"]);
        assert_eq!(fields(SynonymSet::parse("k", &json!({"synonyms": ["a", "\u{1}"]}))), ["synonyms[1]"]);
        let many: Vec<String> = (0..21).map(|i| format!("w{i}")).collect();
        assert_eq!(fields(SynonymSet::parse("k", &json!({"synonyms": many}))), ["synonyms"]);
        assert_eq!(fields(SynonymSet::parse(&"a".repeat(65), &json!({"synonyms": ["a", "b"]}))), ["name"]);
    }

    #[test]
    fn a_rule_refuses_too_many_pins_a_reversed_window_and_bad_ids() {
        let rule = json!({"query": " Summer  sale ", "match": "contains", "pin": [{"product_id": 3, "position": 1}],
                          "hide": [4, 4], "active_from": "2026-06-01T00:00:00Z", "active_until": null});
        let parsed = SearchRule::parse("summer", &rule).expect("valid");
        assert_eq!((parsed.query.as_str(), parsed.hide.len()), ("Summer sale", 1));
        let reversed =
            json!({"query": "a", "active_from": "2026-06-02T00:00:00Z", "active_until": "2026-06-01T00:00:00Z"});
        assert_eq!(fields(SearchRule::parse("r", &reversed)), ["active_from"]);
        let pins: Vec<Value> = (1..=101).map(|i| json!({"product_id": i, "position": 1})).collect();
        assert_eq!(fields(SearchRule::parse("r", &json!({"query": "a", "pin": pins}))), ["pin"]);
        assert_eq!(fields(SearchRule::parse("r", &json!({"query": "a", "hide": [0]}))), ["hide[0]"]);
        assert_eq!(fields(SearchRule::parse("r", &json!({"query": "a", "match": "fuzzy"}))), ["match"]);
    }
}
