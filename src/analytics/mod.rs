//! Search analytics: what shoppers search for, counted in memory and flushed to SQLite.
//!
//! A counted search (contract, "Search administration": a product search answered `200` for
//! page 1 with words in `q`, not `analytics=false`, cache hits included) costs one update of a
//! sharded map ([`DashMap`]: a search waits at most for another search counting under the same
//! shard, never for SQLite): its normalised query (folded words, single spaces, at most 8
//! words) on its UTC day gains a search, a no-result search when it found nothing, and its
//! latest count and time. [`spawn_flusher`] writes everything counted since the last flush
//! through the writer in **one** write every [`AnalyticsSettings::flush_every`] (5 s by
//! default), and once more at shutdown; a crash loses at most that much.
//!
//! A day keeps at most [`AnalyticsSettings::daily_queries`] distinct queries (100,000): a
//! query first seen after that counts only in the day's totals (`search_days`). The day's
//! admitted queries stay in the map (with nothing pending) until the day ends, so the cap
//! holds exactly: at most 100,000 short strings, a few MiB.
//!
//! The admin route adds what is not flushed yet ([`SearchAnalytics::pending`]), so a search
//! shows in the very next request. Suggest's `queries=true` offers from a snapshot of the last
//! 30 days' popular queries taken after each flush that wrote something
//! ([`SearchAnalytics::suggested_queries`]). A read replica counts nothing
//! ([`SearchAnalytics::disabled`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use clap::builder::TypedValueParser as _;
use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use crate::db::ReadPool;
use crate::db::admin::search_analytics::{self, AnalyticsBatch, DayCount, QueryCount, day_of};
use crate::db::writer::WriterHandle;
use crate::domain::Timestamp;
use crate::domain::text::folded_words;
use crate::error::Result;
use crate::locking::lock;

/// Words of a query kept (contract: "cut to 8 words").
pub const MAX_WORDS: usize = 8;
/// Distinct queries a day keeps by default (contract: at most 100,000).
pub const DEFAULT_DAILY_QUERIES: usize = 100_000;
/// Days kept: today and the 89 before (contract: kept 90 days).
pub const KEPT_DAYS: i64 = 90;
/// Days suggest's `queries=true` looks back over: today and the 29 before.
pub const SUGGEST_DAYS: i64 = 30;
/// Searches a query needs over [`SUGGEST_DAYS`] before suggest offers it.
pub const SUGGEST_MIN_SEARCHES: i64 = 3;
/// Queries suggest offers at most.
pub const SUGGESTED_QUERIES: usize = 5;

/// `serve`'s search analytics settings.
#[derive(Debug, Clone, clap::Args)]
pub struct AnalyticsSettings {
    /// Seconds between flushes of the search analytics counted in memory (one write each; a
    /// crash loses at most this much of the counts).
    #[arg(long = "search-analytics-flush-secs", global = true, env = "AFORRO_SEARCH_ANALYTICS_FLUSH_SECS",
          default_value = "5", value_parser = clap::value_parser!(u64).range(1..=3_600).map(Duration::from_secs))]
    pub flush_every: Duration,
    /// Distinct queries the search analytics keep per day (later new ones count only in the
    /// day's total).
    #[arg(long = "search-analytics-daily-queries", global = true, env = "AFORRO_SEARCH_ANALYTICS_DAILY_QUERIES",
          default_value_t = DEFAULT_DAILY_QUERIES,
          value_parser = clap::value_parser!(u32).range(1..=100_000).map(|n| n as usize))]
    pub daily_queries: usize,
}

impl Default for AnalyticsSettings {
    fn default() -> Self {
        Self { flush_every: Duration::from_secs(5), daily_queries: DEFAULT_DAILY_QUERIES }
    }
}

/// One query's counts on one day not flushed yet.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    searches: i64,
    no_result_searches: i64,
    last_count: i64,
    last_seen: i64,
}

impl Slot {
    fn add(&mut self, count: i64, at: Timestamp) {
        self.searches += 1;
        if count == 0 {
            self.no_result_searches += 1;
        }
        if at.micros >= self.last_seen {
            self.last_seen = at.micros;
            self.last_count = count;
        }
    }
}

/// The counts, cheap to clone (shared).
#[derive(Clone)]
pub struct SearchAnalytics {
    inner: Arc<Inner>,
}

struct Inner {
    /// False on a read replica: nothing is counted.
    enabled: bool,
    daily_queries: usize,
    /// (day, query) → what is not flushed yet; the current day's admitted queries stay with
    /// nothing pending, so the cap knows them.
    slots: DashMap<(i64, String), Slot>,
    /// Distinct queries admitted per day (the current days only). Taken only when a query is
    /// new to its day, inside its shard's entry.
    admitted: std::sync::Mutex<BTreeMap<i64, usize>>,
    /// Per day, the searches of queries beyond the cap (not flushed yet).
    uncapped: std::sync::Mutex<BTreeMap<i64, DayCount>>,
    /// A batch being written, or one whose write failed (retried with the next flush): still
    /// pending for the listings.
    unwritten: std::sync::Mutex<Option<Arc<AnalyticsBatch>>>,
    /// One flush at a time.
    flushing: tokio::sync::Mutex<()>,
    /// Written by a flush while its batch reaches the tables, read by the listings.
    visibility: tokio::sync::RwLock<()>,
    /// Writes done by flushes.
    flushes: AtomicU64,
    /// The last 30 days' queries suggest may offer, sorted by query, with their searches.
    suggestions: ArcSwap<Vec<(String, i64)>>,
}

impl SearchAnalytics {
    /// Counting on, with nothing counted yet: call [`Self::load`] before serving.
    pub fn new(settings: &AnalyticsSettings) -> Self {
        Self::with(true, settings.daily_queries)
    }

    /// Counting off (a read replica): [`Self::record`] does nothing.
    pub fn disabled() -> Self {
        Self::with(false, DEFAULT_DAILY_QUERIES)
    }

    fn with(enabled: bool, daily_queries: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                enabled,
                daily_queries,
                slots: DashMap::new(),
                admitted: std::sync::Mutex::default(),
                uncapped: std::sync::Mutex::default(),
                unwritten: std::sync::Mutex::default(),
                flushing: tokio::sync::Mutex::new(()),
                visibility: tokio::sync::RwLock::new(()),
                flushes: AtomicU64::new(0),
                suggestions: ArcSwap::from_pointee(Vec::new()),
            }),
        }
    }

    /// Reads today's stored queries (the cap already holds them) and the suggestions.
    pub async fn load(&self, reads: &ReadPool) -> Result<()> {
        let today = day_of(Timestamp::now());
        let stored = reads.run(move |conn| search_analytics::queries_of_day(conn, today)).await?;
        lock(&self.inner.admitted).insert(today, stored.len());
        for q in stored {
            self.inner.slots.entry((today, q)).or_default();
        }
        self.refresh_suggestions(reads).await
    }

    /// The normalised form a query is counted under: folded words, single spaces, at most
    /// [`MAX_WORDS`] words.
    pub fn normalise(q: &str) -> String {
        folded_words(q, MAX_WORDS)
    }

    /// Counts one search of `q` that found `count` products, now.
    pub fn record(&self, q: &str, count: i64) {
        self.record_at(q, count, Timestamp::now());
    }

    /// Counts one search of `q` that found `count` products at `at`.
    pub fn record_at(&self, q: &str, count: i64, at: Timestamp) {
        if !self.inner.enabled {
            return;
        }
        let q = Self::normalise(q);
        if q.is_empty() {
            return;
        }
        let day = day_of(at);
        match self.inner.slots.entry((day, q)) {
            Entry::Occupied(mut slot) => slot.get_mut().add(count, at),
            Entry::Vacant(vacant) => {
                let admitted = {
                    let mut admitted = lock(&self.inner.admitted);
                    let today = admitted.entry(day).or_default();
                    let room = *today < self.inner.daily_queries;
                    if room {
                        *today += 1;
                    }
                    room
                };
                if admitted {
                    vacant.insert(Slot::default()).add(count, at);
                } else {
                    drop(vacant);
                    let mut uncapped = lock(&self.inner.uncapped);
                    let totals = uncapped.entry(day).or_insert(DayCount { day, ..DayCount::default() });
                    totals.searches += 1;
                    totals.uncapped_searches += 1;
                    if count == 0 {
                        totals.no_result_searches += 1;
                    }
                }
            }
        }
    }

    /// Takes everything counted since the last take: per (day, query) and per day. The
    /// current day's queries stay admitted; earlier days are forgotten.
    fn take(&self, today: i64) -> AnalyticsBatch {
        let mut queries = Vec::new();
        let mut days: BTreeMap<i64, DayCount> = std::mem::take(&mut *lock(&self.inner.uncapped));
        self.inner.slots.retain(|(day, q), slot| {
            if slot.searches > 0 {
                queries.push(QueryCount {
                    day: *day,
                    q: q.clone(),
                    searches: slot.searches,
                    no_result_searches: slot.no_result_searches,
                    last_count: slot.last_count,
                    last_seen: Timestamp::from_micros(slot.last_seen),
                });
                let totals = days.entry(*day).or_insert(DayCount { day: *day, ..DayCount::default() });
                totals.searches += slot.searches;
                totals.no_result_searches += slot.no_result_searches;
                *slot = Slot { last_seen: slot.last_seen, last_count: slot.last_count, ..Slot::default() };
            }
            *day >= today
        });
        lock(&self.inner.admitted).retain(|day, _| *day >= today);
        AnalyticsBatch { queries, days: days.into_values().collect() }
    }

    /// Writes everything counted since the last flush in one write (nothing when nothing was
    /// counted), then refreshes suggest's snapshot. A failed write is kept and retried with
    /// the next flush; meanwhile the listings still add it.
    pub async fn flush(&self, writer: &WriterHandle, reads: &ReadPool) -> Result<()> {
        let _one_at_a_time = self.inner.flushing.lock().await;
        let batch = {
            // Taken and set aside under the lock `pending` reads under: a listing sees each
            // count exactly once, in the map or in the batch.
            let mut unwritten = lock(&self.inner.unwritten);
            let mut batch = self.take(day_of(Timestamp::now()));
            if let Some(earlier) = unwritten.take() {
                let mut merged = Arc::unwrap_or_clone(earlier);
                merged.queries.append(&mut batch.queries);
                merged.days.append(&mut batch.days);
                batch = merged;
            }
            if batch.is_empty() {
                return Ok(());
            }
            let batch = Arc::new(batch);
            *unwritten = Some(batch.clone());
            batch
        };
        {
            // No listing reads the tables and the batch while the batch goes from one to the
            // other (it would count it twice).
            let _switching = self.inner.visibility.write().await;
            writer.flush_search_analytics(Arc::unwrap_or_clone(batch)).await?;
            *lock(&self.inner.unwritten) = None;
        }
        self.inner.flushes.fetch_add(1, Ordering::Relaxed);
        self.refresh_suggestions(reads).await
    }

    /// Held while a listing reads [`Self::pending`] and the tables: no flush moves counts from
    /// one to the other meanwhile.
    pub async fn consistent_view(&self) -> tokio::sync::RwLockReadGuard<'_, ()> {
        self.inner.visibility.read().await
    }

    /// Writes done by [`Self::flush`] so far.
    pub fn flushes(&self) -> u64 {
        self.inner.flushes.load(Ordering::Relaxed)
    }

    /// The counts not written yet, per (day, query): what the listings add to the tables.
    pub fn pending(&self) -> Vec<QueryCount> {
        // Before the map, as `flush` takes it: a count is in one or the other.
        let unwritten = lock(&self.inner.unwritten);
        let mut pending: Vec<QueryCount> = self
            .inner
            .slots
            .iter()
            .filter(|slot| slot.value().searches > 0)
            .map(|slot| {
                let ((day, q), counts) = (slot.key(), slot.value());
                QueryCount {
                    day: *day,
                    q: q.clone(),
                    searches: counts.searches,
                    no_result_searches: counts.no_result_searches,
                    last_count: counts.last_count,
                    last_seen: Timestamp::from_micros(counts.last_seen),
                }
            })
            .collect();
        if let Some(unwritten) = unwritten.as_ref() {
            pending.extend(unwritten.queries.iter().cloned());
        }
        pending
    }

    /// The searches per day not written yet (capped queries included).
    pub fn pending_days(&self) -> Vec<DayCount> {
        let unwritten = lock(&self.inner.unwritten);
        let mut days: BTreeMap<i64, DayCount> = lock(&self.inner.uncapped).clone();
        let mut add = |count: &DayCount| {
            let totals = days.entry(count.day).or_insert(DayCount { day: count.day, ..DayCount::default() });
            totals.searches += count.searches;
            totals.no_result_searches += count.no_result_searches;
            totals.uncapped_searches += count.uncapped_searches;
        };
        for slot in &self.inner.slots {
            let counts = slot.value();
            if counts.searches > 0 {
                add(&DayCount {
                    day: slot.key().0,
                    searches: counts.searches,
                    no_result_searches: counts.no_result_searches,
                    uncapped_searches: 0,
                });
            }
        }
        if let Some(unwritten) = unwritten.as_ref() {
            unwritten.days.iter().for_each(&mut add);
        }
        days.into_values().collect()
    }

    /// Re-reads the last [`SUGGEST_DAYS`] days' popular queries that had results.
    async fn refresh_suggestions(&self, reads: &ReadPool) -> Result<()> {
        let from_day = day_of(Timestamp::now()) - (SUGGEST_DAYS - 1);
        let popular =
            reads.run(move |conn| search_analytics::popular_with_results(conn, from_day, SUGGEST_MIN_SEARCHES)).await?;
        self.inner.suggestions.store(Arc::new(popular));
        Ok(())
    }

    /// Up to [`SUGGESTED_QUERIES`] past queries (as of the last flush) that start with the
    /// words of `normalised` (folded words, single spaces), its last word a prefix of theirs:
    /// most searched first, then alphabetical.
    pub fn suggested_queries(&self, normalised: &str) -> Vec<String> {
        if normalised.is_empty() {
            return Vec::new();
        }
        let suggestions = self.inner.suggestions.load();
        let start = suggestions.partition_point(|(q, _)| q.as_str() < normalised);
        let mut found: Vec<&(String, i64)> =
            suggestions[start..].iter().take_while(|(q, _)| q.starts_with(normalised)).collect();
        found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        found.into_iter().take(SUGGESTED_QUERIES).map(|(q, _)| q.clone()).collect()
    }
}

/// The task flushing the analytics every few seconds; [`Flusher::stop`] ends it between
/// flushes (a flush in progress finishes: aborting one could lose whether it was written).
pub struct Flusher {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Flusher {
    /// Stops the task after its current flush, if any; the caller flushes once more.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        if let Err(error) = self.task.await {
            tracing::error!(%error, "the search analytics' flusher failed");
        }
    }
}

/// Flushes `analytics` every `every` (the first after one interval) until stopped.
pub fn spawn_flusher(analytics: SearchAnalytics, writer: WriterHandle, reads: ReadPool, every: Duration) -> Flusher {
    let (stop, mut stopped) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = &mut stopped => return,
            }
            if let Err(error) = analytics.flush(&writer, &reads).await {
                tracing::warn!(%error, "cannot write the search analytics (kept for the next flush)");
            }
        }
    });
    Flusher { stop, task }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: i64, second: i64) -> Timestamp {
        Timestamp::from_micros(day * 86_400_000_000 + second * 1_000_000)
    }

    fn analytics(daily_queries: usize) -> SearchAnalytics {
        SearchAnalytics::new(&AnalyticsSettings { daily_queries, ..AnalyticsSettings::default() })
    }

    #[test]
    fn searches_count_under_their_normalised_query_per_day() {
        let analytics = analytics(10);
        analytics.record_at("Red  SCARF!", 0, at(5, 1));
        analytics.record_at("red scarf", 3, at(5, 2));
        analytics.record_at("red scarf", 0, at(6, 1));
        analytics.record_at("?!", 0, at(6, 1));
        let batch = analytics.take(6);
        let mut found: Vec<(i64, &str, i64, i64, i64)> = batch
            .queries
            .iter()
            .map(|count| (count.day, count.q.as_str(), count.searches, count.no_result_searches, count.last_count))
            .collect();
        found.sort_unstable();
        assert_eq!(found, [(5, "red scarf", 2, 1, 3), (6, "red scarf", 1, 1, 0)]);
        assert_eq!(batch.days.iter().map(|day| (day.day, day.searches)).collect::<Vec<_>>(), [(5, 2), (6, 1)]);
        assert!(analytics.take(6).is_empty(), "a take leaves nothing pending");
        assert!(analytics.pending().is_empty());
    }

    #[test]
    fn a_day_keeps_at_most_its_cap_of_distinct_queries_and_counts_the_rest_in_its_total() {
        let analytics = analytics(3);
        for q in ["a1", "b1", "c1", "d1", "e1", "a1"] {
            analytics.record_at(q, 1, at(7, 1));
        }
        let batch = analytics.take(7);
        let mut queries: Vec<&str> = batch.queries.iter().map(|count| count.q.as_str()).collect();
        queries.sort_unstable();
        assert_eq!(queries, ["a1", "b1", "c1"]);
        assert_eq!(batch.days, [DayCount { day: 7, searches: 6, no_result_searches: 0, uncapped_searches: 2 }]);
        // The admitted queries stay admitted after the flush; a new one is still refused.
        analytics.record_at("b1", 1, at(7, 2));
        analytics.record_at("f1", 1, at(7, 2));
        let batch = analytics.take(7);
        assert_eq!(batch.queries.iter().map(|count| count.q.as_str()).collect::<Vec<_>>(), ["b1"]);
        // A new day has room again.
        analytics.record_at("f1", 1, at(8, 1));
        assert_eq!(analytics.take(8).queries.len(), 1);
    }

    #[test]
    fn suggestions_start_with_the_words_and_the_last_is_a_prefix() {
        let analytics = analytics(10);
        let popular = [("steel kettle", 9), ("steel kettles blue", 12), ("steel pan", 30), ("steelworks", 50)];
        analytics.inner.suggestions.store(Arc::new(popular.iter().map(|(q, n)| ((*q).to_owned(), *n)).collect()));
        assert_eq!(analytics.suggested_queries("steel ket"), ["steel kettles blue", "steel kettle"]);
        assert_eq!(
            analytics.suggested_queries("steel"),
            ["steelworks", "steel pan", "steel kettles blue", "steel kettle"]
        );
        assert!(analytics.suggested_queries("kettle").is_empty());
    }

    #[test]
    fn a_disabled_counter_counts_nothing() {
        let analytics = SearchAnalytics::disabled();
        analytics.record("red scarf", 0);
        assert!(analytics.pending().is_empty() && analytics.pending_days().is_empty());
    }
}
