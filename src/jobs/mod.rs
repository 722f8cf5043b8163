//! Events (order confirmations and cancellations, stock crossing zero): a crash-safe job queue
//! in the same SQLite file, drained by tokio workers inside the binary. Design and operations
//! in `docs/jobs.md`.
//!
//! - [`settings`]: the flags (`--job-workers`, the sender, retention) and the workers' tuning.
//! - [`worker`]: one step (`try_execute_task` → [`ExecutionOutcome`]) and the loop around it.
//! - [`sender`], [`webhook`], [`signing`]: how an event goes out (`log`, or a `webhook`
//!   signed as Standard Webhooks says).
//! - [`maintenance`]: the cron schedule (expired leases, expired reservations, purge,
//!   checkpoint, optimize).
//! - [`expiry`]: the timer that expires reservations at their `expires_at`.
//! - [`handoff`]: the jobs an order leases straight to these workers as it queues them.
//! - This file: the [`JobQueue`] handle (wake-up on enqueue, worker health), the
//!   [`WorkerPool`] that starts and stops the workers, and [`sender_from_config`].
//!
//! The rows live in `db::outbox::jobs`; `db::outbox::events` inserts each in its cause's own
//! transaction.

pub mod expiry;
pub mod handoff;
pub mod maintenance;
pub mod sender;
pub mod settings;
pub mod signing;
pub mod webhook;
pub mod worker;

pub use settings::{JobsConfig, SenderKind, WorkerSettings};
pub use worker::{BatchReport, ExecutionOutcome, Worker};

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::db::records::{CommitEffects, CommitObserver, HandoffLink, JobHandoff};
use handoff::Handoff;
use sender::{ConfirmationSender, LogSender};
use webhook::WebhookSender;

/// The sender `config` asks for (here, above both senders, so neither names the other).
///
/// Refuses a malformed webhook secret whichever the sender, so a bad one is found at start,
/// not when the sender is switched.
pub fn sender_from_config(config: &JobsConfig) -> anyhow::Result<Arc<dyn ConfirmationSender>> {
    let keys = config.webhook_keys()?;
    Ok(match config.confirmation_sender {
        SenderKind::Log => Arc::new(LogSender),
        SenderKind::Webhook => {
            let url = config.webhook_url.as_deref().context("--confirmation-sender webhook needs --webhook-url")?;
            let keys = keys.context(
                "--confirmation-sender webhook needs --webhook-secret or --webhook-secret-file \
                 (make one with `echo \"whsec_$(openssl rand -base64 32)\"`)",
            )?;
            let timeout = std::time::Duration::from_secs(config.webhook_timeout_secs);
            Arc::new(WebhookSender::new(url, keys, timeout)?)
        }
    })
}

/// How long running jobs may take to finish once shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The queue as the rest of the app sees it: wakes the workers, reports their health.
/// Cloning is shallow.
#[derive(Clone)]
pub struct JobQueue {
    shared: Arc<Shared>,
}

struct Shared {
    /// Notified after every commit that queued jobs, so idle workers claim them at once.
    wake: Arc<Notify>,
    /// Jobs an order leased to the workers as it queued them (`handoff`): handed over
    /// here after the commit, taken by the workers without a claim.
    handoff: Arc<Handoff>,
    /// Workers configured to run.
    configured: usize,
    /// Workers whose loop is running now (a panicked or stopped one is not counted).
    running: AtomicUsize,
}

impl JobQueue {
    /// The queue of `configured_workers` workers (none running until they start).
    pub fn new(configured_workers: usize) -> Self {
        let shared = Shared {
            wake: Arc::new(Notify::new()),
            handoff: Arc::default(),
            configured: configured_workers,
            running: AtomicUsize::new(0),
        };
        Self { shared: Arc::new(shared) }
    }

    /// Where this queue puts the jobs handed over: give it to the writer (`writer::spawn`).
    pub fn job_handoff(&self) -> HandoffLink {
        HandoffLink::from(Arc::clone(&self.shared.handoff))
    }

    /// Whether every configured worker is running (readiness).
    pub fn workers_running(&self) -> bool {
        self.shared.running.load(Ordering::Acquire) >= self.shared.configured
    }

    /// (running, configured) workers, for the readiness message.
    pub fn worker_counts(&self) -> (usize, usize) {
        (self.shared.running.load(Ordering::Acquire), self.shared.configured)
    }
}

impl CommitObserver for JobQueue {
    fn committed(&self, effects: &CommitEffects) {
        if !effects.handed_jobs.is_empty() {
            self.shared.handoff.hand_over(&effects.handed_jobs);
        }
        if effects.enqueued_jobs > 0 || !effects.handed_jobs.is_empty() {
            self.shared.wake.notify_waiters();
        }
    }
}

/// The running workers. Dropping it does not stop them: call [`WorkerPool::shutdown`].
pub struct WorkerPool {
    workers: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
    /// Closed first at shutdown: jobs queued from then on wait in the table.
    handoff: Arc<dyn JobHandoff>,
}

impl WorkerPool {
    /// Starts `queue`'s configured number of workers, each running `worker`'s loop, and has
    /// orders hand their jobs straight to them (through `worker`'s writer) while they run.
    pub fn start(queue: &JobQueue, worker: &Worker) -> Self {
        if queue.shared.configured > 0 {
            worker.open_job_handoff();
        }
        let (stop, stopped) = watch::channel(false);
        let workers = (0..queue.shared.configured)
            .map(|_| {
                let running = RunningGuard::enter(Arc::clone(&queue.shared));
                let (worker, wake, stopped) = (worker.clone(), Arc::clone(&queue.shared.wake), stopped.clone());
                tokio::spawn(async move {
                    let _running = running;
                    worker.run(wake, stopped).await;
                })
            })
            .collect();
        Self { workers, stop, handoff: worker.job_handoff() }
    }

    /// Stops claiming, lets each worker finish the batch it is delivering for up to `grace`,
    /// then abandons the rest: their jobs keep a lease and run again after the next start.
    /// Either way the workers' writer handles are dropped when this returns.
    pub async fn shutdown(self, grace: Duration) {
        self.handoff.close();
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        for mut worker in self.workers {
            if tokio::time::timeout_at(deadline, &mut worker).await.is_err() {
                tracing::warn!("job worker still busy at the shutdown deadline; its jobs run again after restart");
                worker.abort();
            }
        }
        tracing::info!("job workers stopped");
    }
}

/// Counts a worker as running for as long as its task lives, however it ends.
struct RunningGuard(Arc<Shared>);

impl RunningGuard {
    fn enter(shared: Arc<Shared>) -> Self {
        shared.running.fetch_add(1, Ordering::AcqRel);
        Self(shared)
    }
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::AcqRel);
    }
}
