//! The job queue table: rows written in the same transaction as the work they follow from.

use rusqlite::{Connection, params};
use serde::Serialize;

use super::optional;
use crate::domain::{OrderId, Timestamp};
use crate::error::Result;

/// The job kind that sends an order confirmation.
pub const ORDER_CONFIRMATION: &str = "order_confirmation";

/// Queues the confirmation of a just-confirmed order, due now.
pub fn enqueue_order_confirmation(conn: &Connection, order_id: OrderId, now: Timestamp) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO jobs (kind, order_id, payload, run_after, created_at) VALUES (?1, ?2, ?3, ?4, ?4)",
    )?;
    let payload = serde_json::json!({ "order_id": order_id }).to_string();
    stmt.execute(params![ORDER_CONFIRMATION, order_id, payload, now.micros])?;
    Ok(())
}

/// The `confirmation` object of an order body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Confirmation {
    /// `queued`, `sent` or `failed` (a job being worked on still shows as `queued`).
    pub status: String,
    pub attempts: i64,
    pub sent_at: Option<Timestamp>,
}

pub fn confirmation_for(conn: &Connection, order_id: OrderId) -> Result<Option<Confirmation>> {
    let mut stmt = conn.prepare_cached(
        "SELECT status, attempts, sent_at FROM jobs WHERE order_id = ?1 AND kind = ?2 ORDER BY id DESC LIMIT 1",
    )?;
    optional(stmt.query_row(params![order_id, ORDER_CONFIRMATION], |row| {
        let status: String = row.get(0)?;
        Ok(Confirmation {
            status: if status == "running" { "queued".to_owned() } else { status },
            attempts: row.get(1)?,
            sent_at: row.get::<_, Option<i64>>(2)?.map(Timestamp::from_micros),
        })
    }))
}

/// Jobs waiting to run: the queue depth.
pub fn queued_count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM jobs WHERE status IN ('queued', 'running')", [], |row| row.get(0))?)
}
