//! The tantivy query of a search with words: a document matches when every required word
//! matches one of its alternatives (AND), and its score is its packed rank (see `rank`).
//!
//! A word is a union of the posting lists of its alternatives (same word, stem, typos,
//! prefixes, in each field: at most 3 × [`MAX_EXPANSIONS`](super::query::MAX_EXPANSIONS)
//! lists per expansion kind, only those present in the segment kept); the words are
//! intersected by leapfrogging from the rarest. Optional words (dropped by relaxation) never decide
//! a match; a document having them still ranks higher ("more words matched").

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use tantivy::query::{EmptyScorer, EnableScoring, Explanation, Query, Scorer, TermQuery, Weight};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, TantivyError};

use super::expand::{Exactness, FieldRank, MatchClass, WordMatch};
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
///
/// The lists not on the current document wait in a min-heap by their next document, so a
/// step costs the lists on that document (times a log), not all of them: a two-letter prefix
/// can bring close to 200 lists, while a document has one or two of them.
struct WordCursor {
    postings: Vec<(Box<dyn Scorer>, MatchClass)>,
    /// The lists on `doc`.
    on_doc: Vec<usize>,
    /// The other live lists, by their current document.
    waiting: BinaryHeap<Reverse<(DocId, usize)>>,
    /// The smallest document any list is on ([`TERMINATED`] when all are done).
    doc: DocId,
}

impl WordCursor {
    fn new(postings: Vec<(Box<dyn Scorer>, MatchClass)>) -> Self {
        let waiting = postings.iter().enumerate().map(|(i, (scorer, _))| Reverse((scorer.doc(), i))).collect();
        let mut cursor = Self { postings, on_doc: Vec::new(), waiting, doc: TERMINATED };
        cursor.gather();
        cursor
    }

    /// Moves the lists on the smallest waiting document to `on_doc`.
    fn gather(&mut self) -> DocId {
        self.doc = self.waiting.peek().map_or(TERMINATED, |Reverse((doc, _))| *doc);
        while let Some(Reverse((doc, i))) = self.waiting.peek().copied() {
            if doc != self.doc {
                break;
            }
            self.waiting.pop();
            self.on_doc.push(i);
        }
        self.doc
    }

    fn wait(&mut self, i: usize, doc: DocId) {
        if doc != TERMINATED {
            self.waiting.push(Reverse((doc, i)));
        }
    }

    fn size_hint(&self) -> u32 {
        self.postings.iter().fold(0u32, |sum, (scorer, _)| sum.saturating_add(scorer.size_hint()))
    }

    /// Moves to the first document at or after `target`.
    fn seek(&mut self, target: DocId) -> DocId {
        if self.doc >= target {
            return self.doc;
        }
        for i in std::mem::take(&mut self.on_doc) {
            let doc = self.postings[i].0.seek(target);
            self.wait(i, doc);
        }
        while let Some(Reverse((doc, i))) = self.waiting.peek().copied() {
            if doc >= target {
                break;
            }
            self.waiting.pop();
            let doc = self.postings[i].0.seek(target);
            self.wait(i, doc);
        }
        self.gather()
    }

    fn advance(&mut self) -> DocId {
        for i in std::mem::take(&mut self.on_doc) {
            let doc = self.postings[i].0.advance();
            self.wait(i, doc);
        }
        self.gather()
    }

    /// The best class among the alternatives on the current document, and their BM25 sum.
    fn features(&mut self, scoring: bool) -> (MatchClass, f32) {
        let mut best: Option<MatchClass> = None;
        let mut bm25 = 0.0;
        for i in &self.on_doc {
            let (scorer, class) = &mut self.postings[*i];
            best = Some(best.map_or(*class, |best| best.min(*class)));
            if scoring {
                bm25 += scorer.score() * class.field.boost();
            }
        }
        let worst = MatchClass { typos: 2, exactness: Exactness::Prefix, field: FieldRank::Description };
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
