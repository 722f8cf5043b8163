//! The outbox's named writes: the workers' claims and outcomes, and the retention purges
//! (the stock ledger's too).
//! None changes what the derived views hold.

use std::time::Duration;

use crate::db::outbox::commit_log;
use crate::db::outbox::jobs::{self, JobOutcome};
use crate::db::records::{ClaimedJob, Written};
use crate::db::store::{idempotency, movements};
use crate::db::writer::WriterHandle;
use crate::domain::Timestamp;
use crate::error::Result;

impl WriterHandle {
    /// Claims up to `limit` due jobs (or jobs whose lease expired) for `lease`.
    pub async fn claim_due_jobs(&self, lease: Duration, limit: usize) -> Result<Vec<ClaimedJob>> {
        self.record_and_claim(Vec::new(), Timestamp::now(), lease, limit).await
    }

    /// Records every outcome of a claimed batch in one write.
    pub async fn record_job_outcomes(&self, outcomes: Vec<(ClaimedJob, JobOutcome)>, now: Timestamp) -> Result<()> {
        self.write(move |conn| Ok(Written::quietly(jobs::record_outcomes(conn, &outcomes, now)?))).await
    }

    /// Records the outcomes of a finished batch (attempts ended at `finished_at`) and claims up
    /// to `limit` due jobs for `lease`, in one write: a busy worker's bookkeeping then rides
    /// the writer's batches as one command per claimed batch instead of two. Both or neither:
    /// if the write fails, the finished jobs keep their lease and run again when it expires
    /// (delivery is at least once), exactly as after a failed record alone.
    pub async fn record_and_claim(
        &self,
        finished: Vec<(ClaimedJob, JobOutcome)>,
        finished_at: Timestamp,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<ClaimedJob>> {
        self.write(move |conn| {
            jobs::record_outcomes(conn, &finished, finished_at)?;
            Ok(Written::quietly(jobs::claim_due_jobs(conn, Timestamp::now(), lease, limit)?))
        })
        .await
    }

    /// Queues again every job whose lease expired; returns how many.
    pub async fn requeue_expired_leases(&self) -> Result<usize> {
        self.write(|conn| Ok(Written::quietly(jobs::requeue_expired_leases(conn, Timestamp::now(), false)?))).await
    }

    /// Forgets what the retention window no longer needs: `done` jobs and idempotency keys
    /// from before `cutoff`. Returns (jobs, keys) deleted.
    pub async fn purge_before(&self, cutoff: Timestamp) -> Result<(usize, usize)> {
        self.write(move |conn| {
            Ok(Written::quietly((jobs::purge_done_before(conn, cutoff)?, idempotency::purge_before(conn, cutoff)?)))
        })
        .await
    }

    /// Deletes a batch of the stock movements written before `cutoff` (see
    /// [`movements::prune_batch_before`]); returns how many.
    pub async fn prune_movements_before(&self, cutoff: Timestamp) -> Result<usize> {
        self.write(move |conn| Ok(Written::quietly(movements::prune_batch_before(conn, cutoff)?))).await
    }

    /// Deletes the `commit_log` rows committed before `cutoff`; returns how many.
    pub async fn purge_commit_log_before(&self, cutoff: Timestamp) -> Result<usize> {
        self.write(move |conn| Ok(Written::quietly(commit_log::purge_before(conn, cutoff)?))).await
    }
}
