//! The unfiltered browse (no words, no category, no price range, no stock filter): every
//! product matches, so its count, facets and order depend on the catalog alone. They are
//! computed once per catalog generation and sort by the ordinary collector over all
//! documents, in a background thread, then each page is a slice of that order: O(page)
//! instead of visiting every document per request (`cargo bench --bench search`, case
//! `no_words_by_price`: 7.2 ms → 81–103 µs at 1M products).
//!
//! Computing a full order takes about a second at 1M products, so no request waits for it:
//! until the order of the current generation is ready, browses take the ordinary path.
//! Memory: one `Hit` (40 bytes) per product per sort asked for, e.g. 40 MB for price order
//! at 1M products.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tantivy::query::AllQuery;

use super::SearchIndex;
use super::collector::Matches;
use super::request::{SearchRequest, SortOrder};
use crate::error::Result;
use crate::locking::lock;

/// Full browse orders, per sort, each with the catalog generation it was computed at.
#[derive(Default)]
pub struct BrowseOrders {
    ready: Mutex<HashMap<SortOrder, (u64, Arc<Matches>)>>,
    /// Sorts being computed right now: at most one thread per sort.
    computing: Mutex<HashSet<SortOrder>>,
}

impl SearchRequest {
    /// Whether every product matches: no words and no filter of any kind.
    pub fn is_unfiltered_browse(&self) -> bool {
        self.q.is_none()
            && self.category.is_none()
            && self.price.min.is_none()
            && self.price.max.is_none()
            && !self.reads_stock()
    }
}

impl SearchIndex {
    /// The precomputed matches of an unfiltered browse in `sort`, cut to the best `top_n`, if
    /// they are current; otherwise `None`, after starting their computation.
    pub(super) fn precomputed_browse(&self, sort: SortOrder, top_n: usize) -> Option<Matches> {
        let generation = self.catalog_generation();
        let ready = lock(&self.inner.browse.ready).get(&sort).cloned();
        match ready {
            Some((computed_at, full)) if computed_at == generation => Some(Matches {
                count: full.count,
                categories: full.categories.clone(),
                price_cents: full.price_cents,
                top: full.top.iter().take(top_n).cloned().collect(),
            }),
            _ => {
                self.start_computing_browse(sort);
                None
            }
        }
    }

    fn start_computing_browse(&self, sort: SortOrder) {
        if !lock(&self.inner.browse.computing).insert(sort) {
            return; // already on its way
        }
        let index = self.clone();
        let spawned = std::thread::Builder::new().name("aforro-browse".to_owned()).spawn(move || {
            if let Err(error) = index.compute_browse(sort) {
                tracing::error!(%error, "cannot precompute the browse order");
            }
            lock(&index.inner.browse.computing).remove(&sort);
        });
        if let Err(error) = spawned {
            tracing::error!(%error, "cannot start the browse precomputation");
            lock(&self.inner.browse.computing).remove(&sort);
        }
    }

    /// Computes and publishes the full browse order for `sort` (blocking; tests and the
    /// background thread call it).
    pub fn compute_browse(&self, sort: SortOrder) -> Result<()> {
        // Read before collecting: an order may be newer than its generation, never older.
        let generation = self.catalog_generation();
        let request = SearchRequest { sort, ..SearchRequest::default() };
        let every_document = usize::try_from(self.num_docs()).unwrap_or(usize::MAX);
        let full = Arc::new(self.collect_top(&AllQuery, &request, None, every_document)?);
        lock(&self.inner.browse.ready).insert(sort, (generation, full));
        Ok(())
    }
}
