//! The running application: its shared state and its lifecycle
//! (`Application::build` → `local_addr()` → `run_until_stopped()`).

pub mod login_throttle;
pub mod password_checks;
pub mod private_files;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use tokio::net::TcpListener;

use self::login_throttle::LoginThrottle;
use self::password_checks::PasswordChecks;
use crate::access::{self, AccessControl, AccessOptions};
use crate::analytics::{self, SearchAnalytics};
use crate::config::{Config, HttpOptions};
use crate::db::exclusive::{DataDirLock, lock_data_dir};
use crate::db::outbox::jobs as job_rows;
use crate::db::records::CommitObserver;
use crate::db::writer::{self, WriterHandle, WriterThread};
use crate::db::{self, OpenedStore, ReadPool};
use crate::domain::{Clock, Timestamp};
use crate::jobs::expiry::{ExpiryTimer, HoldsChanged};
use crate::jobs::maintenance::{Maintenance, Retention};
use crate::jobs::{self, JobQueue, Worker, WorkerPool, WorkerSettings};
use crate::replica::{self, Follower, ReplicaStatus, ReplicationOptions};
use crate::search::SearchIndex;
use crate::seed::{self, SeedOptions};
use crate::suggest::{self, SuggestService};
use crate::telemetry::start_step;
use crate::view_files;

/// What every handler can reach. Each field is a cheap handle (an `Arc` inside), so cloning
/// the state per request is shallow.
#[derive(Clone)]
pub struct AppState {
    /// Read-only SQLite connections, used on the blocking pool.
    pub reads: ReadPool,
    /// The single writer: every mutation goes through it.
    pub writer: WriterHandle,
    /// Product search and the in-memory stock view; the writer keeps both in step with
    /// every commit before replying.
    pub search: SearchIndex,
    /// Autocomplete: the published title map and its answer cache, kept current by the writer.
    pub suggest: SuggestService,
    /// The confirmation queue: woken by the writer after each enqueue; reports worker health.
    pub jobs: JobQueue,
    /// Set on a read replica (`serve --read-replica`): its primary and how far it trails.
    pub replica: Option<ReplicaStatus>,
    /// Failed-login limiting per (username, client address); in memory, per process.
    pub login_throttle: LoginThrottle,
    /// The master key and every API key, in memory: what the gate checks each request against.
    pub access: AccessControl,
    /// The same limit for the page's password-change form (its current-password check).
    pub password_change_throttle: LoginThrottle,
    /// The search analytics counted in memory (nothing is counted on a read replica).
    pub analytics: SearchAnalytics,
    /// The process-wide bound on concurrent Argon2 checks, every door's.
    pub password_checks: PasswordChecks,
}

/// Opens the configured store (see [`crate::db::open_store`]), creating its file readable by
/// this user only ([`private_files`]).
pub fn open_store(config: &Config) -> anyhow::Result<OpenedStore> {
    let path = config.database_path();
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create the folder {}", config.data_dir.display()))?;
    let created = private_files::create_private(&path).with_context(|| format!("cannot create {}", path.display()))?;
    if !created {
        private_files::warn_if_readable_by_others(&path);
    }
    db::open_store(&path, config.synchronous)
}

/// Options of `serve` beyond the shared configuration.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Seed the demo catalog first when the database has no products.
    pub demo: bool,
    /// Concurrency limit and CORS of the HTTP layers.
    pub http: HttpOptions,
    /// Read replica, or a primary that Litestream replicates (docs/scaling.md).
    pub replication: ReplicationOptions,
    /// Keyed or open mode, and the per-address limit (docs/security.md).
    pub access: AccessOptions,
    /// What reservations expire by: the system clock, or a test's manual one.
    pub clock: Clock,
}

/// A built application, bound to its port, not yet serving.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    http: HttpOptions,
    duties: Duties,
    /// Held while serving: no other aforro process may write this database meanwhile.
    data_dir_lock: DataDirLock,
    /// Reloads keys changed beside the server and writes their last uses.
    access_upkeep: tokio::task::JoinHandle<()>,
    /// Flushes the search analytics every few seconds (a primary only).
    analytics_flusher: Option<analytics::Flusher>,
}

/// What runs beside the HTTP server.
enum Duties {
    /// The writer, and the confirmation workers, maintenance schedule and reservation expiry
    /// timer holding its handles.
    Primary { writer_thread: WriterThread, workers: WorkerPool, maintenance: Maintenance, expiry: ExpiryTimer },
    /// The loop applying what Litestream brings to the views, and the schedule returning
    /// freed memory.
    Replica { follower: Follower, maintenance: Maintenance },
}

impl Application {
    /// Opens the store (migrating it), seeds it for `--demo`, starts the writer and binds;
    /// or, with `--read-replica`, opens the followed database and starts following it.
    pub async fn build(config: &Config, addr: SocketAddr, options: ServeOptions) -> anyhow::Result<Self> {
        let data_dir_lock = lock_data_dir(&config.data_dir)?;
        if let Some(primary) = options.replication.replica_of().cloned() {
            let (database, index_dir, refresh, match_cache) =
                (config.database_path(), config.index_dir.clone(), config.suggest_refresh, config.match_cache_bytes());
            let views = tokio::task::spawn_blocking(move || {
                replica::open_views(&database, &index_dir, primary, refresh, match_cache)
            })
            .await
            .context("start-up task failed")??;
            let follower = Follower::start(&views);
            let access = start_access(&options.access, addr, &views.reads).await?;
            if !access.is_keyed() && access.holds_keys() {
                anyhow::bail!(
                    "this database holds API keys: start the replica with the primary's master key \
                     (--master-key-file or AFORRO_MASTER_KEY_FILE)"
                );
            }
            let access_upkeep = access::spawn_upkeep(access.clone(), views.reads.clone(), None);
            let state = AppState {
                reads: views.reads,
                writer: WriterHandle::without_writer(),
                search: views.search,
                suggest: views.suggest,
                jobs: JobQueue::new(0),
                replica: Some(views.status),
                login_throttle: LoginThrottle::default(),
                access,
                password_change_throttle: LoginThrottle::default(),
                password_checks: PasswordChecks::default(),
                analytics: SearchAnalytics::disabled(),
            };
            let listener = TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
            let maintenance =
                Maintenance::start_replica().await.context("cannot start the replica's maintenance schedule")?;
            let duties = Duties::Replica { follower, maintenance };
            return Ok(Self {
                listener,
                state,
                http: options.http,
                duties,
                data_dir_lock,
                access_upkeep,
                analytics_flusher: None,
            });
        }
        let started = Instant::now();
        let sender = jobs::sender_from_config(&config.jobs)?;
        let retention = Retention { jobs: config.jobs.retention(), movements: config.jobs.movement_retention() };
        let settings = WorkerSettings::for_sender(config.jobs.confirmation_sender);
        let analytics_settings = config.analytics.clone();
        let config = config.clone();
        let http = options.http.clone();
        let access_options = options.access.clone();
        let litestream = options.replication.litestream;
        let previous_holder = data_dir_lock.previous_token().to_owned();
        let (mut state, writer_thread, holds) =
            tokio::task::spawn_blocking(move || start_store(&config, &options, &previous_holder))
                .await
                .context("start-up task failed")??;
        let keys_started = Instant::now();
        state.access = start_access(&access_options, addr, &state.reads).await?;
        log_step("API keys", keys_started);
        let access_upkeep = access::spawn_upkeep(state.access.clone(), state.reads.clone(), Some(state.writer.clone()));
        state.analytics = SearchAnalytics::new(&analytics_settings);
        state.analytics.load(&state.reads).await.context("cannot read the search analytics")?;
        let analytics_flusher = Some(analytics::spawn_flusher(
            state.analytics.clone(),
            state.writer.clone(),
            state.reads.clone(),
            analytics_settings.flush_every,
        ));
        let worker = Worker::new(state.reads.clone(), state.writer.clone(), sender, settings);
        let workers = WorkerPool::start(&state.jobs, &worker);
        drop(worker);
        let maintenance = Maintenance::start(state.writer.clone(), retention, litestream)
            .await
            .context("cannot start the maintenance schedule")?;
        let expiry = ExpiryTimer::start(state.writer.clone(), state.reads.clone(), &holds);
        let listener = TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
        log_step("start (database and search index open)", started);
        let duties = Duties::Primary { writer_thread, workers, maintenance, expiry };
        Ok(Self { listener, state, http, duties, data_dir_lock, access_upkeep, analytics_flusher })
    }

    /// The address the server listens on (the real port when it was bound to port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The running app's handles (reads, writer, search, autocomplete).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves `router` (built from the state and the HTTP options; `http` calls this with its
    /// router, see `run_until_stopped`) until `shutdown` completes. Shutdown order: stop accepting and let in-flight
    /// requests finish; then stop the job workers (no new claims; running jobs get
    /// [`crate::jobs::SHUTDOWN_GRACE`], unclaimed ones stay queued) and the maintenance
    /// schedule; with their handles gone, the writer commits what it was given and stops;
    /// then return.
    pub async fn serve<Served: Future<Output = ()>>(
        self,
        serve_http: impl FnOnce(TcpListener, AppState, HttpOptions) -> Served,
    ) -> anyhow::Result<()> {
        let Self { listener, state, http, duties, data_dir_lock, access_upkeep, analytics_flusher } = self;
        let (access, writer, search) = (state.access.clone(), state.writer.clone(), state.search.clone());
        let (analytics, reads) = (state.analytics.clone(), state.reads.clone());
        serve_http(listener, state, http).await;
        // Its writer handle must go before the writer can stop; the last uses are written first.
        access_upkeep.abort();
        drop(access_upkeep.await);
        if let Some(flusher) = analytics_flusher {
            flusher.stop().await;
        }
        if matches!(duties, Duties::Primary { .. }) {
            access::flush_uses(&access, Some(&writer)).await;
            if let Err(error) = analytics.flush(&writer, &reads).await {
                tracing::warn!(%error, "cannot write the last search analytics");
            }
        }
        drop(analytics);
        drop(writer);
        match duties {
            Duties::Primary { writer_thread, workers, maintenance, expiry } => {
                workers.shutdown(crate::jobs::SHUTDOWN_GRACE).await;
                maintenance.stop().await;
                expiry.stop().await;
                tokio::task::spawn_blocking(move || writer_thread.join()).await.context("writer join failed")?;
                // Nothing commits any more: the stock view is exactly the database's, and the
                // next start reads it back instead of every inventory row.
                let saving = Instant::now();
                let holder = data_dir_lock.token().to_owned();
                match tokio::task::spawn_blocking(move || search.save_stock(&holder)).await {
                    Ok(Ok(bytes)) => {
                        tracing::info!(bytes, elapsed_ms = saving.elapsed().as_millis(), "stock view saved");
                    }
                    Ok(Err(error)) => tracing::warn!(error = format!("{error:#}"), "the stock view was not saved"),
                    Err(error) => tracing::warn!(%error, "the stock view was not saved"),
                }
            }
            Duties::Replica { follower, maintenance } => {
                maintenance.stop().await;
                follower.stop().await;
            }
        }
        // Only now may another process write the database.
        drop(data_dir_lock);
        Ok(())
    }
}

/// `previous_holder`: the data folder lock's token of the process before this one (a clean
/// stop of `serve` saved its stock view under it).
fn start_store(
    config: &Config,
    options: &ServeOptions,
    previous_holder: &str,
) -> anyhow::Result<(AppState, WriterThread, HoldsChanged)> {
    let mut store = open_store(config)?;
    for name in &store.applied_migrations {
        tracing::info!(migration = name, "applied migration");
    }
    if options.demo && seed::is_empty(&store.write_conn)? {
        tracing::info!("--demo: the database is empty, seeding the demo catalog");
        seed::seed(&mut store.write_conn, &SeedOptions::default()).context("cannot seed the demo catalog")?;
    }
    // We hold the data folder's lock, so no worker anywhere holds a lease: jobs left running
    // by a killed process are due again now rather than when their lease would expire.
    let requeued =
        start_step("requeue jobs", || job_rows::requeue_expired_leases(&store.write_conn, Timestamp::now(), true))?;
    if requeued > 0 {
        tracing::info!(requeued, "re-queued jobs a previous run left running");
    }
    // Holds whose time ran out while no server ran: expired (and logged, so a saved stock view
    // that still counts them is stale) before any view is opened; the timer takes the rest.
    let expired =
        start_step("expire reservations", || expire_reservations(&mut store.write_conn, options.clock.now()))?;
    if expired > 0 {
        tracing::info!(expired, "expired reservations whose time ran out while stopped");
    }
    // Opened before the writer starts: nothing can commit between the index's watermark
    // check, the stock view's load and the first observed commit.
    let search = SearchIndex::open_with_saved_stock(
        &config.index_dir,
        store.reads.clone(),
        config.match_cache_bytes(),
        Some(previous_holder),
    )
    .context("cannot open the search index")?;
    // Maps the map saved by the last build when the catalog has not changed since; otherwise
    // builds it in the background: serving starts at once either way.
    let saved_map = view_files::views_dir(&config.index_dir).join(suggest::map::saved::FILE_NAME);
    let suggest = start_step("autocomplete map", || {
        SuggestService::start_saved(store.reads.clone(), config.suggest_refresh, Some(saved_map))
    });
    let jobs = JobQueue::new(usize::from(config.jobs.job_workers));
    let holds = HoldsChanged::default();
    let observers: Vec<Arc<dyn CommitObserver>> =
        vec![Arc::new(search.clone()), Arc::new(suggest.clone()), Arc::new(jobs.clone()), Arc::new(holds.clone())];
    let (writer, writer_thread) = start_step("start the writer", || {
        writer::spawn(store.write_conn, observers, config.writer_batch, jobs.job_handoff())
    })
    .context("cannot start the writer")?;
    let writer = writer.with_clock(options.clock.clone());
    Ok((
        AppState {
            reads: store.reads,
            writer,
            search,
            suggest,
            jobs,
            replica: None,
            login_throttle: LoginThrottle::default(),
            access: AccessControl::new(None, None),
            password_change_throttle: LoginThrottle::default(),
            password_checks: PasswordChecks::default(),
            analytics: SearchAnalytics::disabled(),
        },
        writer_thread,
        holds,
    ))
}

/// Expires the reservations due at `now` in one transaction that logs its commit, as the
/// writer would (the writer has not started yet); returns how many expired.
fn expire_reservations(conn: &mut rusqlite::Connection, now: Timestamp) -> anyhow::Result<usize> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let written = crate::db::store::reservations::expire_due(&tx, now)?;
    if written.value > 0 {
        crate::db::outbox::commit_log::append(&tx, &written.effects, now)?;
    }
    tx.commit()?;
    Ok(written.value)
}

/// The gate's state for `serve` on `addr`: open mode is refused beyond loopback unless
/// allowed, and said in the log; the keys are loaded before the first request.
async fn start_access(
    options: &AccessOptions,
    addr: SocketAddr,
    reads: &db::ReadPool,
) -> anyhow::Result<AccessControl> {
    let master = options.master_key()?;
    options.check_open_mode(master.is_some(), addr)?;
    if master.is_none() {
        tracing::warn!(
            %addr,
            "open mode: no master key is set, so orders, stores and search answer anyone who can reach this port \
             (set --master-key-file or AFORRO_MASTER_KEY to require API keys; docs/security.md)"
        );
    }
    let access = AccessControl::new(master, options.anonymous_per_second());
    access.reload(reads).await.context("cannot load the API keys")?;
    Ok(access)
}

/// Logs a start step measured across awaits (see [`start_step`]).
fn log_step(step: &'static str, started: Instant) {
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(step, elapsed_ms = format!("{elapsed_ms:.1}"), "start step");
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received: finishing in-flight requests");
}
