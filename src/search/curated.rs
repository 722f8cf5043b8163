//! A search's words through the merchandiser's settings: synonym expansion of each query word
//! (or run of words forming an entry) on top of its own expansion, and the search rules'
//! pins placed into a match set from which they (and the hidden products) were kept out.
//!
//! Synonyms add terms to a word (`WordMatch::alternatives`, ranked as `Synonym`) or, for a
//! multi-word entry, a phrase (every word, any field). The word's own expansion still comes
//! from the expansion cache (it depends only on the index); the synonyms' come from it too,
//! each entry word expanded as a not-last word whose exact and stem terms alone are kept.

use std::collections::BTreeMap;
use std::sync::Arc;

use tantivy::{DocId, Searcher, SegmentOrdinal, Term};

use super::SearchIndex;
use super::collector::{Hit, Matches, SearchCollector};
use super::curation::{Applied, Curation};
use super::expand::{Alternative, Exactness, MatchClass, Phrase, WordMatch};
use super::synonyms::Entry;
use crate::domain::ProductId;

impl SearchIndex {
    /// The words of `terms`, each expanded in the index and through the synonym sets of
    /// `curation`: a run of words forming a multi-word entry becomes one word.
    pub(super) fn expand_curated(
        &self,
        searcher: &Searcher,
        curation: &Curation,
        terms: &[String],
    ) -> tantivy::Result<Vec<WordMatch>> {
        let fields = &self.inner.fields;
        let mut words = self.inner.expansions.expand_words(searcher, fields, terms)?;
        let synonyms = &curation.synonyms;
        if synonyms.is_empty() {
            return Ok(words);
        }
        let units = synonyms.units(terms, |at| words[at].stem.clone());
        let mut curated = Vec::with_capacity(units.len());
        for (at, unit) in units {
            let mut word = if unit.words.len() == 1 {
                std::mem::replace(&mut words[at], placeholder())
            } else {
                // The run's own words, matched as a query of them would (no prefix: a set
                // entry is whole words).
                let own: Vec<WordMatch> =
                    unit.words.iter().map(|w| self.synonym_word(searcher, w)).collect::<tantivy::Result<_>>()?;
                let docs = own.iter().map(|w| w.docs).min().unwrap_or(0);
                let mut run = placeholder();
                run.word = unit.words.join(" ");
                run.stem = run.word.clone();
                run.docs = docs;
                if own.iter().all(|w| !w.is_unknown()) {
                    run.phrases.push(Phrase { words: own, typos: 0, synonym: false });
                }
                run
            };
            let mut entries = unit.entries;
            let mut typos = 0;
            // The word's one best correction when it is no key and no term of the catalog:
            // a set entry first on a tie, else the catalog's correction.
            if entries.is_empty() && unit.words.len() == 1 && !word.is_direct() {
                let catalog = word.correction.clone().zip(word.nearest_typo());
                let corrected = match (synonyms.nearest(&word.word), catalog) {
                    (Some((entry, distance)), Some((_, catalog))) if distance <= catalog => Some((entry, distance)),
                    (Some(entry), None) => Some(entry),
                    (_, Some(catalog)) => Some(catalog),
                    (None, None) => None,
                };
                if let Some((corrected, distance)) = corrected {
                    entries = synonyms.of_word(&corrected, &super::schema::stem_of(&corrected));
                    if !entries.is_empty() && !entries.iter().any(|entry| entry.text == corrected) {
                        // The corrected entry itself matches too (as a synonym, with its typos).
                        entries.insert(0, Arc::new(Entry { text: corrected.clone(), words: vec![corrected] }));
                    }
                    typos = distance;
                }
            }
            for entry in entries {
                self.add_synonym(searcher, &mut word, &entry, typos)?;
            }
            curated.push(word);
        }
        Ok(curated)
    }

    /// `word` expanded as a synonym's word: its exact and stem terms only.
    fn synonym_word(&self, searcher: &Searcher, word: &str) -> tantivy::Result<WordMatch> {
        let mut word = self.inner.expansions.expand_one(searcher, &self.inner.fields, word, false)?;
        word.alternatives
            .retain(|alternative| alternative.class.typos == 0 && alternative.class.exactness <= Exactness::Stem);
        word.terms.retain(|term| *term == word.word);
        word.docs = 0; // recounted below from the kept terms
        for alternative in &word.alternatives {
            word.docs += searcher.doc_freq(&alternative.term)?;
        }
        Ok(word)
    }

    /// Adds `entry`'s terms (one word) or phrase (several) to `word`, ranked as a synonym
    /// carrying `typos`.
    fn add_synonym(&self, searcher: &Searcher, word: &mut WordMatch, entry: &Entry, typos: u8) -> tantivy::Result<()> {
        let entry_words: Vec<WordMatch> =
            entry.words.iter().map(|w| self.synonym_word(searcher, w)).collect::<tantivy::Result<_>>()?;
        if entry_words.iter().any(WordMatch::is_unknown) {
            return Ok(()); // some word of it is in no product: it matches nothing
        }
        match <[WordMatch; 1]>::try_from(entry_words) {
            Ok([single]) => {
                let mut added = false;
                for alternative in single.alternatives {
                    if word.alternatives.iter().any(|known| known.term == alternative.term) {
                        continue;
                    }
                    let class = MatchClass { typos, exactness: Exactness::Synonym, field: alternative.class.field };
                    word.alternatives.push(Alternative { term: alternative.term, class });
                    added = true;
                }
                word.docs += single.docs;
                word.terms.extend(single.terms);
                word.synonym_stems.push(single.stem);
                if added || single.docs > 0 {
                    word.synonyms.push(entry.text.clone());
                }
            }
            Err(several) => {
                word.docs += several.iter().map(|w| w.docs).min().unwrap_or(0);
                word.phrases.push(Phrase { words: several, typos, synonym: true });
                word.synonyms.push(entry.text.clone());
            }
        }
        Ok(())
    }

    /// The pinned products of `applied` that pass `collector`'s filters, as hits (in no
    /// particular order), with their count and facets.
    pub(super) fn pinned_matches(
        &self,
        searcher: &Searcher,
        collector: &SearchCollector,
        applied: &Applied,
    ) -> tantivy::Result<Matches> {
        let terms: Vec<Term> = applied.pins.iter().map(|(id, _)| self.id_term(*id)).collect();
        let mut fruits = Vec::with_capacity(searcher.segment_readers().len());
        for (ordinal, reader) in searcher.segment_readers().iter().enumerate() {
            let ordinal = SegmentOrdinal::try_from(ordinal).unwrap_or(SegmentOrdinal::MAX);
            let mut segment = tantivy::collector::Collector::for_segment(collector, ordinal, reader)?;
            let mut docs: Vec<DocId> = Vec::new();
            for term in &terms {
                let inverted = reader.inverted_index(term.field())?;
                if let Some(mut postings) = inverted.read_postings(term, tantivy::schema::IndexRecordOption::Basic)? {
                    use tantivy::DocSet;
                    while postings.doc() != tantivy::TERMINATED {
                        if reader.alive_bitset().is_none_or(|alive| alive.is_alive(postings.doc())) {
                            docs.push(postings.doc());
                        }
                        postings.advance();
                    }
                }
            }
            docs.sort_unstable();
            tantivy::collector::SegmentCollector::collect_block(&mut segment, &docs);
            fruits.push(tantivy::collector::SegmentCollector::harvest(segment));
        }
        tantivy::collector::Collector::merge_fruits(collector, fruits)
    }

    /// The `id` term of a product (what the walk excludes).
    pub(super) fn id_term(&self, id: ProductId) -> Term {
        Term::from_field_u64(self.inner.fields.id, u64::try_from(id.0).unwrap_or(u64::MAX))
    }
}

/// `matches` (which hold none of the pinned products) with `pinned` (those passing the
/// filters) counted and placed at their positions over the whole list (past its end: last,
/// in position order), keeping the best `top_n`.
pub(super) fn place_pins(mut matches: Matches, pinned: Matches, applied: &Applied, top_n: usize) -> Matches {
    matches.count += pinned.count;
    for (category, count) in &pinned.categories {
        *matches.categories.entry(*category).or_default() += count;
    }
    matches.price_cents = match (matches.price_cents, pinned.price_cents) {
        (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
        (one, other) => one.or(other),
    };
    let by_id: BTreeMap<u64, Hit> = pinned.top.into_iter().map(|hit| (hit.product_id, hit)).collect();
    // The whole list's length so far: the word matches, then each pin placed.
    let mut total = usize::try_from(matches.count).unwrap_or(usize::MAX).saturating_sub(by_id.len());
    for (id, position) in &applied.pins {
        let Some(hit) = by_id.get(&u64::try_from(id.0).unwrap_or(u64::MAX)) else { continue };
        let at = usize::try_from(*position).unwrap_or(usize::MAX).saturating_sub(1).min(total);
        // Beyond the kept hits means beyond `top_n`: not on the page.
        if at <= matches.top.len() {
            matches.top.insert(at, hit.clone());
        }
        total += 1;
    }
    matches.top.truncate(top_n);
    matches
}

/// A word with nothing to match yet.
fn placeholder() -> WordMatch {
    WordMatch {
        word: String::new(),
        terms: Default::default(),
        stem: String::new(),
        alternatives: Vec::new(),
        correction: None,
        docs: 0,
        phrases: Vec::new(),
        synonym_stems: Vec::new(),
        synonyms: Vec::new(),
    }
}
