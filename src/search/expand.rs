//! Expanding each query word into the index terms it matches, and how well: the same word,
//! its English stem, terms within its typo budget (a Levenshtein automaton run over the term
//! dictionary, itself an fst) and, for the last word, the terms it is a prefix of.
//!
//! Typo and prefix expansions keep the [`MAX_EXPANSIONS`] most frequent terms, so a word
//! costs at most that many posting lists per field however short or common it is.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder, SINK_STATE};
use tantivy::schema::Field;
use tantivy::{Searcher, Term};
use tantivy_fst::Automaton;

use super::query::{MAX_EXPANSIONS, may_match_as_prefix, typo_budget};
use super::schema::{ProductFields, stem_of};

/// How a word met a document; smaller is better in every part. The ranking compares the
/// parts in this order (see `rank`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct MatchClass {
    /// Damerau-Levenshtein distance between the word and the term (0, 1 or 2).
    pub typos: u8,
    /// Exact before stem before synonym before prefix.
    pub exactness: Exactness,
    /// Title before category name before description.
    pub field: FieldRank,
}

impl MatchClass {
    /// One byte that orders as the class does (smaller is better), for per-document arrays.
    pub fn code(self) -> u8 {
        self.typos * 12 + self.exactness as u8 * 3 + self.field as u8
    }

    /// The class of a [`code`](Self::code); anything out of range is the worst class.
    pub fn from_code(code: u8) -> Self {
        let exactness = match (code / 3) % 4 {
            0 => Exactness::Exact,
            1 => Exactness::Stem,
            2 => Exactness::Synonym,
            _ => Exactness::Prefix,
        };
        let field = match code % 3 {
            0 => FieldRank::Title,
            1 => FieldRank::Category,
            _ => FieldRank::Description,
        };
        Self { typos: (code / 12).min(2), exactness, field }
    }
}

/// How closely a term matches a word, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exactness {
    /// The word itself (or a typo of it: typos are ranked by their own rule).
    Exact = 0,
    /// Shares the word's English stem (`kettles` for `kettle`).
    Stem = 1,
    /// A synonym of the word (or of its correction) through a synonym set.
    Synonym = 2,
    /// Starts with the word (only the last word, which is still being typed).
    Prefix = 3,
}

/// Which field a term matched in, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FieldRank {
    /// The product's title.
    Title = 0,
    /// Its category's name.
    Category = 1,
    /// Its description.
    Description = 2,
}

impl FieldRank {
    /// BM25 weight of a hit in this field: titles are short and say what a product is.
    pub fn boost(self) -> f32 {
        match self {
            Self::Title => 3.0,
            Self::Category => 2.0,
            Self::Description => 1.0,
        }
    }
}

/// One term a word may match, and how good such a match is.
#[derive(Debug, Clone)]
pub struct Alternative {
    /// The index term it matches.
    pub term: Term,
    /// How good a match through that term is.
    pub class: MatchClass,
}

/// A query word with everything it may match.
#[derive(Debug, Clone)]
pub struct WordMatch {
    /// The word as typed (folded).
    pub word: String,
    /// The exact-field terms it matches (itself, typo and prefix expansions), for highlights.
    pub terms: BTreeSet<String>,
    /// Its English stem, which highlights also mark.
    pub stem: String,
    /// Every term it may match, each with its class.
    pub alternatives: Vec<Alternative>,
    /// When the word matches only through typos: its most frequent typo term.
    pub correction: Option<String>,
    /// Documents having its terms, summed over its distinct terms (exact, stem, typo,
    /// prefix and synonym) and fields, deleted documents included: how many products the word
    /// matches, as relaxation weighs it (the contract's "document frequency").
    pub docs: u64,
    /// Ways to match that need several words at once: a multi-word synonym entry, or the
    /// word's own words when it is a run of query words forming an entry (see `synonyms`).
    pub phrases: Vec<Phrase>,
    /// The stems of its single-word synonyms, which highlights also mark.
    pub synonym_stems: Vec<String>,
    /// The synonyms that matched some product, for `match.synonyms`.
    pub synonyms: Vec<String>,
}

/// A match through every one of several words (any field, no adjacency).
#[derive(Debug, Clone)]
pub struct Phrase {
    /// Each word with its exact and stem alternatives.
    pub words: Vec<WordMatch>,
    /// Typos carried from the query word's correction (a synonym reached through a typo).
    pub typos: u8,
    /// Whether it is a synonym (ranked as one) rather than the query's own words.
    pub synonym: bool,
}

impl WordMatch {
    /// Whether the word matches no term of the catalog in any way: it is ignored.
    pub fn is_unknown(&self) -> bool {
        self.alternatives.is_empty() && self.phrases.is_empty()
    }

    /// Whether the word itself (or its stem) is a term of the catalog, with no typo.
    pub fn is_direct(&self) -> bool {
        self.alternatives
            .iter()
            .any(|alternative| alternative.class.typos == 0 && alternative.class.exactness <= Exactness::Stem)
    }

    /// The smallest typo distance of its typo terms, when it has some.
    pub fn nearest_typo(&self) -> Option<u8> {
        self.alternatives.iter().map(|alternative| alternative.class.typos).filter(|typos| *typos > 0).min()
    }

    /// The word narrowed to its correction's terms (itself when it has none): what
    /// `did_you_mean` would search for.
    pub fn corrected(&self) -> Self {
        let Some(correction) = &self.correction else {
            return self.clone();
        };
        let alternatives = self
            .alternatives
            .iter()
            .filter(|alternative| alternative.term.value().as_str() == Some(correction.as_str()))
            .cloned()
            .collect();
        Self { alternatives, phrases: Vec::new(), ..self.clone() }
    }
}

/// Expands every word of `words` against `searcher`'s term dictionaries, uncached: what the
/// tests compare with. Searches go through `expansions::ExpansionCache`.
#[cfg(test)]
pub fn expand_words(searcher: &Searcher, fields: &ProductFields, words: &[String]) -> tantivy::Result<Vec<WordMatch>> {
    let last = words.len().saturating_sub(1);
    words.iter().enumerate().map(|(i, word)| expand_word(searcher, fields, word, i == last)).collect()
}

/// Expands one word; `is_last`: the last word of the query, which may match as a prefix.
pub fn expand_word(
    searcher: &Searcher,
    fields: &ProductFields,
    word: &str,
    is_last: bool,
) -> tantivy::Result<WordMatch> {
    let exact_fields = exact_fields(fields);
    let stem = stem_of(word);
    let mut alternatives = Vec::new();
    let mut direct_docs = 0;
    for (field, stem_field, rank) in exact_fields {
        for (field, text, exactness) in [(field, word, Exactness::Exact), (stem_field, stem.as_str(), Exactness::Stem)]
        {
            let term = Term::from_field_text(field, text);
            let docs = searcher.doc_freq(&term)?;
            direct_docs += docs;
            // A term in no document would only cost a posting-list lookup per segment.
            if docs > 0 {
                alternatives.push(Alternative { term, class: MatchClass { typos: 0, exactness, field: rank } });
            }
        }
    }
    let mut terms = BTreeSet::from([word.to_owned()]);
    if may_match_as_prefix(word, is_last) {
        let prefixed = most_frequent(searcher, &exact_fields, word, &Prefix(word.as_bytes()))?;
        direct_docs += prefixed.iter().map(|found| found.docs).sum::<u64>();
        for found in prefixed {
            push_exact(&mut alternatives, &exact_fields, &found, 0, Exactness::Prefix);
            terms.insert(found.term);
        }
    }
    let mut correction = None;
    let mut docs = direct_docs;
    let budget = typo_budget(word);
    if budget > 0 {
        let dfa = typo_builder(budget).build_dfa(word);
        let typos = most_frequent(searcher, &exact_fields, word, &Typos(&dfa))?;
        if direct_docs == 0 {
            correction = typos.first().map(|found| found.term.clone());
        }
        for found in typos {
            let distance = match dfa.eval(found.term.as_bytes()) {
                Distance::Exact(distance) => distance,
                Distance::AtLeast(distance) => distance,
            };
            push_exact(&mut alternatives, &exact_fields, &found, distance, Exactness::Exact);
            // A term that is also a prefix term is counted once.
            if terms.insert(found.term) {
                docs += found.docs;
            }
        }
    }
    Ok(WordMatch {
        word: word.to_owned(),
        terms,
        stem,
        alternatives,
        correction,
        docs,
        phrases: Vec::new(),
        synonym_stems: Vec::new(),
        synonyms: Vec::new(),
    })
}

/// (exact field, its stem field, rank), best-ranked first.
fn exact_fields(fields: &ProductFields) -> [(Field, Field, FieldRank); 3] {
    [
        (fields.title, fields.title_stem, FieldRank::Title),
        (fields.category, fields.category_stem, FieldRank::Category),
        (fields.description, fields.description_stem, FieldRank::Description),
    ]
}

/// One alternative per exact field the found term occurs in.
fn push_exact(
    alternatives: &mut Vec<Alternative>,
    fields: &[(Field, Field, FieldRank)],
    found: &FoundTerm,
    typos: u8,
    exactness: Exactness,
) {
    for (i, (field, _, rank)) in fields.iter().enumerate() {
        if found.in_fields & (1 << i) != 0 {
            let class = MatchClass { typos, exactness, field: *rank };
            alternatives.push(Alternative { term: Term::from_field_text(*field, &found.term), class });
        }
    }
}

/// A term an automaton found in the exact fields.
#[derive(Debug, Default)]
struct FoundTerm {
    term: String,
    /// Documents having it, summed over fields and segments.
    docs: u64,
    /// Bit `i`: present in the `i`-th of [`exact_fields`].
    in_fields: u8,
}

/// The terms of the exact fields that `automaton` accepts, other than `word` itself, with
/// their document frequencies summed over fields and segments: the [`MAX_EXPANSIONS`] most
/// frequent, most frequent first (ties by term, so the choice is deterministic).
fn most_frequent<A>(
    searcher: &Searcher,
    fields: &[(Field, Field, FieldRank)],
    word: &str,
    automaton: &A,
) -> tantivy::Result<Vec<FoundTerm>>
where
    A: Automaton + Clone,
    A::State: Clone,
{
    let mut found: BTreeMap<Vec<u8>, FoundTerm> = BTreeMap::new();
    for segment in searcher.segment_readers() {
        for (i, (field, _, _)) in fields.iter().enumerate() {
            let inverted = segment.inverted_index(*field)?;
            let mut stream = inverted.terms().search(automaton.clone()).into_stream()?;
            while let Some((term, info)) = stream.next() {
                if term != word.as_bytes() {
                    let entry = found.entry(term.to_vec()).or_default();
                    entry.docs += u64::from(info.doc_freq);
                    entry.in_fields |= 1 << i;
                }
            }
        }
    }
    let mut found: Vec<FoundTerm> = found
        .into_iter()
        .filter_map(|(term, found)| String::from_utf8(term).ok().map(|term| FoundTerm { term, ..found }))
        .collect();
    found.sort_by(|a, b| (Reverse(a.docs), &a.term).cmp(&(Reverse(b.docs), &b.term)));
    found.truncate(MAX_EXPANSIONS);
    Ok(found)
}

/// Builds the typo automata's tables now, so the first long misspelt word of a serving
/// process does not pay for them.
pub fn prepare_typo_automata() {
    typo_builder(1);
    typo_builder(2);
}

/// Building a Levenshtein automaton builder is costly (tables for the distance); built once.
pub(super) fn typo_builder(distance: u8) -> &'static LevenshteinAutomatonBuilder {
    static ONE: OnceLock<LevenshteinAutomatonBuilder> = OnceLock::new();
    static TWO: OnceLock<LevenshteinAutomatonBuilder> = OnceLock::new();
    // `true`: a transposition (`kettel` for `kettle`) is one typo (Damerau).
    match distance {
        1 => ONE.get_or_init(|| LevenshteinAutomatonBuilder::new(1, true)),
        _ => TWO.get_or_init(|| LevenshteinAutomatonBuilder::new(2, true)),
    }
}

/// Terms within a word's typo budget.
#[derive(Clone, Copy)]
pub(super) struct Typos<'a>(pub(super) &'a DFA);

impl Automaton for Typos<'_> {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(self.0.distance(*state), Distance::Exact(_))
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}

/// Terms starting with the given bytes.
#[derive(Clone, Copy)]
struct Prefix<'a>(&'a [u8]);

impl Automaton for Prefix<'_> {
    /// Bytes matched so far, or `None` once one differed.
    type State = Option<usize>;

    fn start(&self) -> Option<usize> {
        Some(0)
    }

    fn is_match(&self, state: &Option<usize>) -> bool {
        *state == Some(self.0.len())
    }

    fn can_match(&self, state: &Option<usize>) -> bool {
        state.is_some()
    }

    fn will_always_match(&self, state: &Option<usize>) -> bool {
        *state == Some(self.0.len())
    }

    fn accept(&self, state: &Option<usize>, byte: u8) -> Option<usize> {
        match *state {
            Some(matched) if matched == self.0.len() => Some(matched),
            Some(matched) if self.0.get(matched) == Some(&byte) => Some(matched + 1),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(automaton: &impl Automaton, text: &str) -> bool {
        let mut state = automaton.start();
        for byte in text.bytes() {
            state = automaton.accept(&state, byte);
        }
        automaton.is_match(&state)
    }

    #[test]
    fn a_swapped_pair_is_one_typo() {
        let dfa = typo_builder(1).build_dfa("kettle");
        assert!(accepts(&Typos(&dfa), "kettel"));
        assert!(accepts(&Typos(&dfa), "ketle"));
        assert!(accepts(&Typos(&dfa), "kettlr"));
        assert!(!accepts(&Typos(&dfa), "kitler"));
    }

    #[test]
    fn a_prefix_accepts_longer_terms_only_when_they_start_with_it() {
        assert!(accepts(&Prefix(b"kett"), "kettle"));
        assert!(accepts(&Prefix(b"kett"), "kett"));
        assert!(!accepts(&Prefix(b"kett"), "ket"));
        assert!(!accepts(&Prefix(b"kett"), "skettle"));
    }

    #[test]
    fn a_class_code_orders_as_the_class_and_decodes_back() {
        let exactnesses = [Exactness::Exact, Exactness::Stem, Exactness::Synonym, Exactness::Prefix];
        let fields = [FieldRank::Title, FieldRank::Category, FieldRank::Description];
        let mut classes = Vec::new();
        for typos in 0..=2 {
            for exactness in exactnesses {
                for field in fields {
                    classes.push(MatchClass { typos, exactness, field });
                }
            }
        }
        for class in &classes {
            assert_eq!(MatchClass::from_code(class.code()), *class);
        }
        for pair in classes.windows(2) {
            assert!(pair[0] < pair[1] && pair[0].code() < pair[1].code(), "{pair:?}");
        }
    }

    #[test]
    fn classes_order_typos_then_exactness_then_field() {
        let class = |typos, exactness, field| MatchClass { typos, exactness, field };
        assert!(class(0, Exactness::Prefix, FieldRank::Description) < class(1, Exactness::Exact, FieldRank::Title));
        assert!(class(0, Exactness::Stem, FieldRank::Description) < class(0, Exactness::Prefix, FieldRank::Title));
        assert!(class(0, Exactness::Exact, FieldRank::Title) < class(0, Exactness::Exact, FieldRank::Category));
    }
}
