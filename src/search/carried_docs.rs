//! Which of a segment's documents one store carries, as a bitset over the segment's
//! documents, kept with the segment's decoded columns.
//!
//! A store-filtered word search checks every match against the store's stock: it reads the
//! match's product id (a column) and then the store's quantity (a 4-byte slot per product id,
//! 4 MB at 1M products), two cache misses a match, though a store carries a tenth of the
//! catalog. Under the HTTP search mix at 1M (`scripts/search-mix.sh`, 8 clients, 2026-11-30,
//! `132d3c2`), store-filtered searches were 14 % of the requests and 37 % of the slowest 1 %
//! (docs/performance.md, "Why a store filter tests a bitset first"). One bit per document (125
//! KB per store at 1M, which stays in cache) now turns most matches away before either read;
//! the matches it lets through are checked in full as before, so a bit that is set when it
//! need not be costs only time.
//!
//! A bit that is clear must mean "not carried". The store's carried list (`stock`) is
//! replaced, never changed in place, whenever the store starts or stops carrying a product, so
//! a bitset is kept with the very list it was built for and used only for that list: a search
//! holding a newer list builds a new bitset. The entry holds the list, so its address cannot
//! be reused while the entry lives. At most `MAX_STORES` bitsets per segment are kept.

use std::collections::VecDeque;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};

use tantivy::DocId;
use tantivy::columnar::ColumnValues;

use super::stock::{CarriedProducts, StockTables};
use crate::locking::lock;

/// Bitsets kept per segment: 8 MiB at 1M products. Beyond it the oldest is dropped (and
/// rebuilt, in a few milliseconds, when its store is searched again).
const MAX_STORES: usize = 64;
/// Product ids read at once while building a bitset (sequential reads of the id column).
const IDS_PER_READ: DocId = 4096;

/// One bit per document of a segment: set when the store carries the document's product.
pub struct DocBits {
    words: Box<[u64]>,
}

impl DocBits {
    /// Whether the document's bit is set (documents past the end are not carried).
    #[inline(always)]
    pub fn has(&self, doc: DocId) -> bool {
        let doc = doc as usize;
        self.words.get(doc / 64).is_some_and(|word| word & (1 << (doc % 64)) != 0)
    }
}

/// One segment's bitsets, by the carried list they were built for.
#[derive(Default)]
pub struct CarriedDocs {
    known: Mutex<VecDeque<(CarriedProducts, Arc<DocBits>)>>,
}

impl CarriedDocs {
    /// The bitset of the documents whose products `carried` holds, among `max_doc` documents
    /// with product ids `ids`; `column` is the same store's quantities (read to build it).
    pub fn of(
        &self,
        carried: &CarriedProducts,
        column: &[AtomicU32],
        ids: &dyn ColumnValues<u64>,
        max_doc: DocId,
    ) -> Arc<DocBits> {
        if let Some((_, bits)) = lock(&self.known).iter().find(|(list, _)| Arc::ptr_eq(list, carried)) {
            return Arc::clone(bits);
        }
        // Built outside the lock: a few milliseconds at 1M products. Two searches may both
        // build it; the second copy is simply dropped.
        let bits = Arc::new(build(column, ids, max_doc));
        let mut known = lock(&self.known);
        if !known.iter().any(|(list, _)| Arc::ptr_eq(list, carried)) {
            if known.len() >= MAX_STORES {
                known.pop_front();
            }
            known.push_back((Arc::clone(carried), Arc::clone(&bits)));
        }
        bits
    }
}

/// Sets the bit of every document whose product the store carries now (the column is live).
/// A product that starts being carried while this runs may get its bit: harmless, its match
/// is checked in full. A clear bit means the store did not carry the product when its slot
/// was read; a store that starts carrying it gets a new list, which this bitset never serves.
fn build(column: &[AtomicU32], ids: &dyn ColumnValues<u64>, max_doc: DocId) -> DocBits {
    let mut words = vec![0u64; (max_doc as usize).div_ceil(64)].into_boxed_slice();
    let mut block = vec![0u64; IDS_PER_READ as usize];
    let mut start: DocId = 0;
    while start < max_doc {
        let end = start.saturating_add(IDS_PER_READ).min(max_doc);
        let block = &mut block[..(end - start) as usize];
        ids.get_range(u64::from(start), block);
        for (doc, product_id) in (start..end).zip(block.iter()) {
            if StockTables::quantity_in(column, *product_id).is_some() {
                words[doc as usize / 64] |= 1 << (doc % 64);
            }
        }
        start = end;
    }
    DocBits { words }
}

#[cfg(test)]
mod tests;
