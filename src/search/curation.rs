//! What the merchandiser set, in memory: the synonym sets (see `synonyms`) and the search
//! rules, loaded from the database whole after every change and swapped in one pointer store,
//! so a search reads one immutable snapshot and a change applies from the very next search.
//!
//! Cached answers never outlive a change: the snapshot's generation is part of the result
//! cache's stamp and of the match cache's key, and so is the rules' *window epoch* (how many
//! of the rules' `active_from`/`active_until` instants have passed), so a rule's window
//! opening or closing misses every answer computed before it.

use std::collections::BTreeSet;

use rusqlite::Connection;

use super::schema::text_analyzer;
use super::synonyms::Synonyms;
use crate::db::admin::curation::{curation_generation, every_search_rule, every_synonym_set};
use crate::domain::curation::{RuleMatch, SearchRule};
use crate::domain::{ProductId, Timestamp};
use crate::error::Result;

/// One snapshot of the sets and rules.
#[derive(Default)]
pub struct Curation {
    /// Moves with every load: caches key their answers by it.
    pub generation: u64,
    /// The database's `search_curation_generation` the sets and rules were read at.
    pub stored_generation: i64,
    /// The synonym sets as lookups.
    pub synonyms: Synonyms,
    /// The rules, in name order.
    rules: Vec<LoadedRule>,
    /// Every window instant of every rule (µs), ascending.
    boundaries: Vec<i64>,
}

struct LoadedRule {
    rule: SearchRule,
    /// The rule's query, folded.
    words: Vec<String>,
}

/// What the rules that apply to one search ask for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Their names, in name order.
    pub names: Vec<String>,
    /// Products to place, with their 1-based places, an earlier rule's pin keeping its place;
    /// never a hidden one.
    pub pins: Vec<(ProductId, u32)>,
    /// Products never shown.
    pub hides: BTreeSet<ProductId>,
}

impl Applied {
    /// Whether any rule applied.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

impl Curation {
    /// Reads every set and rule (one read transaction) into a snapshot of `generation`.
    pub fn load(conn: &Connection, generation: u64) -> Result<Self> {
        let tx = conn.unchecked_transaction()?;
        let stored_generation = curation_generation(&tx)?;
        let sets = every_synonym_set(&tx)?;
        let rules = every_search_rule(&tx)?;
        tx.finish()?;
        Ok(Self { stored_generation, ..Self::of(&sets, rules, generation) })
    }

    /// A snapshot of these sets and rules.
    pub fn of(sets: &[crate::domain::curation::SynonymSet], rules: Vec<SearchRule>, generation: u64) -> Self {
        let mut boundaries: Vec<i64> =
            rules.iter().flat_map(|rule| [rule.active_from, rule.active_until]).flatten().map(|at| at.micros).collect();
        boundaries.sort_unstable();
        boundaries.dedup();
        let rules = rules.into_iter().map(|rule| LoadedRule { words: folded_words(&rule.query), rule }).collect();
        Self { generation, stored_generation: 0, synonyms: Synonyms::build(sets), rules, boundaries }
    }

    /// How many window instants have passed at `now`: answers computed at another epoch may
    /// differ in which rules apply.
    pub fn window_epoch(&self, now: Timestamp) -> usize {
        self.boundaries.partition_point(|at| *at <= now.micros)
    }

    /// Whether any rule exists (searches skip the rules otherwise).
    pub fn has_rules(&self) -> bool {
        !self.rules.is_empty()
    }

    /// The rules that apply to a search whose folded words are `q` at `now`, merged.
    pub fn applying(&self, q: &[String], now: Timestamp) -> Applied {
        let mut applied = Applied::default();
        if q.is_empty() {
            return applied;
        }
        let mut pins: Vec<(ProductId, u32)> = Vec::new();
        for loaded in &self.rules {
            let rule = &loaded.rule;
            let open =
                rule.active_from.is_none_or(|from| from <= now) && rule.active_until.is_none_or(|until| now < until);
            let meets = match rule.match_kind {
                RuleMatch::Exact => loaded.words == q,
                RuleMatch::Contains => {
                    !loaded.words.is_empty() && q.windows(loaded.words.len()).any(|run| run == loaded.words.as_slice())
                }
            };
            if !(open && meets) {
                continue;
            }
            applied.names.push(rule.name.as_str().to_owned());
            applied.hides.extend(rule.hide.iter().copied());
            for pin in &rule.pin {
                if pins.iter().any(|(id, _)| *id == pin.product_id) {
                    continue; // an earlier rule placed it
                }
                // An earlier rule's pin keeps its place: a later one takes the next free place.
                let mut position = pin.position;
                while pins.iter().any(|(_, taken)| *taken == position) {
                    position += 1;
                }
                pins.push((pin.product_id, position));
            }
        }
        pins.retain(|(id, _)| !applied.hides.contains(id));
        pins.sort_by_key(|(_, position)| *position);
        applied.pins = pins;
        applied
    }
}

/// `text`'s words as the index folds them (the contract's "normalised" query).
pub fn folded_words(text: &str) -> Vec<String> {
    let mut analyzer = text_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut words = Vec::new();
    while stream.advance() {
        words.push(stream.token().text.clone());
    }
    words
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn rule(name: &str, body: &serde_json::Value) -> SearchRule {
        SearchRule::parse(name, body).expect("a valid rule")
    }

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).expect("an instant")
    }

    #[test]
    fn rules_meet_the_folded_query_exactly_or_as_whole_words_inside_their_window() {
        let rules = vec![
            rule("a", &json!({"query": "Summer Sale", "pin": [{"product_id": 1, "position": 1}], "hide": [2]})),
            rule(
                "b",
                &json!({"query": "sale", "match": "contains", "pin": [{"product_id": 3, "position": 1}, {"product_id": 2, "position": 2}],
                              "active_from": "2026-06-01T00:00:00Z", "active_until": "2026-07-01T00:00:00Z"}),
            ),
        ];
        let curation = Curation::of(&[], rules, 1);
        let june = at("2026-06-15T00:00:00Z");
        let applied = curation.applying(&folded_words("summer sale"), june);
        assert_eq!(applied.names, ["a", "b"]);
        assert_eq!(applied.pins, [(ProductId(1), 1), (ProductId(3), 2)], "b's pin moves past a's; 2 is hidden");
        assert_eq!(curation.applying(&folded_words("summer sales"), june).names, Vec::<String>::new());
        assert_eq!(curation.applying(&folded_words("big sale now"), june).names, ["b"]);
        assert_eq!(curation.applying(&folded_words("wholesale"), june).names, Vec::<String>::new());
        assert!(curation.applying(&folded_words("big sale"), at("2026-07-01T00:00:00Z")).is_empty(), "closed");
        assert_eq!(curation.window_epoch(june), 1);
        assert_eq!(curation.window_epoch(at("2026-07-01T00:00:00Z")), 2);
    }
}
