//! Fast paths for requests without words, where every document matches the text part and
//! tantivy's query machinery only adds overhead:
//! - browsing one store's stock: walk the store's column of the stock view (the products it
//!   carries, a tenth of the catalog in the demo) and look each product's document up,
//!   instead of testing every document in the index;
//! - browsing everything: read the fast-field columns sequentially, in long ranges.
//!
//! Either way the collector applies every filter, so the result is the general path's.
//!
//! The lookup table (product id → document) belongs to one searcher generation; it is
//! rebuilt after each reload, and a search whose searcher is of another generation simply
//! takes the general path.

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{COLLECT_BLOCK_BUFFER_LEN, DocId, Searcher, SegmentOrdinal};

use super::collector::{Matches, SearchCollector};

/// Documents per sequential read in [`scan_all`].
const RANGE_LEN: u32 = 4096;

/// No document for this product id.
const ABSENT: u64 = u64::MAX;

/// Where each product's live document is, for one searcher generation.
pub struct DocsByProduct {
    generation_id: u64,
    /// Indexed by product id: `segment ordinal << 32 | doc id`, or [`ABSENT`].
    addresses: Vec<u64>,
}

impl DocsByProduct {
    /// Reads every live document's product id: a few milliseconds per million documents.
    pub fn build(searcher: &Searcher) -> tantivy::Result<Self> {
        let mut addresses = Vec::new();
        for (ordinal, segment) in searcher.segment_readers().iter().enumerate() {
            let ids = segment.fast_fields().u64("id")?;
            for doc in 0..segment.max_doc() {
                let Some(id) = ids.first(doc).filter(|_| !segment.is_deleted(doc)) else {
                    continue;
                };
                let Ok(index) = usize::try_from(id) else {
                    continue;
                };
                if index >= addresses.len() {
                    addresses.resize(index + 1, ABSENT);
                }
                addresses[index] = ((ordinal as u64) << 32) | u64::from(doc);
            }
        }
        Ok(Self { generation_id: searcher.generation().generation_id(), addresses })
    }

    /// Whether this table describes `searcher`'s documents.
    pub fn matches(&self, searcher: &Searcher) -> bool {
        self.generation_id == searcher.generation().generation_id()
    }

    fn address(&self, product_id: u64) -> Option<(SegmentOrdinal, DocId)> {
        let packed = *self.addresses.get(usize::try_from(product_id).ok()?)?;
        // Unpacking: the high and low 32 bits were packed from a u32 each, so nothing is cut.
        #[allow(clippy::cast_possible_truncation, reason = "unpacks two u32 halves")]
        (packed != ABSENT).then_some(((packed >> 32) as SegmentOrdinal, packed as DocId))
    }
}

/// Runs `collector` over the documents of the `carried` products (one store's).
/// The collector still applies every filter, stock included, so the result is the one the
/// general path would give.
pub fn scan_store(
    collector: &SearchCollector,
    searcher: &Searcher,
    docs: &DocsByProduct,
    carried: &[u32],
) -> tantivy::Result<Matches> {
    let mut segments = searcher
        .segment_readers()
        .iter()
        .enumerate()
        .map(|(ordinal, reader)| collector.for_segment(segment_ordinal(ordinal), reader))
        .collect::<tantivy::Result<Vec<_>>>()?;
    // Documents are gathered per segment and handed over in blocks, so the collector reads
    // its columns once per block instead of once per document.
    let mut pending: Vec<Vec<DocId>> = vec![Vec::with_capacity(COLLECT_BLOCK_BUFFER_LEN); segments.len()];
    for product_id in carried {
        let Some((ordinal, doc)) = docs.address(u64::from(*product_id)) else {
            continue;
        };
        let ordinal = ordinal as usize;
        let (Some(block), Some(segment)) = (pending.get_mut(ordinal), segments.get_mut(ordinal)) else {
            continue;
        };
        block.push(doc);
        if block.len() == COLLECT_BLOCK_BUFFER_LEN {
            segment.collect_block(block);
            block.clear();
        }
    }
    for (block, segment) in pending.iter().zip(segments.iter_mut()) {
        segment.collect_block(block);
    }
    collector.merge_fruits(segments.into_iter().map(SegmentCollector::harvest).collect())
}

/// Runs `collector` over every live document of `searcher`, in document order.
pub fn scan_all(collector: &SearchCollector, searcher: &Searcher) -> tantivy::Result<Matches> {
    let mut fruits = Vec::with_capacity(searcher.segment_readers().len());
    for (ordinal, reader) in searcher.segment_readers().iter().enumerate() {
        let mut segment = collector.for_segment(segment_ordinal(ordinal), reader)?;
        let mut start = 0;
        while start < reader.max_doc() {
            let end = start.saturating_add(RANGE_LEN).min(reader.max_doc());
            segment.collect_range(start..end, reader.alive_bitset());
            start = end;
        }
        fruits.push(segment.harvest());
    }
    collector.merge_fruits(fruits)
}

/// Tantivy numbers a searcher's segments with `u32`; an index never holds more.
fn segment_ordinal(position: usize) -> SegmentOrdinal {
    SegmentOrdinal::try_from(position).expect("fewer than 2^32 segments")
}
