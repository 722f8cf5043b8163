//! The unfiltered browse (no words, no category, no price range, no stock filter): every
//! product matches, so its count, facets and order depend on the catalog alone. They are
//! computed once per catalog generation and sort by the ordinary collector over all documents,
//! then each page is a slice of that order: O(page) instead of visiting a million documents
//! per request (`cargo bench --bench search`, case `no_words_by_price`).
//!
//! Memory: one `Hit` (40 bytes) per product per sort asked for, e.g. 40 MB for price order
//! at 1M products. A catalog change moves the generation and the next browse recomputes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::query::AllQuery;

use super::SearchIndex;
use super::collector::Matches;
use super::request::{SearchRequest, SortOrder};
use crate::error::Result;

/// Full browse orders, per sort, each with the catalog generation it was computed at.
#[derive(Default)]
pub struct BrowseOrders {
    /// Held while computing, so concurrent first requests compute once.
    by_sort: Mutex<HashMap<SortOrder, (u64, Arc<Matches>)>>,
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
    /// The matches of an unfiltered browse, with the best `top_n` of the requested order.
    pub(super) fn browse_all(&self, request: &SearchRequest, top_n: usize) -> Result<Matches> {
        let full = self.full_browse_order(request)?;
        Ok(Matches {
            count: full.count,
            categories: full.categories.clone(),
            price_cents: full.price_cents,
            top: full.top.iter().take(top_n).cloned().collect(),
        })
    }

    fn full_browse_order(&self, request: &SearchRequest) -> Result<Arc<Matches>> {
        // Read before collecting: an entry may be newer than its generation, never older.
        let generation = self.catalog_generation();
        let mut by_sort = self.inner.browse.by_sort.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((computed_at, full)) = by_sort.get(&request.sort)
            && *computed_at == generation
        {
            return Ok(Arc::clone(full));
        }
        let every_document = usize::try_from(self.num_docs()).unwrap_or(usize::MAX);
        let full = Arc::new(self.collect_top(&AllQuery, request, None, every_document)?);
        by_sort.insert(request.sort, (generation, Arc::clone(&full)));
        Ok(full)
    }
}
