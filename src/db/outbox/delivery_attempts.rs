//! The delivery attempts table (migration `0014_delivery_attempts`): one row per attempt to
//! deliver an event to a receiver, with its time, duration, HTTP status or error and the start
//! of the answer. Written by the workers with their jobs' outcomes (`jobs::record_outcomes`,
//! on the writer); read by `aforro jobs show` and the admin job page.
//!
//! Stands on its own (no other table's types): the jobs table's writes call it.

use std::time::Duration;

use rusqlite::{Connection, params};

use crate::domain::Timestamp;
use crate::error::Result;

/// How much of an answer's body an attempt keeps: enough for a receiver's error message,
/// bounded however much it sends.
pub const ANSWER_EXCERPT_BYTES: usize = 1024;

/// One attempt, as recorded and as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// The job's attempt number at the time (1 for the first).
    pub attempt: i64,
    /// When the attempt began.
    pub started_at: Timestamp,
    /// How long it took, until the answer's status and first KiB were in.
    pub duration: Duration,
    /// The receiver's HTTP status, when an answer came.
    pub http_status: Option<u16>,
    /// Why it failed; `None` when it delivered.
    pub error: Option<String>,
    /// The first [`ANSWER_EXCERPT_BYTES`] of the answer's body, when an answer came.
    pub answer_excerpt: Option<String>,
}

/// Records `attempt` of job `job_id`. On the writer, inside the outcome's own write.
pub fn record(conn: &Connection, job_id: i64, attempt: &DeliveryAttempt) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO delivery_attempts (job_id, attempt, started_at, duration_micros, http_status, error, answer_excerpt)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let duration_micros = i64::try_from(attempt.duration.as_micros()).unwrap_or(i64::MAX);
    stmt.execute(params![
        job_id,
        attempt.attempt,
        attempt.started_at.micros,
        duration_micros,
        attempt.http_status,
        attempt.error,
        attempt.answer_excerpt
    ])?;
    Ok(())
}

/// A job's attempts in order: a range of `delivery_attempts_job`, no sort.
const ATTEMPTS_OF: &str = "SELECT attempt, started_at, duration_micros, http_status, error, answer_excerpt
   FROM delivery_attempts WHERE job_id = ?1 ORDER BY id";

/// Job `job_id`'s attempts, oldest first.
pub fn attempts_of(conn: &Connection, job_id: i64) -> Result<Vec<DeliveryAttempt>> {
    let mut stmt = conn.prepare_cached(ATTEMPTS_OF)?;
    let rows = stmt.query_map([job_id], |row| {
        Ok(DeliveryAttempt {
            attempt: row.get(0)?,
            started_at: Timestamp::from_micros(row.get(1)?),
            duration: Duration::from_micros(u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0)),
            http_status: row.get(3)?,
            error: row.get(4)?,
            answer_excerpt: row.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migrated() -> Connection {
        let mut conn = Connection::open_in_memory().expect("in-memory db");
        crate::db::migrate::migrate(&mut conn).expect("migrate");
        conn.pragma_update(None, "foreign_keys", true).expect("foreign keys, as the writer has them");
        conn.execute_batch(
            "INSERT INTO jobs (id, kind, state, run_at, created_at, updated_at, event_id)
             VALUES (1, 'order.confirmed', 'done', 0, 0, 0, 'e1'), (2, 'order.confirmed', 'failed', 0, 0, 0, 'e2')",
        )
        .expect("jobs");
        conn
    }

    fn attempt(number: i64, http_status: Option<u16>, error: Option<&str>) -> DeliveryAttempt {
        DeliveryAttempt {
            attempt: number,
            started_at: Timestamp::from_micros(1_000 * number),
            duration: Duration::from_micros(250),
            http_status,
            error: error.map(str::to_owned),
            answer_excerpt: http_status.map(|status| format!("answer {status}")),
        }
    }

    #[test]
    fn a_job_s_attempts_read_back_in_order_and_only_its_own() {
        let conn = migrated();
        let first = attempt(1, None, Some("webhook request failed: connection refused"));
        let second = attempt(2, Some(500), Some("webhook answered 500 Internal Server Error"));
        let third = attempt(3, Some(204), None);
        for (job, recorded) in [(1, &first), (2, &attempt(1, Some(410), Some("gone"))), (1, &second), (1, &third)] {
            record(&conn, job, recorded).expect("record");
        }
        assert_eq!(attempts_of(&conn, 1).expect("read"), [first, second, third]);
        assert_eq!(attempts_of(&conn, 2).expect("read").len(), 1);
        assert!(attempts_of(&conn, 3).expect("read").is_empty());
    }

    #[test]
    fn purging_a_job_deletes_its_attempts() {
        let conn = migrated();
        record(&conn, 1, &attempt(1, Some(200), None)).expect("record");
        record(&conn, 2, &attempt(1, Some(500), Some("boom"))).expect("record");
        let purged = super::super::jobs::purge_done_before(&conn, Timestamp::from_micros(1)).expect("purge");
        assert_eq!(purged, 1);
        assert!(attempts_of(&conn, 1).expect("read").is_empty());
        assert_eq!(attempts_of(&conn, 2).expect("read").len(), 1, "the failed job keeps its attempts");
    }

    #[test]
    fn reading_a_job_s_attempts_walks_their_index() {
        let conn = migrated();
        let plan = crate::db::query_plan(&conn, ATTEMPTS_OF);
        assert!(plan.iter().any(|step| step.contains("INDEX delivery_attempts_job")), "{plan:?}");
        assert!(plan.iter().all(|step| !step.contains("TEMP B-TREE")), "{plan:?}");
    }
}
