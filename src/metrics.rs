//! Prometheus metrics: the process's recorder and the names every module records under. A
//! leaf: the request middleware and the `GET /metrics` handler are in `http::metrics`, the
//! job counts they show come from `db::outbox::jobs`.
//!
//! The `metrics` recorder is global to the process and installed once, so every app in one
//! process (the test suite runs many) records into the same registry: counters only grow,
//! and tests assert that they moved, never their exact value. Gauges that describe one app's
//! state (job queue depth, index documents) are computed when that app is scraped.
//!
//! The crate `metrics` is spelled `::metrics` here and by callers: this module shares its name.

use std::collections::{BTreeSet, HashMap};
use std::sync::{LazyLock, Mutex, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::locking::lock;

/// Requests served, by `method`, `route` (the matched route template) and `status`.
pub const HTTP_REQUESTS: &str = "aforro_http_requests_total";
/// Time to the response head, in seconds, with the same labels.
pub const HTTP_DURATION: &str = "aforro_http_request_duration_seconds";
/// Orders answered, by `outcome`: `CONFIRMED`, `REJECTED` or `replayed` (an idempotent retry).
pub const ORDERS: &str = "aforro_orders_total";
/// Cache lookups, by `cache` (`search`, `suggest`) and `result` (`hit`, `miss`).
pub const CACHE_LOOKUPS: &str = "aforro_cache_lookups_total";
/// Rows of the jobs table, by `state` (whatever states the table holds).
pub const JOBS: &str = "aforro_jobs";
/// Live documents in the search index.
pub const INDEX_DOCUMENTS: &str = "aforro_search_index_documents";
/// Commits that failed because of the data volume, by `cause` (`full`, `io_error`, `read_only`).
pub const STORAGE_FAILED_COMMITS: &str = "aforro_storage_failed_commits_total";

/// The `route` label of requests no route matched. Never the raw path: every scanner's
/// probe would become a new time series.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Request latency buckets, seconds: from cached answers (sub-millisecond) to the timeout.
const LATENCY_BUCKETS_SECS: &[f64] =
    &[0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// How often histogram samples are folded into their buckets. Until then every sample is kept
/// (8 bytes each): without this, a server nobody scraped grew by every request it served
/// (docs/reliability.md, "What bounds memory"). The exporter's own `install()` upkeep uses
/// the same 5 s; at 20k requests/s this bounds the pending samples to about 800 KB.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's metrics registry, installing the recorder (and its upkeep) on first use.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), LATENCY_BUCKETS_SECS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        if ::metrics::set_global_recorder(recorder).is_err() {
            // Only if something else installed one first; /metrics then renders an empty registry.
            tracing::warn!("another metrics recorder is installed; /metrics will be empty");
        }
        describe();
        spawn_upkeep();
        handle
    })
}

/// Runs the exporter's upkeep every [`UPKEEP_INTERVAL`], scraped or not. A plain thread rather
/// than a tokio task: the recorder is process-wide and outlives any one runtime (the test suite
/// starts many), and the upkeep is a few microseconds of lock-free draining.
fn spawn_upkeep() {
    let spawned = std::thread::Builder::new().name("aforro-metrics-upkeep".to_owned()).spawn(|| {
        loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            if let Some(handle) = HANDLE.get() {
                handle.run_upkeep();
            }
        }
    });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the metrics upkeep thread; histograms are drained only when scraped");
    }
}

/// The `# HELP` lines.
fn describe() {
    ::metrics::describe_counter!(HTTP_REQUESTS, "HTTP requests served, by method, matched route and status");
    ::metrics::describe_histogram!(HTTP_DURATION, ::metrics::Unit::Seconds, "Time to the response head");
    ::metrics::describe_counter!(ORDERS, "Orders answered, by outcome (CONFIRMED, REJECTED, replayed)");
    ::metrics::describe_counter!(CACHE_LOOKUPS, "Cache lookups, by cache (search, suggest) and result (hit, miss)");
    ::metrics::describe_gauge!(JOBS, "Rows of the jobs table by state, counted at scrape time");
    ::metrics::describe_gauge!(INDEX_DOCUMENTS, "Live documents in the search index");
    ::metrics::describe_counter!(
        STORAGE_FAILED_COMMITS,
        "Commits failed by the data volume, by cause (full, io_error, read_only)"
    );
}

/// Records `outcome` of an order (see [`ORDERS`]).
pub fn order_answered(outcome: &'static str) {
    ::metrics::counter!(ORDERS, "outcome" => outcome).increment(1);
}

/// Records a lookup in `cache` (see [`CACHE_LOOKUPS`]).
pub fn cache_lookup(cache: &'static str, hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    ::metrics::counter!(CACHE_LOOKUPS, "cache" => cache, "result" => result).increment(1);
}

/// Records a commit the data volume failed, by `cause` (see [`STORAGE_FAILED_COMMITS`]).
pub fn storage_commit_failed(cause: &'static str) {
    ::metrics::counter!(STORAGE_FAILED_COMMITS, "cause" => cause).increment(1);
}

/// One request series' counter and histogram.
type Series = (::metrics::Counter, ::metrics::Histogram);
/// The series of one (method, status), by route.
type SeriesByRoute = HashMap<Box<str>, Series>;

/// Every request series seen so far, by (method, status), then route: registered once, so a
/// request records without building its label set (six strings) and without two registry
/// lookups by that key, which the order path's profile counted per request. The series are
/// bounded by routes × methods × statuses, as the registry's own are.
static SERIES: LazyLock<RwLock<HashMap<(&'static str, u16), SeriesByRoute>>> = LazyLock::new(RwLock::default);

/// Records one answered request (see [`HTTP_REQUESTS`] and [`HTTP_DURATION`]).
pub fn request_answered(method: &'static str, route: &str, status: u16, elapsed: Duration) {
    let seconds = elapsed.as_secs_f64();
    {
        let known = SERIES.read().unwrap_or_else(PoisonError::into_inner);
        if let Some((requests, duration)) = known.get(&(method, status)).and_then(|routes| routes.get(route)) {
            requests.increment(1);
            duration.record(seconds);
            return;
        }
    }
    let labels = [("method", method.to_owned()), ("route", route.to_owned()), ("status", status.to_string())];
    let series = (::metrics::counter!(HTTP_REQUESTS, &labels), ::metrics::histogram!(HTTP_DURATION, &labels));
    series.0.increment(1);
    series.1.record(seconds);
    let mut known = SERIES.write().unwrap_or_else(PoisonError::into_inner);
    known.entry((method, status)).or_default().entry(route.into()).or_insert(series);
}

/// Sets the gauge of live documents in the search index.
pub fn index_documents(count: u64) {
    // Precision loss only past 2^53 documents.
    ::metrics::gauge!(INDEX_DOCUMENTS).set(count as f64);
}

/// The registry in Prometheus text format, after the recorder's upkeep.
pub fn render() -> String {
    let handle = handle();
    handle.run_upkeep();
    handle.render()
}

/// Statuses seen in an earlier scrape: one absent now is set to 0 rather than left at its
/// last count (`GROUP BY` returns no row for an empty status).
static SEEN_JOB_STATUSES: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// Sets the job queue depth per state from one `GROUP BY` count (a state absent now reads 0).
pub fn record_job_depths(counts: &[(String, i64)]) {
    let mut seen = lock(&SEEN_JOB_STATUSES);
    for status in seen.iter() {
        if !counts.iter().any(|(name, _)| name == status) {
            ::metrics::gauge!(JOBS, "state" => status.clone()).set(0.0);
        }
    }
    for (status, count) in counts {
        ::metrics::gauge!(JOBS, "state" => status.clone()).set(*count as f64);
        seen.insert(status.clone());
    }
}
