//! Idempotency keys: the first response to a keyed request, replayed for its retries.

use rusqlite::{Connection, params};

use super::optional;
use crate::domain::{IdempotencyKey, Timestamp};
use crate::error::Result;

/// What a key remembers.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    /// The canonical request body the key was first used with.
    pub request_body: String,
    pub status: u16,
    pub body: String,
}

pub fn find(conn: &Connection, key: &IdempotencyKey) -> Result<Option<StoredResponse>> {
    let mut stmt = conn
        .prepare_cached("SELECT request_body, response_status, response_body FROM idempotency_keys WHERE key = ?1")?;
    optional(stmt.query_row([key.as_str()], |row| {
        Ok(StoredResponse { request_body: row.get(0)?, status: row.get(1)?, body: row.get(2)? })
    }))
}

pub fn remember(conn: &Connection, key: &IdempotencyKey, response: &StoredResponse, now: Timestamp) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO idempotency_keys (key, request_body, response_status, response_body, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    stmt.execute(params![key.as_str(), response.request_body, response.status, response.body, now.micros])?;
    Ok(())
}

/// Forgets keys first used before `cutoff`: a retry after the retention window is a new order.
pub fn purge_before(conn: &Connection, cutoff: Timestamp) -> Result<usize> {
    let mut stmt = conn.prepare_cached("DELETE FROM idempotency_keys WHERE created_at < ?1")?;
    Ok(stmt.execute([cutoff.micros])?)
}
