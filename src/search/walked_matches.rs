//! What a walk of the posting lists found, kept to be fed to a collector again: every match of
//! a query on one searcher, before any filter, with its packed rank when scored. `walk` records
//! it as it goes (in windows of [`WINDOW`] documents) and `word_matches` keeps it in its cache:
//! here, below both, the walk needs nothing of the cache's file.

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocId, Score, Searcher, SegmentOrdinal};

use super::collector::{Matches, SearchCollector};

/// Documents per window of the driving word: its bitset is 64 words, its per-document
/// class and BM25 arrays 20 KiB, so a window stays in the L1/L2 cache.
pub(super) const WINDOW: u32 = 4096;
/// Matches fed to the collector at once on a replay: the walk's window, as the walk fed them.
const REPLAY_BLOCK: usize = WINDOW as usize;

/// Every match of a query on one searcher, segment by segment, before any filter.
#[derive(Debug, Default)]
pub struct WordMatches {
    /// In the searcher's segment order.
    pub(super) segments: Vec<SegmentMatches>,
    /// Postings in the driving word's lists, over every segment: what the walk read.
    pub(super) walked_postings: u64,
}

/// One segment's matches: documents ascending, with their packed ranks when scored.
#[derive(Debug)]
pub struct SegmentMatches {
    docs: Vec<DocId>,
    /// Empty when unscored.
    scores: Vec<Score>,
    scored: bool,
}

impl SegmentMatches {
    pub(super) fn new(scored: bool) -> Self {
        Self { docs: Vec::new(), scores: Vec::new(), scored }
    }

    /// Appends a window's matches (`scores` only read when scored).
    pub(super) fn extend(&mut self, docs: &[DocId], scores: &[Score]) {
        self.docs.extend_from_slice(docs);
        if self.scored {
            self.scores.extend_from_slice(scores);
        }
    }
}

impl WordMatches {
    /// Feeds the kept matches to `collector` on `searcher` (the one they were walked on), as
    /// the walk would: its filters, count, facets and page.
    pub fn collect(&self, searcher: &Searcher, collector: &SearchCollector) -> tantivy::Result<Matches> {
        let mut fruits = Vec::with_capacity(self.segments.len());
        for (ordinal, (reader, matches)) in searcher.segment_readers().iter().zip(&self.segments).enumerate() {
            let ordinal = SegmentOrdinal::try_from(ordinal).unwrap_or(SegmentOrdinal::MAX);
            let mut segment = collector.for_segment(ordinal, reader)?;
            if matches.scored {
                for (docs, scores) in matches.docs.chunks(REPLAY_BLOCK).zip(matches.scores.chunks(REPLAY_BLOCK)) {
                    segment.collect_scored_block(docs, scores);
                }
            } else {
                for docs in matches.docs.chunks(REPLAY_BLOCK) {
                    segment.collect_block(docs);
                }
            }
            fruits.push(segment.harvest());
        }
        collector.merge_fruits(fruits)
    }

    /// Roughly the heap bytes kept.
    pub(super) fn bytes(&self) -> usize {
        let per_segment = |matches: &SegmentMatches| {
            matches.docs.capacity() * size_of::<DocId>() + matches.scores.capacity() * size_of::<Score>() + 64
        };
        self.segments.iter().map(per_segment).sum::<usize>() + 64
    }
}
