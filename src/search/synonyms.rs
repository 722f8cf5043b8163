//! Synonym sets in memory: which entries a query word (or a run of query words) finds, built
//! once per change from every set and swapped whole (see `curation`), so a search reads an
//! immutable map and a change applies from the very next search.
//!
//! Entries are folded with the index's own analyser, so `Jumper` and `jumper` are one key, and
//! single-word entries are also keyed by their English stem (`jumpers` finds the `jumper` set).
//! A word that is no key may still reach a set through its one best typo correction: the
//! single-word entries sit in an fst, searched with the same Levenshtein automaton as the
//! term dictionaries (`expand`).

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use tantivy_fst::{IntoStreamer, Map, Streamer};

use super::expand::{Typos, typo_builder};
use super::query::typo_budget;
use super::schema::{stem_of, text_analyzer};
use crate::domain::curation::SynonymSet;

/// Entries a word expands to at most (the contract's 50).
pub const MAX_ENTRIES_PER_WORD: usize = 50;
/// The longest entry, in words: the longest run of query words looked up as one.
const MAX_ENTRY_WORDS: usize = 3;

/// One entry of a set, folded.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Entry {
    /// Its folded words joined by single spaces: the key and what `match.synonyms` shows.
    pub text: String,
    /// Its folded words.
    pub words: Vec<String>,
}

/// Every set, as lookups.
#[derive(Default)]
pub struct Synonyms {
    /// A key (an entry's folded text) → the entries it finds, in set-name order, each once.
    by_text: HashMap<String, Vec<Arc<Entry>>>,
    /// A single-word key's stem → the entries its sets find.
    by_stem: HashMap<String, Vec<Arc<Entry>>>,
    /// The single-word keys, for typo corrections.
    words: Option<Map<Vec<u8>>>,
    /// How many sets were loaded.
    sets: usize,
}

/// How a run of query words met the sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unit {
    /// The query words of the run (one, or the 2-3 words of a multi-word entry).
    pub words: Vec<String>,
    /// The entries it finds (at most [`MAX_ENTRIES_PER_WORD`]).
    pub entries: Vec<Arc<Entry>>,
}

impl Synonyms {
    /// The lookups of `sets` (in name order, as the table lists them).
    pub fn build(sets: &[SynonymSet]) -> Self {
        let mut analyzer = text_analyzer();
        let mut fold = |text: &str| -> Option<Arc<Entry>> {
            let mut words = Vec::new();
            let mut stream = analyzer.token_stream(text);
            while stream.advance() {
                words.push(stream.token().text.clone());
            }
            (!words.is_empty()).then(|| Arc::new(Entry { text: words.join(" "), words }))
        };
        let mut finds: Vec<(Arc<Entry>, Vec<Arc<Entry>>)> = Vec::new();
        for set in sets {
            let entries: Vec<Arc<Entry>> = set.synonyms.iter().filter_map(|text| fold(text)).collect();
            match set.root.as_deref().and_then(&mut fold) {
                Some(root) => finds.push((root, entries)),
                None => {
                    for entry in &entries {
                        let others = entries.iter().filter(|other| other.text != entry.text).cloned().collect();
                        finds.push((entry.clone(), others));
                    }
                }
            }
        }
        let mut by_text: HashMap<String, Vec<Arc<Entry>>> = HashMap::new();
        let mut by_stem: HashMap<String, Vec<Arc<Entry>>> = HashMap::new();
        for (key, found) in finds {
            if key.words.len() == 1 {
                add(by_stem.entry(stem_of(&key.text)).or_default(), &found);
            }
            add(by_text.entry(key.text.clone()).or_default(), &found);
        }
        let single: BTreeSet<&str> = by_text.keys().filter(|key| !key.contains(' ')).map(String::as_str).collect();
        let words = Map::from_iter(single.into_iter().map(|key| (key, 0u64))).ok();
        Self { by_text, by_stem, words, sets: sets.len() }
    }

    /// Whether no set is loaded (searches then skip every lookup).
    pub fn is_empty(&self) -> bool {
        self.by_text.is_empty()
    }

    /// Sets loaded.
    pub fn sets(&self) -> usize {
        self.sets
    }

    /// Splits `words` (folded query words, in order) into runs: a run of 2-3 words forming a
    /// multi-word key is one unit (the longest first, leftmost first); every other word is
    /// its own. Each unit carries what its folded form (and, for one word, its stem, from
    /// `stem`) finds directly; corrections are the caller's ([`Self::nearest`]).
    pub fn units(&self, words: &[String], stem: impl Fn(usize) -> String) -> Vec<(usize, Unit)> {
        let mut units = Vec::with_capacity(words.len());
        let mut at = 0;
        while at < words.len() {
            let run = (2..=MAX_ENTRY_WORDS.min(words.len() - at))
                .rev()
                .find(|len| self.by_text.contains_key(&words[at..at + len].join(" ")));
            match run {
                Some(len) => {
                    let text = words[at..at + len].join(" ");
                    let entries = self.by_text.get(&text).map(|found| capped(found, &text)).unwrap_or_default();
                    units.push((at, Unit { words: words[at..at + len].to_vec(), entries }));
                    at += len;
                }
                None => {
                    let entries = self.of_word(&words[at], &stem(at));
                    units.push((at, Unit { words: vec![words[at].clone()], entries }));
                    at += 1;
                }
            }
        }
        units
    }

    /// The entries a single word finds through its folded form or its stem.
    pub fn of_word(&self, word: &str, stem: &str) -> Vec<Arc<Entry>> {
        if self.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<Arc<Entry>> = Vec::new();
        for list in [self.by_text.get(word), self.by_stem.get(stem)].into_iter().flatten() {
            add(&mut found, list);
        }
        capped(&found, word)
    }

    /// The single-word key nearest `word` within its typo budget, and its distance (the
    /// smallest; ties by key); `None` when none is that close.
    pub fn nearest(&self, word: &str) -> Option<(String, u8)> {
        let budget = typo_budget(word);
        let words = self.words.as_ref().filter(|_| budget > 0)?;
        let dfa = typo_builder(budget).build_dfa(word);
        let mut stream = words.search(Typos(&dfa)).into_stream();
        let mut best: Option<(String, u8)> = None;
        while let Some((key, _)) = stream.next() {
            let distance = match dfa.eval(key) {
                levenshtein_automata::Distance::Exact(distance) => distance,
                levenshtein_automata::Distance::AtLeast(distance) => distance,
            };
            if best.as_ref().is_none_or(|(_, best)| distance < *best)
                && let Ok(key) = std::str::from_utf8(key)
            {
                best = Some((key.to_owned(), distance));
            }
        }
        best
    }
}

/// Appends the entries of `more` not in `list` yet.
fn add(list: &mut Vec<Arc<Entry>>, more: &[Arc<Entry>]) {
    for entry in more {
        if !list.iter().any(|known| known.text == entry.text) {
            list.push(entry.clone());
        }
    }
}

/// `found` without `own` (the word itself), at most [`MAX_ENTRIES_PER_WORD`].
fn capped(found: &[Arc<Entry>], own: &str) -> Vec<Arc<Entry>> {
    found.iter().filter(|entry| entry.text != own).take(MAX_ENTRIES_PER_WORD).cloned().collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn set(name: &str, body: &serde_json::Value) -> SynonymSet {
        SynonymSet::parse(name, body).expect("a valid set")
    }

    fn texts(entries: &[Arc<Entry>]) -> Vec<&str> {
        entries.iter().map(|entry| entry.text.as_str()).collect()
    }

    fn words(query: &str) -> Vec<String> {
        query.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn multi_way_sets_find_each_other_and_one_way_sets_only_from_their_root() {
        let synonyms = Synonyms::build(&[
            set("knit", &json!({"synonyms": ["Sweater", "jumper", "pullover"]})),
            set("shoes", &json!({"root": "trainers", "synonyms": ["sneakers", "running shoes"]})),
        ]);
        assert_eq!(texts(&synonyms.of_word("jumper", "jumper")), ["sweater", "pullover"]);
        assert_eq!(texts(&synonyms.of_word("jumpers", "jumper")), ["sweater", "pullover"]);
        assert_eq!(texts(&synonyms.of_word("trainers", "trainer")), ["sneakers", "running shoes"]);
        assert!(synonyms.of_word("sneakers", "sneaker").is_empty(), "one-way");
        assert_eq!(synonyms.nearest("jumpr"), Some(("jumper".to_owned(), 1)));
        assert_eq!(synonyms.nearest("jump"), None, "four letters have no typo budget");
    }

    #[test]
    fn a_run_forming_a_multi_word_key_is_one_unit() {
        let synonyms = Synonyms::build(&[set("shoes", &json!({"synonyms": ["trainers", "running shoes"]}))]);
        let units = synonyms.units(&words("red running shoes"), |_| String::new());
        let shown: Vec<(usize, Vec<String>, Vec<&str>)> =
            units.iter().map(|(at, unit)| (*at, unit.words.clone(), texts(&unit.entries))).collect();
        assert_eq!(shown, [(0, words("red"), vec![]), (1, words("running shoes"), vec!["trainers"])],);
    }

    #[test]
    fn a_word_expands_to_at_most_fifty_entries() {
        let sets: Vec<SynonymSet> = (0..5)
            .map(|i| {
                let mut entries: Vec<String> = (0..19).map(|j| format!("w{i}x{j}")).collect();
                entries.push("hub".to_owned());
                set(&format!("s{i}"), &json!({ "synonyms": entries }))
            })
            .collect();
        assert_eq!(Synonyms::build(&sets).of_word("hub", "hub").len(), MAX_ENTRIES_PER_WORD);
    }
}
