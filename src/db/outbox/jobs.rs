//! The job queue table: rows written in the same transaction as the work they follow from
//! (every job is an event, see `events.rs`), claimed by the workers under a lease, and
//! finished, rescheduled or dead-lettered.
//!
//! Every function that changes a row runs on the writer (through a named write of
//! `db::writer::writes`); the queries are the whole state machine, documented in `migrations/0002_jobs.sql` and `docs/jobs.md`.

use std::time::Duration;

use rusqlite::{Connection, params};

use super::delivery_attempts::{self, DeliveryAttempt};
use super::notifications;
use crate::db::optional;
use crate::db::records::{ClaimedJob, Confirmation, EventKind};
use crate::domain::{OrderId, Timestamp};
use crate::error::Result;

/// Attempts a job gets before it is dead-lettered (`failed`).
pub const DEFAULT_MAX_ATTEMPTS: i64 = 8;

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for its `run_at`.
    Queued,
    /// Claimed by a worker that holds its lease.
    Running,
    /// Delivered.
    Done,
    /// Out of attempts (dead-lettered); `aforro jobs retry` queues it again.
    Failed,
}

impl JobState {
    /// Every state, for listing and parsing.
    pub const ALL: [JobState; 4] = [Self::Queued, Self::Running, Self::Done, Self::Failed];

    /// The name the `state` column stores.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    /// The state named `text` (as [`Self::as_str`] spells it), if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == text)
    }
}

/// The confirmation state of an order's newest `order.confirmed` job (`None` for an order
/// that queued none: a rejected one).
pub(crate) fn confirmation_for(conn: &Connection, order_id: OrderId) -> Result<Option<Confirmation>> {
    let mut stmt = conn.prepare_cached(
        "SELECT state, attempts, done_at FROM jobs WHERE order_id = ?1 AND kind = ?2 ORDER BY id DESC LIMIT 1",
    )?;
    optional(stmt.query_row(params![order_id, EventKind::OrderConfirmed.as_str()], |row| {
        let state: String = row.get(0)?;
        let status = match state.as_str() {
            "done" => "sent",
            "failed" => "failed",
            _ => "queued",
        };
        Ok(Confirmation {
            status: status.to_owned(),
            attempts: row.get(1)?,
            sent_at: row.get::<_, Option<i64>>(2)?.map(Timestamp::from_micros),
        })
    }))
}

const CLAIM_DUE_JOBS: &str =
    "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_expires_at = ?2, updated_at = ?1
  WHERE id IN (SELECT id FROM jobs WHERE state = 'queued' AND run_at <= ?1 ORDER BY run_at LIMIT ?3)
     OR id IN (SELECT id FROM jobs WHERE state = 'running' AND lease_expires_at <= ?1 LIMIT ?3)
 RETURNING id, kind, event_id, order_id, payload, created_at, attempts, max_attempts";

/// Claims up to `limit` jobs that are due, or whose lease expired (their worker died), in one
/// atomic `UPDATE … RETURNING`: no two workers can hold the same lease.
pub fn claim_due_jobs(conn: &Connection, now: Timestamp, lease: Duration, limit: usize) -> Result<Vec<ClaimedJob>> {
    let mut stmt = conn.prepare_cached(CLAIM_DUE_JOBS)?;
    let lease_end = now.micros.saturating_add(micros(lease));
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let mut jobs = stmt
        .query_map(params![now.micros, lease_end, limit], |row| {
            Ok(ClaimedJob {
                id: row.get(0)?,
                kind: row.get(1)?,
                event_id: row.get(2)?,
                order_id: row.get(3)?,
                payload: row.get(4)?,
                created_at: Timestamp::from_micros(row.get(5)?),
                attempt: row.get(6)?,
                max_attempts: row.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    jobs.sort_by_key(|job| job.id);
    Ok(jobs)
}

/// The job succeeded: `done`, whoever holds its lease now (the work is delivered either way).
pub fn mark_done(conn: &Connection, job_id: i64, now: Timestamp) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE jobs SET state = 'done', done_at = ?2, updated_at = ?2, lease_expires_at = NULL, last_error = NULL
          WHERE id = ?1 AND state <> 'done'",
    )?;
    stmt.execute(params![job_id, now.micros])?;
    Ok(())
}

/// The attempt failed: back to `queued` at `retry_at`, or `failed` (dead letter) when there
/// is none. Only while this claim still holds the lease; returns whether it did.
pub fn record_failure(
    conn: &Connection,
    job: &ClaimedJob,
    error: &str,
    retry_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "UPDATE jobs SET state = CASE WHEN ?3 IS NULL THEN 'failed' ELSE 'queued' END,
                         run_at = COALESCE(?3, run_at), lease_expires_at = NULL, last_error = ?4, updated_at = ?5
          WHERE id = ?1 AND attempts = ?2 AND state = 'running'",
    )?;
    let changed = stmt.execute(params![job.id, job.attempt, retry_at.map(|at| at.micros), error, now.micros])?;
    Ok(changed == 1)
}

/// Gives back a claimed job that was never attempted (shutdown came first): queued again,
/// due now, and the claim does not count as an attempt.
pub fn release(conn: &Connection, job: &ClaimedJob, now: Timestamp) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE jobs SET state = 'queued', attempts = attempts - 1, lease_expires_at = NULL, updated_at = ?3
          WHERE id = ?1 AND attempts = ?2 AND state = 'running'",
    )?;
    stmt.execute(params![job.id, job.attempt, now.micros])?;
    Ok(())
}

/// Queues again every job whose lease expired. With `everything`, every running job: at
/// start-up, when the data-folder lock proves no worker of another process holds one.
pub fn requeue_expired_leases(conn: &Connection, now: Timestamp, everything: bool) -> Result<usize> {
    let mut stmt = conn.prepare_cached(
        "UPDATE jobs SET state = 'queued', lease_expires_at = NULL, updated_at = ?1
          WHERE state = 'running' AND (?2 OR lease_expires_at <= ?1)",
    )?;
    Ok(stmt.execute(params![now.micros, everything])?)
}

/// The purge reads only `done` rows by age, through the partial index `jobs_done_updated`.
/// Named, because without statistics SQLite prefers `jobs_state_newest`'s `state = 'done'`,
/// which walks every finished job to delete the old ones.
const PURGE_DONE_BEFORE: &str =
    "DELETE FROM jobs INDEXED BY jobs_done_updated WHERE state = 'done' AND updated_at < ?1";

/// Deletes `done` jobs finished before `cutoff`; failed ones stay for inspection.
pub fn purge_done_before(conn: &Connection, cutoff: Timestamp) -> Result<usize> {
    let mut stmt = conn.prepare_cached(PURGE_DONE_BEFORE)?;
    Ok(stmt.execute([cutoff.micros])?)
}

/// Job counts per state, each from the partial index that holds that state's rows (queued and
/// failed: `jobs_queued_failed`; running: `jobs_leased`; done: `jobs_done_updated`), so a
/// scrape reads no table rows. The `IN` term is what lets SQLite use the first one. States
/// with no job are left out, as a `GROUP BY` would.
const COUNT_BY_STATE: &str = "SELECT state, COUNT(*) FROM jobs WHERE state IN ('queued', 'failed') GROUP BY state
 UNION ALL SELECT 'running', COUNT(*) FROM jobs WHERE state = 'running'
 UNION ALL SELECT 'done', COUNT(*) FROM jobs WHERE state = 'done'";

/// Job counts per state (`/metrics`).
pub fn count_by_state(conn: &Connection) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare_cached(COUNT_BY_STATE)?;
    let rows = stmt.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))?;
    let counts: Vec<(String, i64)> = rows.collect::<rusqlite::Result<_>>()?;
    Ok(counts.into_iter().filter(|(_, count)| *count > 0).collect())
}

/// How one claimed job's attempt ended, as a worker records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// Delivered: record this body as sent on `channel` and mark the job done.
    Sent {
        /// Where it went (`log`, `webhook`).
        channel: &'static str,
        /// What was sent, kept in `notifications` as proof.
        body: String,
        /// The attempt to record in `delivery_attempts` (none for the `log` sender).
        attempt: Option<DeliveryAttempt>,
    },
    /// Someone delivered it before (its event's `notifications` row exists): just mark it done.
    AlreadySent,
    /// Failed: queued again at `retry_at`, or dead-lettered when there is none.
    Failed {
        /// Why, shown by `aforro jobs` and the jobs page.
        error: String,
        /// When to try again; `None` dead-letters it.
        retry_at: Option<Timestamp>,
        /// The attempt to record in `delivery_attempts` (none for the `log` sender).
        attempt: Option<DeliveryAttempt>,
    },
}

/// Records every outcome of a claimed batch, with its attempt: in the write that already
/// records the outcome, so an attempt costs the writer a row, not a command. An attempt is
/// recorded even when a later claim holds the job's lease now: it happened.
pub(crate) fn record_outcomes(conn: &Connection, outcomes: &[(ClaimedJob, JobOutcome)], now: Timestamp) -> Result<()> {
    for (job, outcome) in outcomes {
        let attempt = match outcome {
            JobOutcome::Sent { channel, body, attempt } => {
                notifications::record_sent(conn, job, channel, body, now)?;
                mark_done(conn, job.id, now)?;
                attempt
            }
            JobOutcome::AlreadySent => {
                mark_done(conn, job.id, now)?;
                &None
            }
            JobOutcome::Failed { error, retry_at, attempt } => {
                record_failure(conn, job, error, *retry_at, now)?;
                attempt
            }
        };
        if let Some(attempt) = attempt {
            delivery_attempts::record(conn, job.id, attempt)?;
        }
    }
    Ok(())
}

/// Puts a dead-lettered job back in the queue with a fresh set of attempts. Returns false
/// when no `failed` job has that id.
pub fn retry_failed(conn: &Connection, job_id: i64, now: Timestamp) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "UPDATE jobs SET state = 'queued', attempts = 0, run_at = ?2, updated_at = ?2 WHERE id = ?1 AND state = 'failed'",
    )?;
    Ok(stmt.execute(params![job_id, now.micros])? == 1)
}

/// One line of `aforro jobs`.
#[derive(Debug, Clone)]
pub struct JobRow {
    /// The job's row id (what `aforro jobs retry` takes).
    pub id: i64,
    /// The event's name.
    pub kind: String,
    /// `None` only for rows written before events had ids (and by hand).
    pub event_id: Option<String>,
    /// The order the event is about, for order events.
    pub order_id: Option<OrderId>,
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// Attempts allowed before it is dead-lettered.
    pub max_attempts: i64,
    /// When it runs next (or last ran).
    pub run_at: Timestamp,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// Jobs, newest first: all of them, or those in one state, walking the table by id. Running and
/// done jobs are the newest rows, so a page of them is found at once.
const ADMIN_JOBS_PAGE: &str = "SELECT id, kind, order_id, state, attempts, max_attempts, run_at, last_error, event_id
   FROM jobs WHERE ?1 IS NULL OR state = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3";
const ADMIN_JOBS_COUNT: &str = "SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE ?1 IS NULL OR state = ?1 LIMIT ?2)";
/// Queued or failed jobs: few among many and possibly old, so through their partial index
/// `jobs_queued_failed` (the `IN` term is what lets SQLite use it), not the table.
pub(crate) const ADMIN_JOBS_PAGE_QUEUED_OR_FAILED: &str =
    "SELECT id, kind, order_id, state, attempts, max_attempts, run_at, last_error, event_id
   FROM jobs WHERE state IN ('queued', 'failed') AND state = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3";
pub(crate) const ADMIN_JOBS_COUNT_QUEUED_OR_FAILED: &str =
    "SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE state IN ('queued', 'failed') AND state = ?1 LIMIT ?2)";

/// The statements for jobs in `state` (any state when `None`), newest first: (count, page).
/// Queued and failed jobs walk their partial index, the others the table by id. The page
/// statement binds the state, a limit and an offset.
pub(crate) fn jobs_sql(state: Option<&str>) -> (&'static str, &'static str) {
    match state {
        Some("queued" | "failed") => (ADMIN_JOBS_COUNT_QUEUED_OR_FAILED, ADMIN_JOBS_PAGE_QUEUED_OR_FAILED),
        _ => (ADMIN_JOBS_COUNT, ADMIN_JOBS_PAGE),
    }
}

/// Jobs, newest first, optionally only those in one state: the admin job list's first page
/// (so `--state failed` walks the failed jobs' index, not the table).
pub fn list_jobs(conn: &Connection, state: Option<JobState>, limit: usize) -> Result<Vec<JobRow>> {
    let state = state.map(JobState::as_str);
    let (_, page_sql) = jobs_sql(state);
    let mut stmt = conn.prepare_cached(page_sql)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt.query_map(params![state, limit, 0], job_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// A [`JobRow`] from `id, kind, order_id, state, attempts, max_attempts, run_at, last_error`.
pub(crate) fn job_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<JobRow> {
    Ok(JobRow {
        id: row.get(0)?,
        kind: row.get(1)?,
        order_id: row.get(2)?,
        state: row.get(3)?,
        attempts: row.get(4)?,
        max_attempts: row.get(5)?,
        run_at: Timestamp::from_micros(row.get(6)?),
        last_error: row.get(7)?,
        event_id: row.get(8)?,
    })
}

/// `duration` in microseconds, saturating (the unit of every timestamp column).
pub(crate) fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_job_list_answers_newest_first_in_the_state_asked_for() {
        let mut conn = rusqlite::Connection::open_in_memory().expect("in-memory db");
        crate::db::migrate::migrate(&mut conn).expect("migrate");
        let states = ["failed", "done", "queued", "failed", "running", "done", "failed"];
        for (id, state) in (1..).zip(states) {
            conn.execute(
                "INSERT INTO jobs (id, kind, state, run_at, created_at, updated_at, event_id)
                 VALUES (?1, 'order.confirmed', ?2, 0, 0, 0, ?1)",
                params![id, state],
            )
            .expect("job");
        }
        let listed = |state: Option<JobState>, limit: usize| -> Vec<(i64, String)> {
            let rows = list_jobs(&conn, state, limit).expect("list");
            rows.into_iter().map(|row| (row.id, row.state)).collect()
        };
        let ids = |rows: Vec<(i64, String)>| rows.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
        assert_eq!(ids(listed(Some(JobState::Failed), 10)), [7, 4, 1]);
        assert_eq!(ids(listed(Some(JobState::Failed), 2)), [7, 4]);
        assert_eq!(ids(listed(Some(JobState::Queued), 10)), [3]);
        assert_eq!(ids(listed(Some(JobState::Done), 10)), [6, 2]);
        assert_eq!(ids(listed(None, 3)), [7, 6, 5]);
    }

    #[test]
    fn the_claim_is_compiled_once_on_the_writer_s_connection_whatever_the_time() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut conn =
            crate::db::open_write_connection(&dir.path().join("db"), crate::db::Synchronous::Full).expect("open");
        crate::db::migrate::migrate(&mut conn).expect("migrate");
        for micros in [1_000, 2_000, 3_000] {
            claim_due_jobs(&conn, Timestamp::from_micros(micros), Duration::from_secs(30), 8).expect("claim");
        }
        let stmt = conn.prepare_cached(CLAIM_DUE_JOBS).expect("cached");
        assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0, "recompiled for a new timestamp");
    }

    #[test]
    fn counts_by_state_read_only_indexes_and_match_a_plain_group_by() {
        let mut conn = Connection::open_in_memory().expect("in-memory db");
        crate::db::migrate::migrate(&mut conn).expect("migrate");
        let plan = crate::db::query_plan(&conn, COUNT_BY_STATE);
        assert!(plan.iter().all(|step| !step.starts_with("SCAN jobs") || step.contains("INDEX")), "{plan:#?}");
        for (n, state) in ["queued", "done", "done", "failed", "running", "done", "queued"].iter().enumerate() {
            conn.execute(
                "INSERT INTO jobs (kind, payload, state, run_at, created_at, updated_at, lease_expires_at)
                 VALUES ('order.confirmed', '{}', ?1, ?2, ?2, ?2, CASE ?1 WHEN 'running' THEN ?2 END)",
                params![state, i64::try_from(n).expect("small")],
            )
            .expect("job");
        }
        let mut counted = count_by_state(&conn).expect("counts");
        counted.sort();
        let mut plain: Vec<(String, i64)> = conn
            .prepare("SELECT state, COUNT(*) FROM jobs NOT INDEXED GROUP BY state")
            .and_then(|mut stmt| stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?.collect())
            .expect("plain");
        plain.sort();
        assert_eq!(counted, plain);
    }

    #[test]
    fn the_purge_walks_only_the_done_jobs_index() {
        let mut conn = Connection::open_in_memory().expect("in-memory db");
        crate::db::migrate::migrate(&mut conn).expect("migrate");
        let plan = crate::db::query_plan(&conn, PURGE_DONE_BEFORE);
        assert!(
            plan.iter().any(|step| step.contains("INDEX jobs_done_updated (updated_at<?)")),
            "the purge should range-scan the partial index: {plan:?}"
        );
    }

    #[test]
    fn migrating_an_old_queue_maps_sent_to_done_and_keeps_the_rows() {
        let mut conn = Connection::open_in_memory().expect("in-memory db");
        conn.execute_batch(include_str!("../../../migrations/0001_init.sql")).expect("0001");
        conn.execute_batch(
            "CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT '');
             INSERT INTO schema_migrations (name) VALUES ('0001_init');
             INSERT INTO stores (id, name) VALUES (1, 'S');
             INSERT INTO orders (id, store_id, status, created_at) VALUES (1, 1, 'CONFIRMED', 10), (2, 1, 'CONFIRMED', 20);
             INSERT INTO jobs (kind, order_id, status, attempts, run_after, sent_at, created_at)
               VALUES ('order_confirmation', 1, 'sent', 1, 10, 15, 10), ('order_confirmation', 2, 'queued', 0, 20, NULL, 20);",
        )
        .expect("old rows");
        crate::db::migrate::migrate(&mut conn).expect("0002");
        let sent = confirmation_for(&conn, OrderId(1)).expect("read").expect("job");
        assert_eq!((sent.status.as_str(), sent.sent_at), ("sent", Some(Timestamp::from_micros(15))));
        let queued = confirmation_for(&conn, OrderId(2)).expect("read").expect("job");
        assert_eq!(queued.status, "queued");
    }
}
