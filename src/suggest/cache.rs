//! The answer cache: `autocomplete:<normalised q>` → the JSON body, kept 10 minutes, bounded
//! by bytes, with hit and miss counters (for `/metrics`).
//!
//! Each entry remembers the generation of the published map that computed it, and a lookup
//! only accepts its own generation. So an answer computed from a map that has since been
//! replaced is never served — not even one inserted after the invalidation by a request that
//! was already running when the catalog changed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use moka::future::Cache;

/// How long an answer is reused (contract).
const TIME_TO_LIVE: Duration = Duration::from_secs(10 * 60);
/// Bytes of keys and bodies the cache may hold; an answer is about 300 bytes, so this is
/// some 50,000 distinct queries.
const MAX_CACHE_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug)]
struct CachedAnswer {
    generation: u64,
    body: Bytes,
}

/// Answers by query, tagged with the map generation that produced them.
pub(super) struct AnswerCache {
    answers: Cache<String, Arc<CachedAnswer>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl AnswerCache {
    pub(super) fn new() -> Self {
        let answers = Cache::builder()
            .max_capacity(MAX_CACHE_BYTES)
            .weigher(|key: &String, answer: &Arc<CachedAnswer>| {
                u32::try_from(key.len() + answer.body.len()).unwrap_or(u32::MAX)
            })
            .time_to_live(TIME_TO_LIVE)
            .build();
        Self { answers, hits: AtomicU64::new(0), misses: AtomicU64::new(0) }
    }

    /// The cached body for `key` if it was computed by map `generation`; counts a hit or a miss.
    pub(super) async fn get(&self, key: &str, generation: u64) -> Option<Bytes> {
        let answer = self.answers.get(key).await.filter(|answer| answer.generation == generation);
        crate::metrics::cache_lookup("suggest", answer.is_some());
        let counter = if answer.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        answer.map(|answer| answer.body.clone())
    }

    pub(super) async fn insert(&self, key: String, generation: u64, body: Bytes) {
        self.answers.insert(key, Arc::new(CachedAnswer { generation, body })).await;
    }

    /// Drops every answer (they could only miss now; this frees their memory sooner).
    pub(super) fn invalidate_all(&self) {
        self.answers.invalidate_all();
    }

    #[cfg(any(test, feature = "test-support"))]
    pub(super) fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Bytes;

    use super::AnswerCache;

    #[tokio::test]
    async fn an_answer_is_only_served_to_the_generation_that_computed_it() {
        let cache = AnswerCache::new();
        // As a request that started before a catalog commit would insert it, after the commit.
        cache.insert("autocomplete:kettle".to_owned(), 1, Bytes::from_static(b"old")).await;

        assert_eq!(cache.get("autocomplete:kettle", 2).await, None);
        assert_eq!(cache.get("autocomplete:kettle", 1).await, Some(Bytes::from_static(b"old")));
        assert_eq!((cache.hits(), cache.misses()), (1, 1));
    }
}
