//! Events: the outbox that tells a shop's other systems what changed (`order.confirmed`,
//! `order.cancelled`, `inventory.out_of_stock`, `inventory.back_in_stock`, `inventory.low_stock`).
//!
//! An event is a `jobs` row whose kind is the event's name, inserted in the same transaction
//! as the change that causes it, with a random id receivers dedupe on; the job workers deliver
//! it (`jobs::worker`) and `notifications` records each delivery once. This file writes the
//! rows; what a delivery says is [`Event`] (`db::records`), read back for a claimed job by
//! `db::store::orders::load_event`. The queue's state machine is `jobs.rs`.

use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, params};
use serde::Serialize;

use super::jobs::{self, DEFAULT_MAX_ATTEMPTS};
use crate::db::records::{ClaimedJob, CommitEffects, Event, EventData, EventKind, HandedJob, OrderBody, StockChange};
use crate::domain::{OrderId, ProductId, StoreId, Timestamp};
use crate::error::Result;

/// Queues an event, due now. Order events name their order (their data is read when sent, see
/// `store::orders::load_event`); stock events carry their data in `payload`.
///
/// The event id is 32 hex digits: the millisecond it was queued (48 bits) then 80 random bits,
/// the layout of a UUIDv7. Time first because `notifications` keeps a unique index on it: a
/// fully random id put every delivery's index entry on a random leaf page, one more page
/// written per confirmation at the workers' commit; time-ordered ids land on the index's last
/// pages, which a batch of deliveries shares (docs/performance.md,
/// "One statement per order line, and time-ordered event ids").
/// 80 random bits per millisecond keep the ids unique, and nothing reads meaning into them.
///
/// With `lease_end` the job is inserted already running under that lease, its first attempt
/// counted (handed to this process's workers, see `jobs::handoff`). Returns its id and event id.
fn enqueue(
    conn: &Connection,
    kind: EventKind,
    order_id: Option<OrderId>,
    payload: &str,
    now: Timestamp,
    lease_end: Option<Timestamp>,
) -> Result<(i64, String)> {
    // No `RETURNING`: SQLite buffers a returning statement's rows in a temporary B-tree and
    // journals the statement (it may write several rows and abort), work that showed in the
    // writer's profile per order; the row id comes from `last_insert_rowid` instead.
    let mut stmt = conn.prepare_cached(
        "INSERT INTO jobs (kind, order_id, payload, max_attempts, run_at, created_at, updated_at, event_id,
                           state, attempts, lease_expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?5, ?6,
                 CASE WHEN ?7 IS NULL THEN 'queued' ELSE 'running' END, ?7 IS NOT NULL, ?7)",
    )?;
    let event_id = new_event_id(now);
    let lease_end = lease_end.map(|at| at.micros);
    stmt.execute(params![kind.as_str(), order_id, payload, DEFAULT_MAX_ATTEMPTS, now.micros, event_id, lease_end])?;
    Ok((conn.last_insert_rowid(), event_id))
}

/// A new event id (see [`enqueue`]): the millisecond of `now` in 12 hex digits, then 80
/// random bits in 20.
fn new_event_id(now: Timestamp) -> String {
    let millis = now.micros.div_euclid(1000);
    format!("{millis:012x}{}", hex::encode(rand::random::<[u8; 10]>()))
}

/// Queues `order.confirmed` or `order.cancelled` for an order, in the caller's transaction,
/// and counts it in `effects`; its data is read from the order when it is sent (`store::orders::load_event`).
pub fn enqueue_order_event(
    conn: &Connection,
    effects: &mut CommitEffects,
    kind: EventKind,
    order_id: OrderId,
    now: Timestamp,
) -> Result<()> {
    enqueue(conn, kind, Some(order_id), "{}", now, None)?;
    effects.enqueued_jobs += 1;
    Ok(())
}

/// Inserts `order`'s event already leased to this process's workers for `lease` (running,
/// its first attempt counted: see `jobs::handoff`), in the caller's transaction, and puts it
/// in `effects.handed_jobs` with its event built from `order`, the body the transaction
/// wrote: the worker that takes it reads nothing back.
pub fn lease_order_event(
    conn: &Connection,
    effects: &mut CommitEffects,
    kind: EventKind,
    order: &OrderBody,
    now: Timestamp,
    lease: Duration,
) -> Result<()> {
    let lease_end = Timestamp::from_micros(now.micros.saturating_add(jobs::micros(lease)));
    let (id, event_id) = enqueue(conn, kind, Some(order.id), "{}", now, Some(lease_end))?;
    let event = Event {
        event: kind.as_str(),
        id: event_id.clone(),
        created_at: now,
        data: EventData::order_as_of(kind, order.clone()),
    };
    let job = ClaimedJob {
        id,
        kind: kind.as_str().to_owned(),
        event_id,
        order_id: Some(order.id),
        payload: "{}".to_owned(),
        created_at: now,
        attempt: 1,
        max_attempts: DEFAULT_MAX_ATTEMPTS,
    };
    effects.handed_jobs.push(HandedJob { job, lease_end, event: Arc::new(event) });
    Ok(())
}

/// Records that a write took a store's stock of a product from `before` to `change.quantity`:
/// the change for the derived views, and, exactly when the stock crossed zero, the
/// `inventory.out_of_stock` or `inventory.back_in_stock` event in the same transaction; when it
/// fell from above the row's low-stock `threshold` to at or below it, `inventory.low_stock`.
/// Every write that changes a quantity goes through here (by way of
/// `store::movements::stock_written`, which writes its movement), so a crossing cannot go
/// unannounced and a change that does not cross (10 → 7, 0 → 0) announces nothing.
pub fn stock_changed(
    conn: &Connection,
    effects: &mut CommitEffects,
    before: i64,
    change: StockChange,
    threshold: i64,
    now: Timestamp,
) -> Result<()> {
    effects.stock_changes.push(change);
    let zero = match (before > 0, change.quantity > 0) {
        (true, false) => Some(EventKind::OutOfStock),
        (false, true) => Some(EventKind::BackInStock),
        _ => None,
    };
    if let Some(kind) = zero {
        let data = StockData { store_id: change.store_id, product_id: change.product_id, quantity: change.quantity };
        enqueue(conn, kind, None, &serde_json::to_string(&data)?, now, None)?;
        effects.enqueued_jobs += 1;
    }
    if before > threshold && change.quantity <= threshold {
        let data = LowStockData {
            store_id: change.store_id,
            product_id: change.product_id,
            quantity: change.quantity,
            threshold,
        };
        enqueue(conn, EventKind::LowStock, None, &serde_json::to_string(&data)?, now, None)?;
        effects.enqueued_jobs += 1;
    }
    Ok(())
}

/// Queues an event whose data is `payload` itself (a reservation's body, say), in the
/// caller's transaction, and counts it in `effects`.
pub fn enqueue_stored_event(
    conn: &Connection,
    effects: &mut CommitEffects,
    kind: EventKind,
    payload: &str,
    now: Timestamp,
) -> Result<()> {
    enqueue(conn, kind, None, payload, now, None)?;
    effects.enqueued_jobs += 1;
    Ok(())
}

/// The data of an inventory event (contract).
#[derive(Debug, Clone, Copy, Serialize)]
struct StockData {
    store_id: StoreId,
    product_id: ProductId,
    quantity: i64,
}

/// The data of `inventory.low_stock` (contract).
#[derive(Debug, Clone, Copy, Serialize)]
struct LowStockData {
    store_id: StoreId,
    product_id: ProductId,
    quantity: i64,
    threshold: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_id_is_its_millisecond_then_random_bits_so_ids_sort_by_time() {
        let at = Timestamp::from_micros(1_764_540_000_123_456);
        let id = new_event_id(at);
        assert_eq!(id.len(), 32);
        assert!(id.chars().all(|digit| digit.is_ascii_hexdigit() && !digit.is_ascii_uppercase()), "{id}");
        assert_eq!(&id[..12], format!("{:012x}", 1_764_540_000_123_i64));
        assert_ne!(new_event_id(at), id, "the same millisecond still gives a new id");
        assert!(new_event_id(Timestamp::from_micros(at.micros + 1_000)) > id, "a later millisecond sorts after");
    }
}
