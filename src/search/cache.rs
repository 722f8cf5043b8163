//! A small in-process cache of whole search results, for the requests that repeat (browse
//! pages, popular words).
//!
//! An entry is keyed by the request *and* the generations of the views it was computed
//! from: the index (bumped after each catalog change is searchable) and, for requests that
//! read stock, the stock view (bumped after each applied order, before its response goes
//! out). A write therefore never has to find and evict entries: the next request after it
//! builds a key that no entry has, so read-your-writes holds exactly as without the cache.
//! Generations are read *before* searching, so an entry is never older than its key.
//!
//! Bounded in bytes (32 MiB) and in time (60 s), see docs/reliability.md.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use rusqlite::Connection;

use super::SearchIndex;
use super::request::SearchRequest;
use super::rows::SearchResults;
use crate::error::Result;

/// Bytes of keys and results the cache may hold (as [`entry_bytes`] counts them). Bounded in
/// bytes, not entries: a page of 100 rows with long descriptions weighs fifty times a page of 2,
/// so an entry count bounded nothing (issue 18). 32 MiB is some 4,000 pages of 20 rows.
const MAX_CACHE_BYTES: u64 = 32 * 1024 * 1024;
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
        let entries = Cache::builder()
            .max_capacity(MAX_CACHE_BYTES)
            .weigher(|key: &CacheKey, results: &Arc<SearchResults>| {
                u32::try_from(entry_bytes(key, results)).unwrap_or(u32::MAX)
            })
            .time_to_live(TIME_TO_LIVE)
            .build();
        Self { entries }
    }
}

/// The heap an entry holds: its structs and every string they own (what moka adds per entry,
/// about 100 bytes, is left out).
fn entry_bytes(key: &CacheKey, results: &SearchResults) -> usize {
    let key_bytes = size_of::<CacheKey>() + key.request.q.as_ref().map_or(0, String::len);
    let row_bytes: usize = results
        .rows
        .iter()
        .map(|row| size_of_val(row) + row.title.len() + row.description.len() + row.category.len())
        .sum();
    let facet_bytes: usize = results.facets.category.iter().map(|facet| size_of_val(facet) + facet.name.len()).sum();
    key_bytes + size_of::<SearchResults>() + row_bytes + facet_bytes
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
