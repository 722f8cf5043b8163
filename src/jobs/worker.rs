//! One worker's step: claim a batch of due jobs through the writer, deliver them, and record
//! each outcome (done, retry with backoff, dead letter) with its delivery attempt.
//!
//! [`Worker::try_execute_task`] is that step on its own (claim, deliver, record: two writes),
//! returning an [`ExecutionOutcome`], so tests drain the queue deterministically.
//! [`Worker::run`] repeats it pipelined, sleeping on the enqueue `Notify` when nothing is due:
//! each step's one write records the previous batch and claims the next, so under load a
//! worker costs the writer one command per batch.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::sender::{Answer, ConfirmationSender, SendError};
use super::settings::WorkerSettings;
use crate::db::ReadPool;
use crate::db::delivery_attempts::DeliveryAttempt;
use crate::db::events::{self, Event};
use crate::db::job_handoff::JobHandoff;
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

/// What a job's attempt came to, with its record when the sender's attempts are recorded.
enum Attempt {
    /// Delivered: record it (this body, on this channel) and mark the job done.
    Sent { body: String, record: Option<DeliveryAttempt> },
    /// Someone delivered it before (its event's `notifications` row exists): just mark it done.
    AlreadySent,
    /// Failed: sent and refused, or never sent (its event could not be read: no record yet).
    Failed { error: String, record: Option<DeliveryAttempt> },
}

impl Attempt {
    /// A failure before anything was sent.
    fn failed(error: impl Into<String>) -> Self {
        Self::Failed { error: error.into(), record: None }
    }
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

    /// Has the writer's orders lease their jobs to these workers (see `db::job_handoff`).
    pub(super) fn open_job_handoff(&self) {
        self.writer.job_handoff().open(self.settings.lease);
    }

    /// The handoff the writer's orders put their jobs in.
    pub(super) fn job_handoff(&self) -> Arc<JobHandoff> {
        Arc::clone(self.writer.job_handoff())
    }

    /// Claims up to one batch of due jobs, delivers them concurrently, records the outcomes.
    pub async fn try_execute_task(&self) -> Result<ExecutionOutcome> {
        let (lease, limit) = (self.settings.lease, self.settings.claim_batch);
        let claimed = self.with_handed_over(self.writer.claim_due_jobs(lease, limit).await?);
        if claimed.is_empty() {
            return Ok(ExecutionOutcome::EmptyQueue);
        }
        let (outcomes, at, summary) = self.deliver(claimed).await?.split();
        self.writer.record_job_outcomes(outcomes, at).await?;
        Ok(ExecutionOutcome::TasksCompleted(summary.recorded()))
    }

    /// The loop's step: records the previous step's outcomes and claims the next batch in one
    /// write (see [`WriterHandle::record_and_claim`]), then delivers that batch. Returns its
    /// outcomes, still to be recorded, or `None` when nothing was due.
    async fn pipelined_step(&self, previous: Option<Finished>) -> Result<Option<Finished>> {
        let (lease, limit) = (self.settings.lease, self.settings.claim_batch);
        let (outcomes, at, summary) = previous.map_or_else(
            || (Vec::new(), Timestamp::now(), None),
            |done| {
                let (outcomes, at, summary) = done.split();
                (outcomes, at, Some(summary))
            },
        );
        let claimed = self.with_handed_over(self.writer.record_and_claim(outcomes, at, lease, limit).await?);
        if let Some(summary) = summary {
            summary.recorded();
        }
        if claimed.is_empty() {
            return Ok(None);
        }
        self.deliver(claimed).await.map(Some)
    }

    /// `claimed` topped up to a claim batch with jobs handed over (already leased to us, each
    /// with its event).
    fn with_handed_over(&self, claimed: Vec<ClaimedJob>) -> Batch {
        let room = self.settings.claim_batch.saturating_sub(claimed.len());
        let mut batch: Batch = claimed.into_iter().map(|job| (job, None)).collect();
        if room > 0 {
            let handed = self.writer.job_handoff().take(room, Timestamp::now());
            batch.extend(handed.into_iter().map(|(job, event)| (job, Some(event))));
        }
        batch
    }

    /// Delivers every claimed job at once (a slow webhook costs the batch one timeout, not
    /// one per job, and the lease covers them all) and says how each attempt ended.
    async fn deliver(&self, claimed: Batch) -> Result<Finished> {
        let attempts = self.attempt_all(&claimed).await?;
        let channel = self.sender.channel();
        let at = Timestamp::now();
        let outcomes = claimed
            .into_iter()
            .zip(attempts)
            .map(|((job, _), attempt)| {
                let outcome = match attempt {
                    Attempt::Sent { body, record } => JobOutcome::Sent { channel, body, attempt: record },
                    Attempt::AlreadySent => JobOutcome::AlreadySent,
                    Attempt::Failed { error, record } => {
                        // A failure before the send used up an attempt too: it is shown with
                        // the others (no status, no time spent).
                        let attempt = record.or_else(|| {
                            self.sender.records_attempts().then(|| DeliveryAttempt {
                                attempt: job.attempt,
                                started_at: at,
                                duration: Duration::ZERO,
                                http_status: None,
                                error: Some(error.clone()),
                                answer_excerpt: None,
                            })
                        });
                        JobOutcome::Failed { retry_at: retry_at(&self.settings, &job, at), error, attempt }
                    }
                };
                (job, outcome)
            })
            .collect();
        Ok(Finished { outcomes, at })
    }

    async fn attempt_all(&self, claimed: &[BatchJob]) -> Result<Vec<Attempt>> {
        let prepared = prepare(&self.reads, claimed).await?;
        let mut sends = JoinSet::new();
        let mut attempts: Vec<Option<Attempt>> = Vec::with_capacity(claimed.len());
        for (index, preparation) in prepared.into_iter().enumerate() {
            match preparation {
                Preparation::Send(event) => {
                    attempts.push(None);
                    let sender = Arc::clone(&self.sender);
                    let number = claimed[index].0.attempt;
                    sends.spawn(async move { (index, deliver(sender.as_ref(), &event, number).await) });
                }
                Preparation::Done(attempt) => attempts.push(Some(attempt)),
            }
        }
        while let Some(joined) = sends.join_next().await {
            let (index, attempt) = joined?;
            attempts[index] = Some(attempt);
        }
        Ok(attempts
            .into_iter()
            .map(|attempt| attempt.unwrap_or_else(|| Attempt::failed("the send vanished")))
            .collect())
    }

    /// Steps until `stop` turns true, sleeping between empty steps until an enqueue wakes it
    /// (or the fallback poll). A batch in progress always finishes its step first, and its
    /// outcomes are recorded before the loop ends. Each batch's outcomes are recorded by the
    /// next step's claim (one write for both); when that claim finds nothing due, the record
    /// has still been written before the worker sleeps.
    pub async fn run(self, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
        let mut unrecorded: Option<Finished> = None;
        loop {
            // Registered before the claim, so an enqueue committed during the claim still wakes us.
            let notified = wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if *stop.borrow() {
                break;
            }
            match self.pipelined_step(unrecorded.take()).await {
                Ok(Some(finished)) => {
                    unrecorded = Some(finished);
                    continue;
                }
                Ok(None) => {}
                // The writer logs a storage fault once per episode; every poll would repeat it.
                // The outcomes that write carried are lost with it: their jobs keep the lease
                // and run again once it expires (at least once), as after any failed record.
                Err(Error::Storage(fault)) => tracing::debug!(%fault, "job worker: storage fault; retrying"),
                Err(error) => tracing::error!(%error, "job worker: a step failed; retrying after the poll interval"),
            }
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(self.settings.poll_interval) => {}
                _ = stop.changed() => {}
            }
        }
        if let Some(finished) = unrecorded {
            let (outcomes, at, summary) = finished.split();
            match self.writer.record_job_outcomes(outcomes, at).await {
                Ok(()) => drop(summary.recorded()),
                Err(error) => tracing::warn!(%error, "job worker: the last batch could not be recorded; it runs again"),
            }
        }
    }
}

/// A delivered batch: each claimed job with how its attempt ended, all ended by `at`.
struct Finished {
    outcomes: Vec<(ClaimedJob, JobOutcome)>,
    at: Timestamp,
}

impl Finished {
    /// The outcomes to record, when they ended, and what to report once they are recorded
    /// (the failures copied out: they are few, the delivered bodies are not).
    fn split(self) -> (Vec<(ClaimedJob, JobOutcome)>, Timestamp, Summary) {
        let mut summary = Summary::default();
        for (job, outcome) in &self.outcomes {
            match outcome {
                JobOutcome::Sent { .. } | JobOutcome::AlreadySent => summary.report.done += 1,
                JobOutcome::Failed { error, retry_at, .. } => {
                    match retry_at {
                        Some(_) => summary.report.retried += 1,
                        None => summary.report.failed += 1,
                    }
                    summary.failures.push((job.clone(), error.clone(), *retry_at));
                }
            }
        }
        (self.outcomes, self.at, summary)
    }
}

/// What a batch came to, reported once its outcomes are committed.
#[derive(Default)]
struct Summary {
    report: BatchReport,
    failures: Vec<(ClaimedJob, String, Option<Timestamp>)>,
}

impl Summary {
    /// Logs each failure (only now: "will retry" is true once recorded) and returns the counts.
    fn recorded(self) -> BatchReport {
        for (job, error, retry_at) in &self.failures {
            log_failure(job, error, *retry_at);
        }
        self.report
    }
}

/// A step's job: claimed from the table (its event still to read) or taken from the handoff
/// with its event.
type BatchJob = (ClaimedJob, Option<Arc<Event>>);
/// A step's jobs.
type Batch = Vec<BatchJob>;

/// What a claimed job needs before it can be sent.
enum Preparation {
    Send(Arc<Event>),
    Done(Attempt),
}

/// Each job's event: a handed job's came with it; the others' are read in one blocking call
/// per batch (none when every job was handed over, as under an orders load). A handed job
/// is not looked up in `notifications`: it runs its first attempt under a lease nobody else
/// has held, so it cannot have been delivered.
async fn prepare(reads: &ReadPool, batch: &[BatchJob]) -> Result<Vec<Preparation>> {
    let unread: Vec<ClaimedJob> =
        batch.iter().filter(|(_, event)| event.is_none()).map(|(job, _)| job.clone()).collect();
    let read = if unread.is_empty() {
        Vec::new()
    } else {
        reads.run(move |conn| unread.iter().map(|job| read_preparation(conn, job)).collect::<Result<Vec<_>>>()).await?
    };
    let mut read = read.into_iter();
    Ok(batch
        .iter()
        .map(|(_, event)| match event {
            Some(event) => Preparation::Send(Arc::clone(event)),
            None => read.next().unwrap_or_else(|| Preparation::Done(Attempt::failed("the read vanished"))),
        })
        .collect())
}

fn read_preparation(conn: &rusqlite::Connection, job: &ClaimedJob) -> Result<Preparation> {
    if notifications::already_sent(conn, &job.event_id)? {
        return Ok(Preparation::Done(Attempt::AlreadySent));
    }
    Ok(match events::load_event(conn, job)? {
        Ok(event) => Preparation::Send(Arc::new(event)),
        Err(reason) => Preparation::Done(Attempt::failed(reason)),
    })
}

/// Sends `event` as attempt `number`, timed, with its record if the sender's are kept.
async fn deliver(sender: &dyn ConfirmationSender, event: &Event, number: i64) -> Attempt {
    let body = match serde_json::to_string(event) {
        Ok(body) => body,
        Err(error) => return Attempt::failed(error.to_string()),
    };
    let (started_at, clock) = (Timestamp::now(), Instant::now());
    let sent = sender.send(event, &body).await;
    let record = |answer: Answer, error: Option<&str>| {
        sender.records_attempts().then(|| DeliveryAttempt {
            attempt: number,
            started_at,
            duration: clock.elapsed(),
            http_status: answer.status,
            error: error.map(str::to_owned),
            answer_excerpt: answer.excerpt,
        })
    };
    match sent {
        Ok(answer) => Attempt::Sent { record: record(answer, None), body },
        Err(SendError { reason, answer }) => Attempt::Failed { record: record(answer, Some(&reason)), error: reason },
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
