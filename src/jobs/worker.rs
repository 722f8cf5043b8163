//! One worker's step: claim a batch of due jobs through the writer, deliver them, and record
//! each outcome (done, retry with backoff, dead letter) in one more write.
//!
//! [`Worker::try_execute_task`] is that step, returning an [`ExecutionOutcome`], so tests drain
//! the queue deterministically; [`Worker::run`] repeats it, sleeping on the enqueue `Notify`.

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::sender::{ConfirmationSender, SendError};
use super::settings::WorkerSettings;
use crate::db::ReadPool;
use crate::db::events::{self, Event};
use crate::db::jobs::{ClaimedJob, JobOutcome};
use crate::db::notifications;
use crate::db::writer::WriterHandle;
use crate::domain::Timestamp;
use crate::error::{Error, Result};

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutionOutcome {
    /// Nothing was due.
    EmptyQueue,
    /// A batch was claimed and every job in it finished one way or another.
    TasksCompleted(BatchReport),
}

/// How a claimed batch ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// Delivered now, or found already delivered (a re-run after an expired lease).
    pub done: usize,
    /// Failed and rescheduled.
    pub retried: usize,
    /// Failed for the last time: dead-lettered.
    pub failed: usize,
}

/// What a job's attempt came to.
enum Attempt {
    /// Delivered: record it (this body, on this channel) and mark the job done.
    Sent(String),
    /// Someone delivered it before (its event's `notifications` row exists): just mark it done.
    AlreadySent,
    Failed(String),
}

/// Drains the queue. Cloning is shallow.
#[derive(Clone)]
pub struct Worker {
    reads: ReadPool,
    writer: WriterHandle,
    sender: Arc<dyn ConfirmationSender>,
    settings: Arc<WorkerSettings>,
}

impl Worker {
    /// A worker that claims with `writer`, reads with `reads` and delivers through `sender`.
    pub fn new(
        reads: ReadPool,
        writer: WriterHandle,
        sender: Arc<dyn ConfirmationSender>,
        settings: WorkerSettings,
    ) -> Self {
        Self { reads, writer, sender, settings: Arc::new(settings) }
    }

    /// Claims up to one batch of due jobs, delivers them concurrently, records the outcomes.
    pub async fn try_execute_task(&self) -> Result<ExecutionOutcome> {
        let (lease, limit) = (self.settings.lease, self.settings.claim_batch);
        let claimed = self.writer.claim_due_jobs(lease, limit).await?;
        if claimed.is_empty() {
            return Ok(ExecutionOutcome::EmptyQueue);
        }
        let attempts = self.attempt_all(&claimed).await?;
        Ok(ExecutionOutcome::TasksCompleted(self.record(claimed, attempts).await?))
    }

    /// Delivers every claimed job at once: a slow webhook costs the batch one timeout, not one
    /// per job, and the lease covers them all.
    async fn attempt_all(&self, claimed: &[ClaimedJob]) -> Result<Vec<Attempt>> {
        let prepared = prepare(&self.reads, claimed.to_vec()).await?;
        let mut sends = JoinSet::new();
        let mut attempts: Vec<Option<Attempt>> = Vec::with_capacity(claimed.len());
        for (index, preparation) in prepared.into_iter().enumerate() {
            match preparation {
                Preparation::Send(event) => {
                    attempts.push(None);
                    let sender = Arc::clone(&self.sender);
                    sends.spawn(async move { (index, deliver(sender.as_ref(), &event).await) });
                }
                Preparation::Done(attempt) => attempts.push(Some(attempt)),
            }
        }
        while let Some(joined) = sends.join_next().await {
            let (index, attempt) = joined?;
            attempts[index] = Some(attempt);
        }
        Ok(attempts.into_iter().map(|attempt| attempt.unwrap_or(Attempt::Failed("the send vanished".into()))).collect())
    }

    /// Records every outcome of the batch in one write.
    async fn record(&self, claimed: Vec<ClaimedJob>, attempts: Vec<Attempt>) -> Result<BatchReport> {
        let channel = self.sender.channel();
        let now = Timestamp::now();
        let mut report = BatchReport::default();
        let mut failures = Vec::new();
        let outcomes: Vec<(ClaimedJob, JobOutcome)> = claimed
            .into_iter()
            .zip(attempts)
            .map(|(job, attempt)| {
                let outcome = match attempt {
                    Attempt::Sent(body) => JobOutcome::Sent { channel, body },
                    Attempt::AlreadySent => JobOutcome::AlreadySent,
                    Attempt::Failed(error) => {
                        let retry_at = retry_at(&self.settings, &job, now);
                        failures.push((job.clone(), error.clone(), retry_at));
                        JobOutcome::Failed { error, retry_at }
                    }
                };
                match &outcome {
                    JobOutcome::Sent { .. } | JobOutcome::AlreadySent => report.done += 1,
                    JobOutcome::Failed { retry_at: Some(_), .. } => report.retried += 1,
                    JobOutcome::Failed { retry_at: None, .. } => report.failed += 1,
                }
                (job, outcome)
            })
            .collect();
        self.writer.record_job_outcomes(outcomes, now).await?;
        for (job, error, retry_at) in &failures {
            log_failure(job, error, *retry_at);
        }
        Ok(report)
    }

    /// Steps until `stop` turns true, sleeping between empty steps until an enqueue wakes it
    /// (or the fallback poll). A batch in progress always finishes its step first.
    pub async fn run(self, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
        loop {
            // Registered before the claim, so an enqueue committed during the claim still wakes us.
            let notified = wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if *stop.borrow() {
                break;
            }
            match self.try_execute_task().await {
                Ok(ExecutionOutcome::TasksCompleted(_)) => continue,
                Ok(ExecutionOutcome::EmptyQueue) => {}
                // The writer logs a storage fault once per episode; every poll would repeat it.
                Err(Error::Storage(fault)) => tracing::debug!(%fault, "job worker: storage fault; retrying"),
                Err(error) => tracing::error!(%error, "job worker: a step failed; retrying after the poll interval"),
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(self.settings.poll_interval) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// What a claimed job needs before it can be sent, read in one blocking call per batch.
enum Preparation {
    Send(Event),
    Done(Attempt),
}

async fn prepare(reads: &ReadPool, claimed: Vec<ClaimedJob>) -> Result<Vec<Preparation>> {
    reads
        .run(move |conn| {
            claimed
                .iter()
                .map(|job| {
                    if notifications::already_sent(conn, &job.event_id)? {
                        return Ok(Preparation::Done(Attempt::AlreadySent));
                    }
                    Ok(match events::load_event(conn, job)? {
                        Ok(event) => Preparation::Send(event),
                        Err(reason) => Preparation::Done(Attempt::Failed(reason)),
                    })
                })
                .collect()
        })
        .await
}

async fn deliver(sender: &dyn ConfirmationSender, event: &Event) -> Attempt {
    let body = match serde_json::to_string(event) {
        Ok(body) => body,
        Err(error) => return Attempt::Failed(error.to_string()),
    };
    match sender.send(event, &body).await {
        Ok(()) => Attempt::Sent(body),
        Err(SendError(error)) => Attempt::Failed(error),
    }
}

/// When a failed job runs again, or `None` when its attempts are used up.
fn retry_at(settings: &WorkerSettings, job: &ClaimedJob, now: Timestamp) -> Option<Timestamp> {
    if job.attempt >= job.max_attempts {
        return None;
    }
    let delay = backoff_delay(settings, job.attempt, rand::rng().random_range(0.5..=1.0));
    let delay_micros = i64::try_from(delay.as_micros()).unwrap_or(i64::MAX);
    Some(Timestamp::from_micros(now.micros.saturating_add(delay_micros)))
}

/// `base × 2^(attempt−1)`, capped, times `jitter` (0.5–1.0, so retries of jobs that failed
/// together spread out instead of hitting a recovering endpoint at the same instant).
pub fn backoff_delay(settings: &WorkerSettings, attempt: i64, jitter: f64) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
    let exponential = settings.backoff_base.saturating_mul(2u32.saturating_pow(doublings));
    exponential.min(settings.backoff_cap).mul_f64(jitter.clamp(0.0, 1.0))
}

fn log_failure(job: &ClaimedJob, error: &str, retry_at: Option<Timestamp>) {
    match retry_at {
        Some(at) => tracing::warn!(job_id = job.id, attempt = job.attempt, %error, retry_at = %at.to_rfc3339(),
            "job failed; will retry"),
        None => tracing::error!(job_id = job.id, attempt = job.attempt, %error,
            "job failed for the last time; dead-lettered (see `aforro jobs --state failed`)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_per_attempt_until_the_cap() {
        let settings = WorkerSettings {
            backoff_base: Duration::from_secs(2),
            backoff_cap: Duration::from_secs(60),
            ..WorkerSettings::default()
        };
        let delays: Vec<u64> = (1..=7).map(|attempt| backoff_delay(&settings, attempt, 1.0).as_secs()).collect();
        assert_eq!(delays, [2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn jitter_shortens_the_delay_by_at_most_half() {
        let settings = WorkerSettings { backoff_base: Duration::from_secs(4), ..WorkerSettings::default() };
        assert_eq!(backoff_delay(&settings, 1, 0.5), Duration::from_secs(2));
    }
}
