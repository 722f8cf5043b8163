//! Sent confirmations: the message an order's confirmation carries, and the record that it
//! went out (one row per order: the `UNIQUE` order id is the senders' dedupe).

use rusqlite::{Connection, params};
use serde::Serialize;

use super::optional;
use crate::domain::{Money, OrderId, ProductId, StoreId, Timestamp};
use crate::error::Result;

/// What a confirmation says: the webhook's JSON body, and the log sender's rendered text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfirmationMessage {
    pub order_id: OrderId,
    pub store_id: StoreId,
    pub store_name: String,
    pub created_at: Timestamp,
    pub lines: Vec<ConfirmationLine>,
    pub total_quantity: i64,
    pub total_price: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfirmationLine {
    pub product_id: ProductId,
    pub title: String,
    pub quantity: i64,
    pub unit_price: Money,
    pub line_price: Money,
}

/// The confirmation of a stored order, or `None` when there is no such order.
pub fn confirmation_message(conn: &Connection, order_id: OrderId) -> Result<Option<ConfirmationMessage>> {
    let mut order_stmt = conn.prepare_cached(
        "SELECT o.store_id, s.name, o.created_at FROM orders o JOIN stores s ON s.id = o.store_id WHERE o.id = ?1",
    )?;
    let Some((store_id, store_name, created_at)) = optional(order_stmt.query_row([order_id], |row| {
        Ok((row.get::<_, StoreId>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?))
    }))?
    else {
        return Ok(None);
    };
    let mut lines_stmt = conn.prepare_cached(
        "SELECT oi.product_id, p.title, oi.quantity_requested, p.price_cents
           FROM order_items oi JOIN products p ON p.id = oi.product_id
          WHERE oi.order_id = ?1 ORDER BY oi.id",
    )?;
    let lines = lines_stmt
        .query_map([order_id], |row| {
            let quantity: i64 = row.get(2)?;
            let price_cents: i64 = row.get(3)?;
            Ok(ConfirmationLine {
                product_id: row.get(0)?,
                title: row.get(1)?,
                quantity,
                unit_price: Money::from_cents(price_cents),
                line_price: Money::from_cents(price_cents.saturating_mul(quantity)),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(ConfirmationMessage {
        order_id,
        store_id,
        store_name,
        created_at: Timestamp::from_micros(created_at),
        total_quantity: lines.iter().map(|line| line.quantity).sum(),
        total_price: Money::from_cents(lines.iter().map(|line| line.line_price.cents).sum()),
        lines,
    }))
}

/// Whether this order's confirmation already went out (a re-run job skips sending).
pub fn already_sent(conn: &Connection, order_id: OrderId) -> Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM notifications WHERE order_id = ?1)")?;
    Ok(stmt.query_row([order_id], |row| row.get(0))?)
}

/// Records that the confirmation went out; a second record for the same order is ignored.
/// Returns whether this call recorded it.
pub fn record_sent(conn: &Connection, order_id: OrderId, channel: &str, body: &str, now: Timestamp) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO notifications (order_id, channel, body, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (order_id) DO NOTHING",
    )?;
    Ok(stmt.execute(params![order_id, channel, body, now.micros])? == 1)
}
