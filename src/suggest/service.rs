//! The autocomplete service: the published map, the answer cache, the background rebuild, and
//! the commit observer that keeps them in step with the catalog.
//!
//! Requests only ever load the published map (an `ArcSwap`, no lock) and never wait for a
//! rebuild — except the very first requests after start, which wait for the first build. On a
//! catalog commit the observer, on the writer thread and before the client hears back:
//! 1. reads the changed products' new titles and publishes the same map with a bigger
//!    [`Overlay`] (old titles hidden, new ones matched) under a new generation, so no request
//!    starting after the reply can see an old title, and no cached answer from the old
//!    generation is served again;
//! 2. asks for a rebuild, which runs on the service's rebuild thread and publishes the new map
//!    with the overlay cut down to the changes it does not include.
//!
//! The rebuild thread lives as long as the service. A thread per rebuild would take whichever
//! glibc malloc arena was free at the time, and each arena it touched kept a rebuild's worth of
//! freed memory (at 1M products, tens of MiB per arena: `docs/reliability.md`, "Memory under
//! steady load"); one thread keeps one arena, which every rebuild reuses.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use axum::body::Bytes;
use serde::Serialize;
use tokio::sync::watch;

use super::cache::AnswerCache;
use super::map::SuggestMap;
use super::map::saved::map_stamp;
use super::overlay::{ChangedTitle, Overlay};
use super::query::SuggestQuery;
use super::rank::suggest;
use crate::db::ReadPool;
use crate::db::records::{CommitEffects, CommitObserver};
use crate::db::store::catalog::catalog_watermark;
use crate::db::store::popularity::{product_titles, products_with_popularity_at};
use crate::error::{Error, Result};
use crate::locking::lock;

/// How long a failed rebuild waits before trying again.
const REBUILD_RETRY_DELAY: Duration = Duration::from_secs(1);

/// A cheap clonable handle to the autocomplete service (an `Arc` inside).
#[derive(Clone)]
pub struct SuggestService {
    shared: Arc<Shared>,
}

struct Shared {
    /// What requests read: replaced whole, never locked by readers.
    published: ArcSwap<Published>,
    /// Held by the observer and the rebuild while they publish, so neither overwrites the
    /// other's update (requests never take it).
    publish_lock: Mutex<()>,
    cache: AnswerCache,
    reads: ReadPool,
    /// Catalog commits seen so far. A rebuild that reads it before reading the database
    /// includes every change up to that number.
    changes_seen: AtomicU64,
    /// Orders and stock changes only move popularity, so they trigger a rebuild at most this
    /// often (`--suggest-refresh-secs`; the answer cache keeps answers 10 minutes anyway).
    popularity_refresh: Duration,
    /// Wakes the rebuild thread. Holds at most one request: requests made while one is
    /// pending coalesce into it, and a request made during a build runs one more build after it.
    rebuild_requests: SyncSender<()>,
    /// When the last rebuild started reading the database (for the popularity refresh).
    last_build_started: Mutex<Instant>,
    /// The change number the published map includes; `None` until the first build lands.
    built_through: watch::Sender<Option<u64>>,
    /// Where each build is saved for the next start to map (`None`: not saved).
    saved_file: Option<PathBuf>,
}

/// A map and the changes it does not include yet, as requests see them.
struct Published {
    map: Arc<SuggestMap>,
    overlay: Overlay,
    /// Bumped on every publish; cached answers of other generations are not served.
    generation: u64,
}

#[derive(Serialize)]
struct Answer<'a> {
    results: &'a [String],
}

impl SuggestService {
    /// Starts the service and its first build from the database, in the background;
    /// popularity alone rebuilds the map at most every `popularity_refresh`.
    pub fn start(reads: ReadPool, popularity_refresh: Duration) -> Self {
        Self::start_saved(reads, popularity_refresh, None)
    }

    /// [`Self::start`], mapping the map saved at `saved_file` instead of building one when
    /// that file is whole and stamped with the current catalog (blocking: call it from the
    /// start-up thread); every build is then saved there.
    pub fn start_saved(reads: ReadPool, popularity_refresh: Duration, saved_file: Option<PathBuf>) -> Self {
        let saved = saved_file.as_deref().and_then(|file| open_saved(&reads, file));
        let first_build_done = saved.is_some();
        let map = saved.unwrap_or_else(SuggestMap::empty);
        let published = Published { map: Arc::new(map), overlay: Overlay::default(), generation: 0 };
        let (rebuild_requests, requests) = sync_channel(1);
        let shared = Arc::new(Shared {
            published: ArcSwap::from_pointee(published),
            publish_lock: Mutex::new(()),
            cache: AnswerCache::new(),
            reads,
            changes_seen: AtomicU64::new(0),
            popularity_refresh,
            rebuild_requests,
            last_build_started: Mutex::new(Instant::now()),
            // A mapped map includes every change so far: none has been seen yet.
            built_through: watch::Sender::new(first_build_done.then_some(0)),
            saved_file,
        });
        let worker = Arc::downgrade(&shared);
        let spawned = std::thread::Builder::new()
            .name("aforro-suggest".to_owned())
            .spawn(move || rebuild_on_request(&worker, &requests));
        if let Err(error) = spawned {
            // Suggest requests then answer 503 (no first build), the rest of the service runs.
            tracing::error!(%error, "autocomplete: cannot start the rebuild thread");
        }
        if !first_build_done {
            request_rebuild(&shared);
        }
        Self { shared }
    }

    /// The JSON body answering `query`, from the cache when it holds an answer of the
    /// published map's generation.
    pub async fn answer(&self, query: &SuggestQuery) -> Result<Bytes> {
        self.wait_for_first_build().await?;
        let published = self.shared.published.load_full();
        let key = query.cache_key();
        if let Some(body) = self.shared.cache.get(&key, published.generation).await {
            return Ok(body);
        }
        let generation = published.generation;
        let query = query.clone();
        // A lookup is CPU work of up to a couple of milliseconds (typo queries at 1M titles):
        // too long to hold an async worker.
        let body = tokio::task::spawn_blocking(move || {
            let results = suggest(&published.map, &published.overlay, &query);
            serde_json::to_vec(&Answer { results: &results }).map(Bytes::from)
        })
        .await?
        .map_err(Error::Json)?;
        self.shared.cache.insert(key, generation, body.clone()).await;
        Ok(body)
    }

    #[cfg(feature = "test-support")]
    /// Resolves once the published map includes every catalog change seen before the call
    /// (tests use it instead of sleeping).
    pub async fn wait_until_current(&self) {
        let target = self.shared.changes_seen.load(Ordering::SeqCst);
        let mut built = self.shared.built_through.subscribe();
        // The sender lives in `shared`, which `self` keeps alive: it cannot close.
        let _ = built.wait_for(|through| through.is_some_and(|through| through >= target)).await;
    }

    /// Whether the first map has been built (before that, suggest requests wait for it).
    pub fn is_ready(&self) -> bool {
        self.shared.built_through.borrow().is_some()
    }

    #[cfg(feature = "test-support")]
    /// Answers served from the cache.
    pub fn cache_hits(&self) -> u64 {
        self.shared.cache.hits()
    }

    async fn wait_for_first_build(&self) -> Result<()> {
        if self.shared.built_through.borrow().is_some() {
            return Ok(());
        }
        let mut built = self.shared.built_through.subscribe();
        built
            .wait_for(Option::is_some)
            .await
            .map(drop)
            .map_err(|_| Error::Unavailable("autocomplete is not available".to_owned()))
    }
}

impl CommitObserver for SuggestService {
    fn committed(&self, effects: &CommitEffects) {
        let shared = &self.shared;
        if effects.changed_products.is_empty() {
            // Stock changes only move popularity: refresh it now and then, not per order.
            if !effects.stock_changes.is_empty()
                && lock(&shared.last_build_started).elapsed() >= shared.popularity_refresh
            {
                request_rebuild(shared);
            }
            return;
        }
        let change = shared.changes_seen.fetch_add(1, Ordering::SeqCst) + 1;
        let new_titles = shared.reads.run_blocking(|conn| product_titles(conn, &effects.changed_products));
        let new_titles = new_titles.unwrap_or_else(|error| {
            // The old titles are still hidden below; the new ones appear with the rebuild.
            tracing::error!(%error, "autocomplete: cannot read changed titles");
            Vec::new()
        });
        let changes = effects
            .changed_products
            .iter()
            .map(|&product_id| {
                let title = new_titles.iter().find(|(id, _)| *id == product_id).map(|(_, title)| title.clone());
                ChangedTitle::new(change, product_id, title)
            })
            .collect();
        {
            let _publishing = lock(&shared.publish_lock);
            let current = shared.published.load();
            let overlay = current.overlay.with_changes(&current.map, changes);
            publish(shared, Arc::clone(&current.map), overlay, current.generation);
        }
        shared.cache.invalidate_all();
        request_rebuild(shared);
    }
}

fn publish(shared: &Shared, map: Arc<SuggestMap>, overlay: Overlay, previous_generation: u64) {
    shared.published.store(Arc::new(Published { map, overlay, generation: previous_generation + 1 }));
}

fn request_rebuild(shared: &Shared) {
    match shared.rebuild_requests.try_send(()) {
        // Full: a request is pending, and the build it starts reads everything up to now.
        Ok(()) | Err(TrySendError::Full(())) => {}
        Err(TrySendError::Disconnected(())) => tracing::error!("autocomplete: the rebuild thread has stopped"),
    }
}

/// The rebuild thread: one build per request until the service is dropped (its sender goes
/// with it, which ends `recv`). Holds the service only while building, so dropping the last
/// handle ends the thread.
fn rebuild_on_request(service: &Weak<Shared>, requests: &Receiver<()>) {
    while requests.recv().is_ok() {
        loop {
            let Some(shared) = service.upgrade() else { return };
            match rebuild(&shared) {
                Ok(()) => {
                    // The build's temporaries (every product's row, the per-word lists) are
                    // freed by now: hand them back rather than keep them resident.
                    crate::memory::release_freed_memory("autocomplete rebuild");
                    break;
                }
                Err(error) => {
                    tracing::error!(%error, "autocomplete: rebuild failed; retrying");
                    drop(shared);
                    std::thread::sleep(REBUILD_RETRY_DELAY);
                }
            }
        }
    }
}

/// Builds a map from the database and publishes it.
fn rebuild(shared: &Shared) -> Result<()> {
    // Read before the database: the build then includes every change up to `through`.
    let through = shared.changes_seen.load(Ordering::SeqCst);
    let started = Instant::now();
    *lock(&shared.last_build_started) = started;
    let (watermark, products) = shared.reads.run_blocking(products_with_popularity_at)?;
    let map = Arc::new(SuggestMap::build(products));
    tracing::info!(
        titles = map.title_count(),
        memory_bytes = map.memory_bytes(),
        elapsed_ms = started.elapsed().as_millis(),
        "autocomplete map built"
    );
    publish_rebuilt(shared, Arc::clone(&map), through);
    if let Some(file) = &shared.saved_file {
        let saving = Instant::now();
        match map.save(file, &map_stamp(&watermark)) {
            Ok(bytes) => tracing::info!(bytes, elapsed_ms = saving.elapsed().as_millis(), "autocomplete map saved"),
            // The next start builds it again; nothing else depends on the file.
            Err(error) => tracing::warn!(%error, file = %file.display(), "autocomplete: cannot save the map"),
        }
    }
    Ok(())
}

/// The map saved at `file`, when it is whole and built from the current catalog.
fn open_saved(reads: &ReadPool, file: &Path) -> Option<SuggestMap> {
    let watermark = match reads.run_blocking(catalog_watermark) {
        Ok(watermark) => watermark,
        Err(error) => {
            tracing::warn!(%error, "autocomplete: cannot read the catalog watermark; building the map");
            return None;
        }
    };
    match SuggestMap::open_saved(file, &map_stamp(&watermark)) {
        Ok(map) => {
            tracing::info!(titles = map.title_count(), file = %file.display(), "autocomplete: mapped the saved map");
            Some(map)
        }
        Err(reason) => {
            tracing::info!(%reason, "autocomplete: building the map in the background");
            None
        }
    }
}

fn publish_rebuilt(shared: &Shared, map: Arc<SuggestMap>, through: u64) {
    {
        let _publishing = lock(&shared.publish_lock);
        let current = shared.published.load();
        let overlay = current.overlay.rebased(&map, through);
        publish(shared, map, overlay, current.generation);
    }
    shared.cache.invalidate_all();
    shared.built_through.send_replace(Some(through));
}
