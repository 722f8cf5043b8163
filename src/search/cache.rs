//! A small in-process cache of whole search results, for the requests that repeat (browse
//! pages, popular words).
//!
//! An entry is keyed by the request and stamped with the generations of the views it was
//! computed from: the index (bumped after each catalog change is searchable) and, for requests
//! that read stock, the stock view (bumped after each applied order, before its response goes
//! out), and the merchandiser's synonym sets and rules (their generation, and how many rule
//! window instants have passed). A lookup whose stamp differs from the current generations is a miss, and the fresh
//! result replaces the entry under the same key. A write therefore never has to find and evict
//! entries, and read-your-writes holds exactly as without the cache. Generations are read
//! *before* searching, so an entry is never older than its stamp.
//!
//! The generations are a stamp, not part of the key, so a request has at most one entry: with
//! them in the key, every order made each stock-reading result unreachable but still resident
//! until its TTL or the byte bound, and under steady order load the cache filled to its bound
//! with entries nobody could hit (a heap profile under `heaptrack`, 2026-11-30;
//! docs/reliability.md, "What bounds memory").
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
/// so an entry count bounded nothing. 32 MiB is some 4,000 pages of 20 rows.
const MAX_CACHE_BYTES: u64 = 32 * 1024 * 1024;
/// Entries also expire, so a rarely repeated request does not hold memory until evicted.
const TIME_TO_LIVE: Duration = Duration::from_secs(60);

/// The generations a result was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    catalog_generation: u64,
    /// 0 for requests that do not read stock: orders do not invalidate them.
    stock_generation: u64,
    /// The synonym sets and search rules searched with (see `curation`).
    curation_generation: u64,
    /// How many of the rules' window instants had passed: a rule opening or closing misses
    /// every answer computed before it.
    window_epoch: usize,
}

/// A cached result and the generations it is valid for.
#[derive(Clone)]
struct Entry {
    stamp: Stamp,
    results: Arc<SearchResults>,
}

/// Cheap to clone (the cache is shared).
#[derive(Clone)]
pub struct ResultCache {
    entries: Cache<SearchRequest, Entry>,
}

impl Default for ResultCache {
    fn default() -> Self {
        let entries = Cache::builder()
            .max_capacity(MAX_CACHE_BYTES)
            .weigher(|request: &SearchRequest, entry: &Entry| {
                u32::try_from(entry_bytes(request, &entry.results)).unwrap_or(u32::MAX)
            })
            .time_to_live(TIME_TO_LIVE)
            .build();
        Self { entries }
    }
}

impl ResultCache {
    /// The cached result of `request`, if it was computed from the generations in `stamp`.
    fn lookup(&self, request: &SearchRequest, stamp: Stamp) -> Option<Arc<SearchResults>> {
        self.entries.get(request).filter(|entry| entry.stamp == stamp).map(|entry| entry.results)
    }

    /// Keeps `results` as the answer to `request` at `stamp`, replacing any older answer.
    fn store(&self, request: &SearchRequest, stamp: Stamp, results: Arc<SearchResults>) {
        self.entries.insert(request.clone(), Entry { stamp, results });
    }
}

/// The heap an entry holds: its structs and every string they own (what moka adds per entry,
/// about 100 bytes, is left out).
fn entry_bytes(request: &SearchRequest, results: &SearchResults) -> usize {
    let key_bytes = size_of::<SearchRequest>() + size_of::<Entry>() + request.q.as_ref().map_or(0, String::len);
    let row_bytes: usize = results
        .rows
        .iter()
        .map(|row| {
            let explain = row.explain.as_ref().map_or(0, |explain| {
                explain.words.iter().map(|word| size_of_val(word) + word.word.len() + word.term.len()).sum()
            });
            size_of_val(row) + row.title.len() + row.description.len() + row.category.len() + explain
        })
        .sum();
    let facet_bytes: usize = results.facets.category.iter().map(|facet| size_of_val(facet) + facet.name.len()).sum();
    key_bytes + size_of::<SearchResults>() + row_bytes + facet_bytes
}

impl SearchIndex {
    /// [`SearchIndex::search_queued`].
    pub(super) async fn run_queued(&self, request: SearchRequest) -> Result<Arc<SearchResults>> {
        let stamp = self.stamp(&request);
        if let Some(results) = self.inner.cache.lookup(&request, stamp) {
            crate::metrics::cache_lookup("search", true);
            return Ok(results);
        }
        let index = self.clone();
        // Looked up again in the turn: an identical request queued earlier may have stored it.
        self.inner.queue.run(move || index.inner.reads.run_blocking(|conn| index.search_cached(conn, &request))).await
    }

    /// [`SearchIndex::search_cached`].
    pub(super) fn run_cached(&self, conn: &Connection, request: &SearchRequest) -> Result<Arc<SearchResults>> {
        let stamp = self.stamp(request);
        let cached = self.inner.cache.lookup(request, stamp);
        crate::metrics::cache_lookup("search", cached.is_some());
        if let Some(results) = cached {
            return Ok(results);
        }
        let results = Arc::new(self.search(conn, request)?);
        self.inner.cache.store(request, stamp, results.clone());
        Ok(results)
    }

    /// The generations `request`'s answer depends on, read now (before any searching).
    fn stamp(&self, request: &SearchRequest) -> Stamp {
        let curation = self.curation();
        Stamp {
            catalog_generation: self.catalog_generation(),
            stock_generation: if request.reads_stock() { self.inner.stock.generation() } else { 0 },
            curation_generation: curation.generation,
            window_epoch: curation.window_epoch(crate::domain::Timestamp::now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::StoreId;

    fn stamp(stock_generation: u64) -> Stamp {
        Stamp { catalog_generation: 1, stock_generation, curation_generation: 1, window_epoch: 0 }
    }

    fn results(count: i64) -> Arc<SearchResults> {
        Arc::new(SearchResults { count, ..SearchResults::default() })
    }

    #[test]
    fn a_result_is_served_only_at_the_generations_it_was_computed_from() {
        let cache = ResultCache::default();
        let request = SearchRequest { in_stock: Some(true), ..SearchRequest::default() };
        cache.store(&request, stamp(7), results(3));

        assert_eq!(cache.lookup(&request, stamp(7)).map(|found| found.count), Some(3));
        assert!(cache.lookup(&request, stamp(8)).is_none(), "an order since: a miss");
        let catalog_changed = Stamp { catalog_generation: 2, ..stamp(7) };
        assert!(cache.lookup(&request, catalog_changed).is_none(), "a catalog change since: a miss");
        let synonyms_changed = Stamp { curation_generation: 2, ..stamp(7) };
        assert!(cache.lookup(&request, synonyms_changed).is_none(), "a synonym or rule change since: a miss");
        let window_passed = Stamp { window_epoch: 1, ..stamp(7) };
        assert!(cache.lookup(&request, window_passed).is_none(), "a rule's window opened or closed: a miss");
    }

    #[test]
    fn a_request_keeps_one_entry_however_many_orders_pass() {
        let cache = ResultCache::default();
        let request = SearchRequest { store_id: Some(StoreId(1)), ..SearchRequest::default() };
        for generation in 0..100 {
            cache.store(&request, stamp(generation), results(i64::try_from(generation).unwrap_or(0)));
        }
        cache.entries.run_pending_tasks();

        assert_eq!(cache.entries.entry_count(), 1);
        assert_eq!(cache.lookup(&request, stamp(99)).map(|found| found.count), Some(99));
    }
}
