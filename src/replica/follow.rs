//! Following the primary: the replica's views are built from the followed database at start,
//! then a loop polls its `commit_log` (every [`POLL`]) and hands each new run of logged
//! batches to the same observers the primary's writer calls (search index and stock view,
//! autocomplete), so catalog and stock changes are applied incrementally, never by a rebuild.
//!
//! Litestream writes the database file underneath us; see [`ReadPool::open_follower`] for how
//! reads stay correct (and never block Litestream) while it does.

use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::options::{MAX_LAG, PrimaryUrl};
use crate::db::outbox::commit_log;
use crate::db::records::{CommitEffects, CommitObserver};
use crate::db::{ReadPool, migrate};
use crate::domain::Timestamp;
use crate::error::Error;
use crate::locking::lock;
use crate::search::SearchIndex;
use crate::suggest::SuggestService;

/// How often the loop looks for new commits when it has caught up. Litestream itself applies
/// what it fetched every `-follow-interval` (1 s by default, 100 ms in our scripts), so this
/// adds at most a twentieth of a second to the replication lag.
pub const POLL: Duration = Duration::from_millis(50);
/// Logged batches applied at once: bounds one step's work when the replica is far behind.
const MAX_PER_STEP: usize = 1_000;

/// Replication lag: from a commit reaching this replica to its views having it.
const LAG_GAUGE: &str = "aforro_replica_lag_seconds";
/// Age of each applied batch by the primary's clock: the whole path from the primary's
/// commit through Litestream to this replica's views.
const COMMIT_AGE: &str = "aforro_replica_commit_age_seconds";

/// The database and views a replica serves from.
pub struct ReplicaViews {
    /// The followed database, read-only.
    pub reads: ReadPool,
    /// The search index, kept in step with each logged commit.
    pub search: SearchIndex,
    /// The autocomplete map, kept in step likewise.
    pub suggest: SuggestService,
    /// How far behind the primary the replica is (readiness and metrics read it).
    pub status: ReplicaStatus,
}

/// Opens the followed database read-only and builds the views from it. Fails when there is no
/// database yet (start `litestream restore -f` first) or its schema is not this binary's.
pub fn open_views(
    database: &Path,
    index_dir: &Path,
    primary: PrimaryUrl,
    suggest_refresh: Duration,
    match_cache_bytes: u64,
) -> anyhow::Result<ReplicaViews> {
    if !database.exists() {
        anyhow::bail!(
            "no database at {}: a read replica serves the file `litestream restore -f` keeps current; start that first",
            database.display()
        );
    }
    let reads = ReadPool::open_follower(database).context("cannot open the followed database")?;
    let latest = migrate::latest_migration();
    let current: bool = reads
        .run_blocking(|conn| migrate::is_applied(conn, latest))
        .context("cannot read the followed database's schema")?;
    if !current {
        anyhow::bail!("the followed database lacks migration {latest}: upgrade the primary first, then its replicas");
    }
    // Read before the views are built: a commit landing meanwhile is then applied once more
    // by the loop, which is harmless (absolute quantities, products re-read).
    let applied = reads.run_blocking(commit_log::latest_seq).context("cannot read the commit log")?;
    let search =
        SearchIndex::open(index_dir, reads.clone(), match_cache_bytes).context("cannot open the search index")?;
    let suggest = SuggestService::start(reads.clone(), suggest_refresh);
    Ok(ReplicaViews { reads, search, suggest, status: ReplicaStatus::new(primary, applied) })
}

/// What `readyz` and `/metrics` report about a replica. Cloning is shallow.
#[derive(Clone)]
pub struct ReplicaStatus {
    inner: Arc<StatusInner>,
}

struct StatusInner {
    primary: PrimaryUrl,
    /// The last `commit_log` seq the views have applied.
    applied: AtomicI64,
    /// Since when the database has held a commit the views have not applied.
    behind_since: Mutex<Option<Instant>>,
    /// Why the views cannot keep up, if they cannot.
    problem: Mutex<Option<Problem>>,
}

#[derive(Clone)]
struct Problem {
    message: String,
    /// A problem the loop cannot recover from by itself (only a restart rebuilds the views).
    permanent: bool,
}

impl ReplicaStatus {
    fn new(primary: PrimaryUrl, applied: i64) -> Self {
        let inner = StatusInner {
            primary,
            applied: AtomicI64::new(applied),
            behind_since: Mutex::new(None),
            problem: Mutex::new(None),
        };
        Self { inner: Arc::new(inner) }
    }

    /// Where writes are redirected (307).
    pub fn primary(&self) -> &PrimaryUrl {
        &self.inner.primary
    }

    /// The last `commit_log` seq the views have applied.
    pub fn applied_seq(&self) -> i64 {
        self.inner.applied.load(Ordering::Acquire)
    }

    /// How far the views trail the newest commit this replica has received (zero when they
    /// have it).
    pub fn lag(&self) -> Duration {
        lock(&self.inner.behind_since).map(|since| since.elapsed()).unwrap_or_default()
    }

    /// `Err(why)` when the replica must not be sent reads: its views cannot keep up, or trail
    /// by more than [`MAX_LAG`].
    pub fn readiness(&self) -> std::result::Result<(), String> {
        if let Some(problem) = lock(&self.inner.problem).clone() {
            return Err(problem.message);
        }
        let lag = self.lag();
        if lag > MAX_LAG {
            return Err(format!(
                "the replica's views trail the newest commit by {} ms (the bound is {} ms)",
                lag.as_millis(),
                MAX_LAG.as_millis()
            ));
        }
        Ok(())
    }

    fn received(&self, latest: i64) {
        let mut behind_since = lock(&self.inner.behind_since);
        if latest > self.applied_seq() {
            behind_since.get_or_insert_with(Instant::now);
        }
    }

    fn applied(&self, seq: i64, latest: i64) {
        self.inner.applied.store(seq, Ordering::Release);
        if seq >= latest {
            *lock(&self.inner.behind_since) = None;
        }
    }

    fn set_problem(&self, problem: Option<Problem>) {
        let mut current = lock(&self.inner.problem);
        // A permanent problem stays until the restart that rebuilds the views.
        if !current.as_ref().is_some_and(|known| known.permanent) {
            *current = problem;
        }
    }
}

/// The running follow loop. Stop it with [`Follower::stop`].
pub struct Follower {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Follower {
    /// Starts following: applies every commit logged after the views were built.
    pub fn start(views: &ReplicaViews) -> Self {
        ::metrics::describe_gauge!(
            LAG_GAUGE,
            ::metrics::Unit::Seconds,
            "How far a read replica's views trail the newest commit it has received"
        );
        ::metrics::describe_histogram!(
            COMMIT_AGE,
            ::metrics::Unit::Seconds,
            "Age, by the primary's clock, of each commit a read replica applied"
        );
        let observers: Arc<[Arc<dyn CommitObserver>]> =
            Arc::new([Arc::new(views.search.clone()) as Arc<dyn CommitObserver>, Arc::new(views.suggest.clone())]);
        let (stop, stopped) = watch::channel(false);
        let task =
            tokio::spawn(run(views.status.clone(), views.reads.clone(), views.search.clone(), observers, stopped));
        Self { stop, task }
    }

    /// Stops following and waits for the loop to end.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.task.await {
            tracing::error!(%error, "replica: the follow loop failed");
        }
    }
}

async fn run(
    status: ReplicaStatus,
    reads: ReadPool,
    search: SearchIndex,
    observers: Arc<[Arc<dyn CommitObserver>]>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let (status_now, reads_now, observers_now) = (status.clone(), reads.clone(), Arc::clone(&observers));
        let search_now = search.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let more = step(&status_now, &reads_now, &observers_now)?;
            // Synonym sets and search rules are no index change: loaded again when they moved.
            reads_now.run_blocking(|conn| search_now.reload_curation_if_changed(conn)).map_err(|error| Problem {
                message: format!("cannot read the synonym sets and search rules: {error}"),
                permanent: false,
            })?;
            Ok::<bool, Problem>(more)
        })
        .await;
        let more = match outcome {
            Ok(Ok(more)) => {
                status.set_problem(None);
                more
            }
            Ok(Err(problem)) => {
                tracing::warn!(problem = %problem.message, "replica: cannot apply new commits");
                status.set_problem(Some(problem));
                false
            }
            Err(error) => {
                tracing::error!(%error, "replica: a follow step panicked");
                status.set_problem(Some(Problem {
                    message: format!("the follow loop failed: {error}"),
                    permanent: true,
                }));
                false
            }
        };
        ::metrics::gauge!(LAG_GAUGE).set(status.lag().as_secs_f64());
        if more {
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {},
            _ = stop.changed() => return,
        }
    }
}

/// Applies the next run of logged batches; `Ok(true)` when more are waiting.
fn step(
    status: &ReplicaStatus,
    reads: &ReadPool,
    observers: &[Arc<dyn CommitObserver>],
) -> std::result::Result<bool, Problem> {
    let applied = status.applied_seq();
    let read = reads
        .run_blocking(|conn| Ok((commit_log::latest_seq(conn)?, commit_log::read_after(conn, applied, MAX_PER_STEP)?)));
    let (latest, commits) = read.map_err(|error: Error| Problem {
        message: format!("cannot read the followed database: {error}"),
        permanent: false,
    })?;
    status.received(latest);
    let Some(last) = commits.last() else {
        if latest > applied {
            return Err(missed(applied, latest + 1));
        }
        return Ok(false);
    };
    if commits[0].seq != applied + 1 {
        return Err(missed(applied, commits[0].seq));
    }
    let mut effects = CommitEffects::default();
    let now = Timestamp::now();
    for commit in &commits {
        effects.absorb(&commit.effects);
        let age_micros = now.micros.saturating_sub(commit.committed_at.micros).max(0);
        ::metrics::histogram!(COMMIT_AGE).record(age_micros as f64 / 1e6);
    }
    for observer in observers {
        observer.committed(&effects);
    }
    let latest = latest.max(last.seq);
    status.applied(last.seq, latest);
    Ok(last.seq < latest)
}

/// The primary purged log rows this replica never applied: its views cannot catch up.
fn missed(applied: i64, next: i64) -> Problem {
    Problem {
        message: format!(
            "the replica missed commits {}..{} (the primary purges its commit log after an hour): restart it to rebuild its views",
            applied + 1,
            next - 1
        ),
        permanent: true,
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;
    use crate::domain::ProductId;

    /// Remembers every effects it was handed.
    #[derive(Default)]
    struct Recorder(Mutex<Vec<CommitEffects>>);

    impl CommitObserver for Recorder {
        fn committed(&self, effects: &CommitEffects) {
            lock(&self.0).push(effects.clone());
        }
    }

    /// A migrated database file with `products` logged as one batch each.
    fn logged_database(dir: &Path, products: &[i64]) -> (Connection, ReadPool) {
        let path = dir.join("aforro.db");
        let mut conn = Connection::open(&path).expect("db");
        crate::db::migrate::migrate(&mut conn).expect("migrate");
        for (at, product) in products.iter().enumerate() {
            let effects = CommitEffects { changed_products: vec![ProductId(*product)], ..CommitEffects::default() };
            commit_log::append(&conn, &effects, Timestamp::from_micros(at as i64)).expect("append");
        }
        (conn, ReadPool::open_follower(&path).expect("reads"))
    }

    fn status() -> ReplicaStatus {
        ReplicaStatus::new(PrimaryUrl("http://primary:8000".to_owned()), 0)
    }

    #[test]
    fn each_step_hands_the_observers_every_new_batch_in_order_then_reports_caught_up() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (conn, reads) = logged_database(dir.path(), &[3, 5]);
        let recorder = Arc::new(Recorder::default());
        let observers: [Arc<dyn CommitObserver>; 1] = [recorder.clone()];
        let status = status();

        assert!(!step(&status, &reads, &observers).map_err(|p| p.message).expect("step"), "nothing more waits");
        assert_eq!(status.applied_seq(), 2);
        assert_eq!(status.lag(), Duration::ZERO);
        let effects = CommitEffects { changed_products: vec![ProductId(8)], ..CommitEffects::default() };
        commit_log::append(&conn, &effects, Timestamp::now()).expect("append");
        step(&status, &reads, &observers).map_err(|p| p.message).expect("step");

        let seen: Vec<Vec<ProductId>> = lock(&recorder.0).iter().map(|e| e.changed_products.clone()).collect();
        assert_eq!(seen, [vec![ProductId(3), ProductId(5)], vec![ProductId(8)]]);
        assert_eq!(status.applied_seq(), 3);
        assert_eq!(status.readiness(), Ok(()));
    }

    #[test]
    fn a_replica_that_missed_purged_commits_is_not_ready_until_restarted() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (conn, reads) = logged_database(dir.path(), &[1, 2, 3]);
        commit_log::purge_before(&conn, Timestamp::from_micros(2)).expect("purge seq 1 and 2");
        let status = status();
        let observers: [Arc<dyn CommitObserver>; 0] = [];

        let problem = step(&status, &reads, &observers).expect_err("a gap");
        assert!(problem.permanent && problem.message.contains("missed commits 1..2"), "{}", problem.message);
        status.set_problem(Some(problem));
        status.set_problem(None);
        assert!(status.readiness().is_err_and(|why| why.contains("restart")), "a later good step does not hide it");
    }

    #[test]
    fn views_trailing_by_more_than_the_bound_are_not_ready() {
        let status = status();
        status.received(1);
        assert_eq!(status.readiness(), Ok(()), "just behind");
        let long_ago = Instant::now().checked_sub(MAX_LAG + Duration::from_secs(1)).expect("an earlier instant");
        *lock(&status.inner.behind_since) = Some(long_ago);
        assert!(status.lag() > MAX_LAG);
        assert!(status.readiness().is_err_and(|why| why.contains("trail")));
        status.applied(1, 1);
        assert_eq!(status.lag(), Duration::ZERO);
        assert_eq!(status.readiness(), Ok(()));
    }
}
