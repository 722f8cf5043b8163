//! A small in-process cache of whole search results, for the requests that repeat (browse
//! pages, popular words).
//!
//! An entry is keyed by the request *and* the generations of the views it was computed
//! from: the index (bumped after each catalog change is searchable) and, for requests that
//! read stock, the stock view (bumped after each applied order, before its response goes
//! out). A write therefore never has to find and evict entries: the next request after it
//! builds a key that no entry has, so read-your-writes holds exactly as without the cache.
//! Generations are read *before* searching, so an entry is never older than its key.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use rusqlite::Connection;

use super::SearchIndex;
use super::request::SearchRequest;
use super::rows::SearchResults;
use crate::error::Result;

/// Entries kept. A page of 20 rows with facets is a few KiB, so this bounds the cache to a
/// few tens of MiB.
const MAX_ENTRIES: u64 = 4_096;
/// Entries also expire, so a rarely repeated request does not hold memory until evicted.
const TIME_TO_LIVE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CacheKey {
    request: SearchRequest,
    catalog_generation: u64,
    /// 0 for requests that do not read stock: orders do not invalidate them.
    stock_generation: u64,
}

/// Cheap to clone (the cache is shared).
#[derive(Clone)]
pub struct ResultCache {
    entries: Cache<CacheKey, Arc<SearchResults>>,
}

impl Default for ResultCache {
    fn default() -> Self {
        Self { entries: Cache::builder().max_capacity(MAX_ENTRIES).time_to_live(TIME_TO_LIVE).build() }
    }
}

impl SearchIndex {
    /// [`SearchIndex::search`] through the result cache; what the HTTP handler calls.
    pub fn search_cached(&self, conn: &Connection, request: &SearchRequest) -> Result<Arc<SearchResults>> {
        let key = CacheKey {
            request: request.clone(),
            catalog_generation: self.catalog_generation(),
            stock_generation: if request.reads_stock() { self.inner.stock.generation() } else { 0 },
        };
        let cached = self.inner.cache.entries.get(&key);
        crate::metrics::cache_lookup("search", cached.is_some());
        if let Some(results) = cached {
            return Ok(results);
        }
        let results = Arc::new(self.search(conn, request)?);
        self.inner.cache.entries.insert(key, results.clone());
        Ok(results)
    }
}
