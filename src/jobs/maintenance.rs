//! Periodic maintenance on a `tokio-cron-scheduler` schedule: re-queue jobs whose lease
//! expired, sweep expired reservations, purge `done` jobs and idempotency keys older than the
//! retention window and stock movements older than theirs,
//! checkpoint and optimize the database, and hand freed heap memory back to the operating
//! system. Each run is logged.
//!
//! The scheduler's callbacks only send a [`Task`] to one task of ours that holds the writer
//! handle, so stopping that task is enough to release the handle at shutdown (the scheduler
//! keeps its callbacks alive in tasks of its own).

use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_cron_scheduler::{Job, JobScheduler};

use crate::db::admin::search_analytics::day_of;
use crate::db::writer::WriterHandle;
use crate::domain::Timestamp;
use crate::error::Result;

/// One kind of maintenance run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Puts back the jobs whose worker died holding their lease.
    RequeueExpiredLeases,
    /// Deletes done jobs and idempotency keys past their retention, the old commit log, and
    /// stock movements past theirs, and the search analytics' days beyond the 90 kept.
    Purge,
    /// `PRAGMA wal_checkpoint(TRUNCATE)`: keeps the WAL file from growing without bound.
    Checkpoint,
    /// The checkpoint when Litestream replicates the database (`serve --litestream`): PASSIVE,
    /// which never waits and never restarts the WAL. Litestream holds a read transaction on
    /// the WAL until it has copied every frame, and runs its own checkpoints; a TRUNCATE would
    /// wait on that reader (holding up the writer for the busy timeout) to reset the WAL it is
    /// reading. PASSIVE copies only what no reader still needs, so no frame is lost.
    CheckpointPassive,
    /// `PRAGMA optimize`: refreshes the query planner's statistics.
    Optimize,
    /// `malloc_trim`: returns the heap memory requests freed (see [`crate::memory`]).
    ReleaseFreedMemory,
    /// Stores `EXPIRED` for the reservations past their `expires_at` and queues
    /// `reservation.expired` for each: the sweep behind the expiry timer (`jobs::expiry`),
    /// which normally got there first.
    ExpireReservations,
}

/// When each task runs (cron with seconds first). Leases are 30 s, so a dead worker's jobs
/// wait at most ~45 s; the checkpoint keeps the WAL from growing between the writer's own
/// automatic checkpoints under steady load; `optimize` is what SQLite suggests every few hours.
/// Freed memory is returned every minute: between rebuilds, requests free and reallocate in
/// every arena, and without it RssAnon crept up by about 1 MiB a minute at 1M (a server of
/// `17d3cdb` under the mixed load, 2026-11-30; docs/reliability.md, "Why freed memory is
/// handed back").
/// Reservations are swept every 20 s: the contract stores a status and queues its event
/// within a minute of `expires_at`, whatever became of the timer.
const SCHEDULE: [(&str, Task); 6] = [
    ("*/15 * * * * *", Task::RequeueExpiredLeases),
    ("5/20 * * * * *", Task::ExpireReservations),
    ("0 7 * * * *", Task::Purge),
    ("0 */5 * * * *", Task::Checkpoint),
    ("0 37 */3 * * *", Task::Optimize),
    RELEASE_FREED_MEMORY,
];

/// Every minute, on a primary and on a replica alike.
const RELEASE_FREED_MEMORY: (&str, Task) = ("30 * * * * *", Task::ReleaseFreedMemory);

/// A read replica's schedule: it writes nothing (Litestream brings the database), so it only
/// returns freed memory, as often as a primary does. Its follower frees and reallocates as
/// requests do, and rebuilds its autocomplete map and orders like a primary.
const REPLICA_SCHEDULE: [(&str, Task); 1] = [RELEASE_FREED_MEMORY];

/// How long what maintenance purges is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Done jobs and idempotency keys (`--retention-hours`).
    pub jobs: Duration,
    /// Stock movements (`--movement-retention-days`).
    pub movements: Duration,
}

impl Retention {
    /// `jobs` for done jobs and idempotency keys, the default for movements.
    pub fn jobs(jobs: Duration) -> Self {
        Self { jobs, movements: crate::jobs::settings::DEFAULT_MOVEMENT_RETENTION }
    }
}

/// The running schedule. Stop it with [`Maintenance::stop`].
pub struct Maintenance {
    scheduler: JobScheduler,
    runner: JoinHandle<()>,
    stop: watch::Sender<bool>,
}

impl Maintenance {
    /// Starts the schedule; with `litestream`, the checkpoint is [`Task::CheckpointPassive`].
    pub async fn start(writer: WriterHandle, retention: Retention, litestream: bool) -> anyhow::Result<Self> {
        Self::start_schedule(&SCHEDULE, writer, retention, litestream).await
    }

    /// Starts a read replica's schedule (see `REPLICA_SCHEDULE`).
    pub async fn start_replica() -> anyhow::Result<Self> {
        Self::start_schedule(&REPLICA_SCHEDULE, WriterHandle::without_writer(), Retention::jobs(Duration::ZERO), false)
            .await
    }

    async fn start_schedule(
        schedule: &[(&'static str, Task)],
        writer: WriterHandle,
        retention: Retention,
        litestream: bool,
    ) -> anyhow::Result<Self> {
        let (tasks, receiver) = mpsc::channel(schedule.len());
        let scheduler = JobScheduler::new().await?;
        for &(cron, task) in schedule {
            let task = scheduled(task, litestream);
            let tasks = tasks.clone();
            scheduler
                .add(Job::new_async(cron, move |_, _| {
                    // A task still waiting from the last tick makes this one redundant.
                    let _ = tasks.try_send(task);
                    Box::pin(async {})
                })?)
                .await?;
        }
        scheduler.start().await?;
        let (stop, stopped) = watch::channel(false);
        let runner = tokio::spawn(run_tasks(writer, retention, receiver, stopped));
        Ok(Self { scheduler, runner, stop })
    }

    /// Stops the schedule and waits for a run in progress; the writer handle is dropped.
    pub async fn stop(mut self) {
        if let Err(error) = self.scheduler.shutdown().await {
            tracing::warn!(%error, "maintenance: the scheduler did not shut down cleanly");
        }
        let _ = self.stop.send(true);
        if let Err(error) = self.runner.await {
            tracing::error!(%error, "maintenance: the task runner failed");
        }
    }
}

async fn run_tasks(
    writer: WriterHandle,
    retention: Retention,
    mut tasks: mpsc::Receiver<Task>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            task = tasks.recv() => match task {
                Some(task) => run(&writer, task, retention).await,
                None => break,
            },
            _ = stop.changed() => break,
        }
    }
}

/// Runs one task now, logging what it did or why it failed.
async fn run(writer: &WriterHandle, task: Task, retention: Retention) {
    if let Err(error) = run_task(writer, task, retention).await {
        tracing::error!(?task, %error, "maintenance failed");
    }
}

/// The task that runs in `task`'s slot: beside Litestream, the checkpoint is the passive one.
fn scheduled(task: Task, litestream: bool) -> Task {
    match task {
        Task::Checkpoint if litestream => Task::CheckpointPassive,
        other => other,
    }
}

/// How long `commit_log` rows are kept: a read replica further behind than this cannot catch
/// up incrementally and says so in `readyz` (docs/scaling.md).
const COMMIT_LOG_MICROS: i64 = 3_600 * 1_000_000;

/// Days of search analytics kept: today and the 89 before (contract, "Search administration").
const SEARCH_ANALYTICS_DAYS: i64 = 90;

/// The moment `retention` ago.
fn before_now(retention: Duration) -> Timestamp {
    let retention_micros = i64::try_from(retention.as_micros()).unwrap_or(i64::MAX);
    Timestamp::from_micros(Timestamp::now().micros.saturating_sub(retention_micros))
}

/// Runs one task now, logging what it did; the error is the caller's to log.
pub async fn run_task(writer: &WriterHandle, task: Task, retention: Retention) -> Result<()> {
    match task {
        Task::RequeueExpiredLeases => {
            let requeued = writer.requeue_expired_leases().await?;
            // Every 15 s: only a run that found something is worth an info line.
            if requeued > 0 {
                tracing::info!(requeued, "maintenance: re-queued jobs whose lease expired");
            } else {
                tracing::debug!("maintenance: no expired leases");
            }
        }
        Task::Purge => {
            let cutoff = before_now(retention.jobs);
            let (jobs, keys) = writer.purge_before(cutoff).await?;
            let log_cutoff = Timestamp::from_micros(Timestamp::now().micros.saturating_sub(COMMIT_LOG_MICROS));
            let commit_log = writer.purge_commit_log_before(log_cutoff).await?;
            // In batches, each its own write: orders queue behind one batch at a time.
            let movement_cutoff = before_now(retention.movements);
            let mut movements = 0;
            loop {
                let pruned = writer.prune_movements_before(movement_cutoff).await?;
                movements += pruned;
                if pruned < crate::db::store::movements::PRUNE_BATCH {
                    break;
                }
            }
            let first_kept_day = day_of(Timestamp::now()) - (SEARCH_ANALYTICS_DAYS - 1);
            let search_analytics = writer.prune_search_analytics(first_kept_day).await?;
            tracing::info!(
                jobs,
                idempotency_keys = keys,
                commit_log,
                movements,
                search_analytics,
                cutoff = %cutoff.to_rfc3339(),
                "maintenance: purged"
            );
        }
        Task::Checkpoint => {
            let (busy, wal_pages, checkpointed) = writer.checkpoint_wal().await?;
            // busy = 1: a reader still needed old pages; the WAL is truncated next time.
            tracing::info!(busy, wal_pages, checkpointed, "maintenance: WAL checkpoint (TRUNCATE)");
        }
        Task::CheckpointPassive => {
            let (busy, wal_pages, checkpointed) = writer.checkpoint_wal_passive().await?;
            tracing::info!(busy, wal_pages, checkpointed, "maintenance: WAL checkpoint (PASSIVE, Litestream)");
        }
        Task::Optimize => {
            writer.optimize().await?;
            tracing::info!("maintenance: PRAGMA optimize");
        }
        Task::ExpireReservations => {
            let expired = writer.expire_reservations().await?;
            if expired > 0 {
                tracing::info!(expired, "maintenance: expired reservations");
            }
        }
        Task::ReleaseFreedMemory => {
            // A walk through every arena: off the async workers.
            tokio::task::spawn_blocking(|| crate::memory::release_freed_memory("maintenance")).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beside_litestream_the_scheduled_checkpoint_never_truncates() {
        let tasks = |litestream| SCHEDULE.map(|(_, task)| scheduled(task, litestream));
        assert!(tasks(false).contains(&Task::Checkpoint));
        assert!(!tasks(true).contains(&Task::Checkpoint));
        assert!(tasks(true).contains(&Task::CheckpointPassive));
        assert_eq!(tasks(true).len(), tasks(false).len(), "every other task still runs");
    }

    #[tokio::test]
    async fn a_replica_schedules_only_what_runs_without_a_writer_and_still_returns_freed_memory() {
        let replica_tasks = REPLICA_SCHEDULE.map(|(_, task)| task);
        assert!(replica_tasks.contains(&Task::ReleaseFreedMemory));
        let writerless = WriterHandle::without_writer();
        for task in replica_tasks {
            run_task(&writerless, task, Retention::jobs(Duration::ZERO))
                .await
                .expect("a replica's task needs no writer");
        }
        // What a replica must not schedule would fail there.
        assert!(run_task(&writerless, Task::Checkpoint, Retention::jobs(Duration::ZERO)).await.is_err());
        let primary_trim = SCHEDULE.iter().find(|(_, task)| *task == Task::ReleaseFreedMemory);
        assert_eq!(primary_trim, REPLICA_SCHEDULE.first(), "as often as a primary");
        Maintenance::start_replica().await.expect("the replica's schedule starts").stop().await;
    }
}
