//! Idempotency keys: the first response to a keyed request, replayed for its retries.

use rusqlite::{Connection, params};

use crate::db::optional;
use crate::domain::{IdempotencyKey, OrderStatus, Timestamp};
use crate::error::{Error, Result};

/// What a key remembers.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    /// The canonical request body the key was first used with.
    pub request_body: String,
    /// The placed order's outcome, which decides the replayed status code.
    pub status: OrderStatus,
    /// The order body the first response carried, replayed byte for byte.
    pub body: String,
}

/// The `response_status` column holds the status code the first response had (schema 0001):
/// 201 for a confirmed order, 409 for a rejected one. Only this file reads or writes it.
fn status_column(status: OrderStatus) -> Result<u16> {
    match status {
        OrderStatus::Confirmed => Ok(201),
        OrderStatus::Rejected => Ok(409),
        OrderStatus::Pending | OrderStatus::Cancelled => {
            Err(Error::Invariant(format!("a placed order is never {}", status.as_str())))
        }
    }
}

fn status_from_column(code: u16) -> Result<OrderStatus> {
    match code {
        201 => Ok(OrderStatus::Confirmed),
        409 => Ok(OrderStatus::Rejected),
        other => Err(Error::Invariant(format!("an idempotency key stores response status {other}"))),
    }
}

/// What `key` remembers, if it was used before.
pub fn find(conn: &Connection, key: &IdempotencyKey) -> Result<Option<StoredResponse>> {
    let mut stmt = conn
        .prepare_cached("SELECT request_body, response_status, response_body FROM idempotency_keys WHERE key = ?1")?;
    let found = optional(stmt.query_row([key.as_str()], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, u16>(1)?, row.get::<_, String>(2)?))
    }))?;
    found
        .map(|(request_body, code, body)| Ok(StoredResponse { request_body, status: status_from_column(code)?, body }))
        .transpose()
}

/// Remembers the response `key` got, in the order's own transaction.
pub(crate) fn remember(
    conn: &Connection,
    key: &IdempotencyKey,
    response: &StoredResponse,
    now: Timestamp,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO idempotency_keys (key, request_body, response_status, response_body, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let status = status_column(response.status)?;
    stmt.execute(params![key.as_str(), response.request_body, status, response.body, now.micros])?;
    Ok(())
}

/// Forgets keys first used before `cutoff`: a retry after the retention window is a new order.
pub fn purge_before(conn: &Connection, cutoff: Timestamp) -> Result<usize> {
    let mut stmt = conn.prepare_cached("DELETE FROM idempotency_keys WHERE created_at < ?1")?;
    Ok(stmt.execute([cutoff.micros])?)
}
