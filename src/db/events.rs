//! Events: the outbox that tells a shop's other systems what changed (`order.confirmed`,
//! `order.cancelled`, `inventory.out_of_stock`, `inventory.back_in_stock`).
//!
//! An event is a `jobs` row whose kind is the event's name, inserted in the same transaction
//! as the change that causes it, with a random id receivers dedupe on; the job workers deliver
//! it (`jobs::worker`) and `notifications` records each delivery once. This file writes the
//! rows and builds what a delivery says ([`Event`]); the queue's state machine is `jobs.rs`.

use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, params};
use serde::Serialize;
use serde_json::Value;

use super::effects::{CommitEffects, StockChange};
use super::job_handoff::HandedJob;
use super::jobs::{self, ClaimedJob, DEFAULT_MAX_ATTEMPTS};
use super::orders::{self, OrderBody};
use crate::domain::{OrderId, OrderStatus, ProductId, StoreId, Timestamp};
use crate::error::Result;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// An order was confirmed (its confirmation is the event's delivery).
    OrderConfirmed,
    /// A confirmed order was cancelled and its stock returned.
    OrderCancelled,
    /// A store's stock of a product fell to zero.
    OutOfStock,
    /// A store's stock of a product rose from zero.
    BackInStock,
}

impl EventKind {
    /// Every kind, for listing and parsing.
    pub const ALL: [EventKind; 4] = [Self::OrderConfirmed, Self::OrderCancelled, Self::OutOfStock, Self::BackInStock];

    /// The contract's name, stored as the job's `kind` and sent as `X-Aforro-Event`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderConfirmed => "order.confirmed",
            Self::OrderCancelled => "order.cancelled",
            Self::OutOfStock => "inventory.out_of_stock",
            Self::BackInStock => "inventory.back_in_stock",
        }
    }

    /// The kind named `text` (as [`Self::as_str`] spells it), if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// Queues an event, due now. Order events name their order (their data is read when sent, see
/// [`load_event`]); stock events carry their data in `payload`.
///
/// The event id is 32 hex digits: the millisecond it was queued (48 bits) then 80 random bits,
/// the layout of a UUIDv7. Time first because `notifications` keeps a unique index on it: a
/// fully random id put every delivery's index entry on a random leaf page, one more page
/// written per confirmation at the workers' commit; time-ordered ids land on the index's last
/// pages, which a batch of deliveries shares (docs/performance.md, "Orders over HTTP, round 3").
/// 80 random bits per millisecond keep the ids unique, and nothing reads meaning into them.
///
/// With `lease_end` the job is inserted already running under that lease, its first attempt
/// counted (handed to this process's workers, see `job_handoff.rs`). Returns its id and event id.
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
/// and counts it in `effects`; its data is read from the order when it is sent ([`load_event`]).
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
/// its first attempt counted: see `job_handoff.rs`), in the caller's transaction, and puts it
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
        data: EventData::Order(Box::new(as_of_event(kind, order.clone()))),
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

/// An order's body as an order event delivers it: the status the event gave it, without the
/// 409's errors or the confirmation's state (a body read back later and the one the
/// order's own transaction wrote say the same).
fn as_of_event(kind: EventKind, mut order: OrderBody) -> OrderBody {
    order.status = if kind == EventKind::OrderCancelled { OrderStatus::Cancelled } else { OrderStatus::Confirmed };
    order.errors = Vec::new();
    order.confirmation = None;
    order
}

/// Records that a write took a store's stock of a product from `before` to `change.quantity`:
/// the change for the derived views, and, exactly when the stock crossed zero, the
/// `inventory.out_of_stock` or `inventory.back_in_stock` event in the same transaction. Every
/// write that changes a quantity goes through here, so a crossing cannot go unannounced and a
/// change that does not cross (10 → 7, 0 → 0) announces nothing.
pub fn stock_changed(
    conn: &Connection,
    effects: &mut CommitEffects,
    before: i64,
    change: StockChange,
    now: Timestamp,
) -> Result<()> {
    effects.stock_changes.push(change);
    let kind = match (before > 0, change.quantity > 0) {
        (true, false) => EventKind::OutOfStock,
        (false, true) => EventKind::BackInStock,
        _ => return Ok(()),
    };
    let data = StockData { store_id: change.store_id, product_id: change.product_id, quantity: change.quantity };
    enqueue(conn, kind, None, &serde_json::to_string(&data)?, now, None)?;
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

/// An event as delivered: the contract's webhook body `{"event", "id", "created_at", "data"}`.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// The event's name (`order.confirmed`, …).
    pub event: &'static str,
    /// Unique per event: receivers dedupe on it across retries.
    pub id: String,
    /// When its cause committed.
    pub created_at: Timestamp,
    /// The event's own fields (the order, or the store, product and quantity).
    pub data: EventData,
}

/// What an event says: serialised as the data itself.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum EventData {
    /// An order event's order body, serialised straight into the delivered JSON (not through
    /// a `Value` tree first: every confirmation goes this way).
    Order(Box<OrderBody>),
    /// A stock event's data, as its job stored it.
    Stored(Value),
}

/// What a claimed job delivers, or why it cannot be delivered (an unknown kind, an order that
/// no longer exists).
pub fn load_event(conn: &Connection, job: &ClaimedJob) -> Result<Result<Event, String>> {
    let Some(kind) = EventKind::parse(&job.kind) else {
        return Ok(Err(format!("unknown job kind {:?}", job.kind)));
    };
    let data = match (kind, job.order_id) {
        (EventKind::OrderConfirmed | EventKind::OrderCancelled, Some(order_id)) => {
            let Some(order) = orders::load_order_without_confirmation(conn, order_id)? else {
                return Ok(Err(format!("order {order_id} does not exist")));
            };
            // The order body as of the event: an order's only later change is its status
            // (CONFIRMED → CANCELLED), so the stored body with the event's status is exactly
            // the body at the time, without a copy of every order in the job row.
            EventData::Order(Box::new(as_of_event(kind, order)))
        }
        (EventKind::OrderConfirmed | EventKind::OrderCancelled, None) => {
            return Ok(Err(format!("{} job {} names no order", job.kind, job.id)));
        }
        (EventKind::OutOfStock | EventKind::BackInStock, _) => EventData::Stored(serde_json::from_str(&job.payload)?),
    };
    Ok(Ok(Event { event: kind.as_str(), id: job.event_id.clone(), created_at: job.created_at, data }))
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
