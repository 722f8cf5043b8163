//! The tantivy query of a search with words: a document matches when every required word
//! matches one of its alternatives (AND), and its score is its packed rank (see `rank`).
//!
//! A word is a union of the posting lists of its alternatives (same word, stem, typos,
//! prefixes, in each field); the words are intersected by leapfrogging from the rarest. The
//! union is a plain scan of its cursors: a word has a few lists, at most
//! 3 × [`MAX_EXPANSIONS`](super::query::MAX_EXPANSIONS) per expansion kind, and only the
//! ones present in the segment are kept. Optional words (dropped by relaxation) never decide
//! a match; a document having them still ranks higher ("more words matched").

use std::sync::Arc;

use tantivy::query::{EmptyScorer, EnableScoring, Explanation, Query, Scorer, TermQuery, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError};

use super::expand::{MatchClass, WordMatch};
use super::rank::DocRank;

/// Matches documents having the first `required` words, ranks them by all the words.
#[derive(Debug, Clone)]
pub struct RankedQuery {
    words: Arc<Vec<WordMatch>>,
    required: usize,
}

impl RankedQuery {
    /// `None` when no word is required (then nothing would restrict the match).
    pub fn new(words: Arc<Vec<WordMatch>>, required: usize) -> Option<Self> {
        (required > 0 && required <= words.len()).then_some(Self { words, required })
    }
}

impl Query for RankedQuery {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let record = if scoring.is_scoring_enabled() { IndexRecordOption::WithFreqs } else { IndexRecordOption::Basic };
        let words = self
            .words
            .iter()
            .map(|word| {
                word.alternatives
                    .iter()
                    .map(|alternative| {
                        let weight = TermQuery::new(alternative.term.clone(), record).weight(scoring)?;
                        Ok((weight, alternative.class))
                    })
                    .collect::<tantivy::Result<Vec<_>>>()
            })
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Box::new(RankedWeight { words, required: self.required, scoring: scoring.is_scoring_enabled() }))
    }
}

struct RankedWeight {
    /// Per word, the weight of each alternative and its class.
    words: Vec<Vec<(Box<dyn Weight>, MatchClass)>>,
    required: usize,
    scoring: bool,
}

impl Weight for RankedWeight {
    fn scorer(&self, reader: &SegmentReader, _boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut cursors = Vec::with_capacity(self.words.len());
        for alternatives in &self.words {
            let mut postings = Vec::with_capacity(alternatives.len());
            for (weight, class) in alternatives {
                let scorer = weight.scorer(reader, 1.0)?;
                if scorer.doc() != TERMINATED {
                    postings.push((scorer, *class));
                }
            }
            cursors.push(WordCursor::new(postings));
        }
        let optional = cursors.split_off(self.required);
        let mut required = cursors;
        if required.iter().any(|cursor| cursor.doc == TERMINATED) {
            return Ok(Box::new(EmptyScorer));
        }
        // The rarest word drives the intersection: fewest candidates to check.
        required.sort_by_key(WordCursor::size_hint);
        let mut scorer = RankedScorer { required, optional, scoring: self.scoring, doc: 0 };
        let first = scorer.required.first().map_or(TERMINATED, |cursor| cursor.doc);
        scorer.align(first);
        Ok(Box::new(scorer))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) != doc {
            return Err(TantivyError::InvalidArgument(format!("document {doc} does not match")));
        }
        Ok(Explanation::new("packed rank (see search::rank)", scorer.score()))
    }
}

/// One word in one segment: the union of its alternatives' posting lists.
struct WordCursor {
    postings: Vec<(Box<dyn Scorer>, MatchClass)>,
    /// The smallest document any alternative is on ([`TERMINATED`] when all are done).
    doc: DocId,
}

impl WordCursor {
    fn new(postings: Vec<(Box<dyn Scorer>, MatchClass)>) -> Self {
        let mut cursor = Self { postings, doc: TERMINATED };
        cursor.doc = cursor.min_doc();
        cursor
    }

    fn min_doc(&self) -> DocId {
        self.postings.iter().map(|(scorer, _)| scorer.doc()).min().unwrap_or(TERMINATED)
    }

    fn size_hint(&self) -> u32 {
        self.postings.iter().fold(0u32, |sum, (scorer, _)| sum.saturating_add(scorer.size_hint()))
    }

    /// Moves to the first document at or after `target`.
    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc < target {
            for (scorer, _) in &mut self.postings {
                if scorer.doc() < target {
                    scorer.seek(target);
                }
            }
            self.doc = self.min_doc();
        }
        self.doc
    }

    fn advance(&mut self) -> DocId {
        let current = self.doc;
        for (scorer, _) in &mut self.postings {
            if scorer.doc() == current {
                scorer.advance();
            }
        }
        self.doc = self.min_doc();
        self.doc
    }

    /// The best class among the alternatives on the current document, and their BM25 sum.
    fn features(&mut self, scoring: bool) -> (MatchClass, f32) {
        let mut best: Option<MatchClass> = None;
        let mut bm25 = 0.0;
        for (scorer, class) in &mut self.postings {
            if scorer.doc() == self.doc {
                best = Some(best.map_or(*class, |best| best.min(*class)));
                if scoring {
                    bm25 += scorer.score() * class.field.boost();
                }
            }
        }
        let worst = MatchClass {
            typos: 2,
            exactness: super::expand::Exactness::Prefix,
            field: super::expand::FieldRank::Description,
        };
        (best.unwrap_or(worst), bm25)
    }
}

struct RankedScorer {
    /// Never empty (see [`RankedQuery::new`]); the first drives the intersection.
    required: Vec<WordCursor>,
    optional: Vec<WordCursor>,
    scoring: bool,
    doc: DocId,
}

impl RankedScorer {
    /// Moves to the first document at or after `candidate` that every required word has.
    fn align(&mut self, mut candidate: DocId) -> DocId {
        'candidates: while candidate != TERMINATED {
            for cursor in &mut self.required {
                let doc = cursor.seek(candidate);
                if doc > candidate {
                    candidate = doc;
                    continue 'candidates;
                }
            }
            break;
        }
        self.doc = candidate;
        candidate
    }
}

impl DocSet for RankedScorer {
    fn advance(&mut self) -> DocId {
        let next = self.required.first_mut().map_or(TERMINATED, WordCursor::advance);
        self.align(next)
    }

    fn seek(&mut self, target: DocId) -> DocId {
        if target <= self.doc {
            return self.doc;
        }
        self.align(target)
    }

    fn doc(&self) -> DocId {
        self.doc
    }

    fn size_hint(&self) -> u32 {
        self.required.iter().map(WordCursor::size_hint).min().unwrap_or(0)
    }
}

impl Scorer for RankedScorer {
    fn score(&mut self) -> Score {
        let mut rank = DocRank::default();
        for cursor in &mut self.required {
            let (class, bm25) = cursor.features(self.scoring);
            rank.add_word(class, bm25);
        }
        for cursor in &mut self.optional {
            if cursor.seek(self.doc) == self.doc {
                let (class, bm25) = cursor.features(self.scoring);
                rank.add_word(class, bm25);
            }
        }
        rank.pack()
    }
}
