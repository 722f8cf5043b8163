//! `explain=true`: why each result of the page matched and ranked where it did (contract,
//! Search, `explain`): per query word, its best match on that product (the term, how, typos,
//! field), and the BM25 the rank carries.
//!
//! The walk keeps only each document's packed rank, not which alternative of each word met it
//! (keeping that would cost every search). So, for the page's products alone and only when
//! asked, each word's alternatives (the expansion the search already computed and cached)
//! are looked up on the page's documents: one posting list per alternative and segment,
//! sought forward through the page's documents of that segment in order. A page of 20 costs
//! a few hundred list openings, nothing a search without `explain` ever pays.

use std::collections::BTreeMap;

use serde::Serialize;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Searcher, SegmentOrdinal, TERMINATED, Term};

use super::collector::Hit;
use super::expand::{Exactness, FieldRank, MatchClass, WordMatch};
use super::schema::ProductFields;

/// Why one result matched and ranked where it did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Explain {
    /// Placed by a search rule's pin (under relevance); with no `words` when its words do not
    /// match it.
    pub pinned: bool,
    /// Each query word's best match on this product, in query order; ignored words, and
    /// dropped words the product lacks, are absent.
    pub words: Vec<WordExplain>,
    /// The BM25 part of the rank (the earlier rules decide first); 0 when the results are not
    /// sorted by relevance (no BM25 is computed then).
    pub bm25: f32,
}

/// One query word's best match on one product.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WordExplain {
    /// The query word (folded).
    pub word: String,
    /// The index term it matched (a stem match shows the stem).
    pub term: String,
    /// `exact`, `stem`, `synonym`, `prefix` or `typo` (a synonym reached through a correction
    /// is a `synonym` with its typos).
    pub how: &'static str,
    /// Typos between the word and the term.
    pub typos: u8,
    /// `title`, `category` or `description`.
    pub field: &'static str,
}

impl WordExplain {
    fn of(word: &WordMatch, term: &Term, class: MatchClass) -> Self {
        let how = match (class.typos, class.exactness) {
            (_, Exactness::Synonym) => "synonym",
            (1.., _) => "typo",
            (0, Exactness::Exact) => "exact",
            (0, Exactness::Stem) => "stem",
            (0, Exactness::Prefix) => "prefix",
        };
        let field = match class.field {
            FieldRank::Title => "title",
            FieldRank::Category => "category",
            FieldRank::Description => "description",
        };
        let term = term.value().as_str().unwrap_or_default().to_owned();
        Self { word: word.word.clone(), term, how, typos: class.typos, field }
    }
}

/// The explanation of each of `hits` (in their order) for `words` (in query order), on
/// `searcher` (the one the search matched on). `bm25` gives a hit's BM25.
pub fn explain_hits(
    searcher: &Searcher,
    fields: &ProductFields,
    words: &[&WordMatch],
    hits: &[Hit],
    bm25: impl Fn(&Hit) -> f32,
) -> tantivy::Result<Vec<Explain>> {
    // Each hit's document, grouped by segment, ascending (lists are only sought forward).
    let mut by_segment: BTreeMap<SegmentOrdinal, Vec<(DocId, usize)>> = BTreeMap::new();
    for (at, hit) in hits.iter().enumerate() {
        if let Some((segment, doc)) = document_of(searcher, fields, hit.product_id)? {
            by_segment.entry(segment).or_default().push((doc, at));
        }
    }
    // best[hit][word]: the best alternative found on that hit's document.
    let mut best: Vec<Vec<Option<(MatchClass, &Term)>>> = vec![vec![None; words.len()]; hits.len()];
    for (segment, docs) in &mut by_segment {
        docs.sort_unstable();
        let reader = searcher.segment_reader(*segment);
        for (w, word) in words.iter().enumerate() {
            for alternative in &word.alternatives {
                let inverted = reader.inverted_index(alternative.term.field())?;
                let Some(mut postings) = inverted.read_postings(&alternative.term, IndexRecordOption::Basic)? else {
                    continue;
                };
                for &(doc, at) in docs.iter() {
                    if postings.doc() < doc && postings.seek(doc) == TERMINATED {
                        break;
                    }
                    if postings.doc() == doc {
                        let slot = &mut best[at][w];
                        if slot.is_none_or(|(class, _)| alternative.class < class) {
                            *slot = Some((alternative.class, &alternative.term));
                        }
                    }
                }
            }
        }
    }
    Ok(hits
        .iter()
        .zip(best)
        .map(|(hit, found)| Explain {
            pinned: false,
            words: words
                .iter()
                .zip(found)
                .filter_map(|(word, found)| found.map(|(class, term)| WordExplain::of(word, term, class)))
                .collect(),
            bm25: bm25(hit),
        })
        .collect())
}

/// The live document of `product_id` in `searcher`: (segment, doc).
fn document_of(
    searcher: &Searcher,
    fields: &ProductFields,
    product_id: u64,
) -> tantivy::Result<Option<(SegmentOrdinal, DocId)>> {
    let term = Term::from_field_u64(fields.id, product_id);
    for (ordinal, reader) in searcher.segment_readers().iter().enumerate() {
        let Some(mut postings) = reader.inverted_index(fields.id)?.read_postings(&term, IndexRecordOption::Basic)?
        else {
            continue;
        };
        let mut doc = postings.doc();
        while doc != TERMINATED {
            if !reader.is_deleted(doc) {
                return Ok(Some((SegmentOrdinal::try_from(ordinal).unwrap_or(SegmentOrdinal::MAX), doc)));
            }
            doc = postings.advance();
        }
    }
    Ok(None)
}
