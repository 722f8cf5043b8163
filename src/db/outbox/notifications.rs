//! Delivered events: the record that an event went out, one row per event id (the `UNIQUE`
//! event id is the senders' dedupe: a job run twice records once).

use rusqlite::{Connection, params};

use crate::db::records::ClaimedJob;
use crate::domain::Timestamp;
use crate::error::Result;

/// Whether this event already went out (a re-run job skips sending).
pub fn already_sent(conn: &Connection, event_id: &str) -> Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM notifications WHERE event_id = ?1)")?;
    Ok(stmt.query_row([event_id], |row| row.get(0))?)
}

/// Records that `job`'s event went out as `body`; a second record of the same event is
/// ignored. Returns whether this call recorded it.
pub fn record_sent(conn: &Connection, job: &ClaimedJob, channel: &str, body: &str, now: Timestamp) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO notifications (event_id, event, order_id, channel, body, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (event_id) DO NOTHING",
    )?;
    Ok(stmt.execute(params![job.event_id, job.kind, job.order_id, channel, body, now.micros])? == 1)
}
