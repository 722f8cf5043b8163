//! Orders: placing one (taking its reservation's held stock when it names one) and cancelling one (inside the writer's transaction), reading one back,
//! and reading back the event a claimed job delivers ([`load_event`]).

use std::time::Duration;

use rusqlite::{Connection, params};

use super::{catalog, idempotency, movements, reservations};
use crate::db::optional;
use crate::db::outbox::{events, jobs};
use crate::db::records::{
    ClaimedJob, CommitEffects, Event, EventData, EventKind, MovementReason, OrderBody, OrderItemBody, ReservationBody,
    ShortLine, StockCause, StockChange, Written,
};
use crate::domain::{
    FieldError, IdempotencyKey, NewOrder, OrderId, OrderStatus, ProductId, ReservationId, StoreId, Timestamp,
};
use crate::error::{Error, Result};

/// The outcome of placing an order: its status and body to answer with. `http` maps the
/// status to 201/409.
#[derive(Debug, Clone)]
pub struct PlacedOrder {
    /// Confirmed or rejected; a replay repeats the first response's status.
    pub status: OrderStatus,
    /// The order body, serialised or not (see [`PlacedBody`]).
    pub body: PlacedBody,
    /// Whether this is the stored first response to an idempotent retry.
    pub replayed: bool,
}

/// An order's response body as the writer hands it back. Serialising is left to the caller
/// (a tokio worker) unless the writer had to do it anyway: the single writer thread is the
/// one resource every order queues for, so nothing it can hand off runs on it.
#[derive(Debug, Clone)]
pub enum PlacedBody {
    /// A new order without an idempotency key: not serialised yet.
    Order(Box<OrderBody>),
    /// Already serialised: what an idempotency key stored (in this transaction, or a replay
    /// of the first response), answered byte for byte.
    Json(String),
}

impl PlacedOrder {
    /// The body as JSON text.
    pub fn into_json(self) -> Result<String> {
        match self.body {
            PlacedBody::Order(body) => Ok(serde_json::to_string(&body)?),
            PlacedBody::Json(text) => Ok(text),
        }
    }
}

/// Decides and stores an order. Must run inside the writer's `BEGIN IMMEDIATE` transaction
/// (or a savepoint in it): the stock read and the deduction are then one atomic step.
/// Returns an error, with nothing written by this call, for an unknown store or product or a
/// reused idempotency key; otherwise the outcome with what it changed (stock and queued events,
/// none for a rejected order or a replay). `job_lease`: hand the confirmation's job to this
/// process's workers under that lease (see `outbox::events::lease_order_event`).
pub fn place_order(
    conn: &Connection,
    order: &NewOrder,
    key: Option<&IdempotencyKey>,
    actor: Option<&str>,
    now: Timestamp,
    job_lease: Option<Duration>,
) -> Result<Written<PlacedOrder>> {
    // The canonical body only matters to a key: no key, no serialising on the writer.
    let keyed = key.map(|key| (key, order.canonical_json()));
    if let Some((key, request_body)) = &keyed
        && let Some(stored) = idempotency::find(conn, key)?
    {
        if stored.request_body != *request_body {
            return Err(Error::IdempotencyKeyReused);
        }
        let body = PlacedBody::Json(stored.body);
        return Ok(Written::quietly(PlacedOrder { status: stored.status, body, replayed: true }));
    }
    let reservation = match order.reservation_id {
        Some(id) => {
            if !catalog::store_exists(conn, order.store_id)? {
                return Err(Error::store_not_found(order.store_id));
            }
            let lines: Vec<_> =
                order.items.iter().map(|line| (line.product_id, line.quantity_requested.get())).collect();
            Some(reservations::check_for_order(conn, id, order.store_id, &lines, now)?)
        }
        None => None,
    };
    let own = Own(reservation.as_ref());
    let mut effects = CommitEffects::default();
    let (lines, short) = match take_every_line(conn, order, own, now)? {
        Some(taken) => (taken, Vec::new()),
        None => reject(conn, order, own, now)?,
    };
    let status = if short.is_empty() { OrderStatus::Confirmed } else { OrderStatus::Rejected };
    let order_id = insert_order(conn, order, status, now)?;
    if status == OrderStatus::Confirmed {
        // The movements name the order, so they follow its insert (one row per line). On hand
        // falls by the order's lines, whether or not a reservation held them.
        let cause = StockCause { reason: MovementReason::Order, order_id: Some(order_id), actor };
        for line in &lines {
            let remaining = line.available - line.requested;
            let change = StockChange { store_id: order.store_id, product_id: line.product_id, quantity: remaining };
            movements::stock_written(conn, &mut effects, &cause, line.available, change, line.threshold, now)?;
        }
    }
    if let Some(reservation) = &reservation
        && status == OrderStatus::Confirmed
    {
        // A short order leaves its reservation ACTIVE (contract): only a confirmed one uses it,
        // releasing what it held in this transaction (no movement: on hand fell above).
        reservations::use_for_order(conn, &mut effects, reservation, order_id)?;
    }
    let body = OrderBody {
        id: order_id,
        store_id: order.store_id,
        status,
        created_at: now,
        total_quantity: order.total_quantity(),
        items: lines.into_iter().map(CheckedLine::into_item).collect(),
        reservation_id: order.reservation_id,
        errors: short,
        confirmation: None,
    };
    if status == OrderStatus::Confirmed {
        let confirmed = EventKind::OrderConfirmed;
        match job_lease {
            Some(lease) => events::lease_order_event(conn, &mut effects, confirmed, &body, now, lease)?,
            None => events::enqueue_order_event(conn, &mut effects, confirmed, order_id, now)?,
        }
    }
    let body = match keyed {
        // The key stores the response text in this transaction, so it is serialised here.
        Some((key, request_body)) => {
            let stored = idempotency::StoredResponse { request_body, status, body: serde_json::to_string(&body)? };
            idempotency::remember(conn, key, &stored, now)?;
            PlacedBody::Json(stored.body)
        }
        None => PlacedBody::Order(Box::new(body)),
    };
    Ok(Written { value: PlacedOrder { status, body, replayed: false }, effects })
}

/// What the order's own reservation holds of each product: the order may take that much of
/// what is held (contract: available excludes the order's own reservation).
#[derive(Clone, Copy)]
struct Own<'a>(Option<&'a ReservationBody>);

impl Own<'_> {
    fn held(self, product_id: ProductId) -> i64 {
        self.0
            .and_then(|body| body.items.iter().find(|item| item.product_id == product_id))
            .map_or(0, |item| item.quantity)
    }
}

/// One order line with what the store has of it.
struct CheckedLine {
    product_id: ProductId,
    title: String,
    requested: i64,
    available: i64,
    /// The row's low-stock threshold (only a taken line's is used).
    threshold: i64,
}

impl CheckedLine {
    fn short(&self) -> ShortLine {
        ShortLine { product_id: self.product_id, requested: self.requested, available: self.available }
    }

    fn into_item(self) -> OrderItemBody {
        OrderItemBody { product_id: self.product_id, title: self.title, quantity_requested: self.requested }
    }
}

/// The common case in one statement per line: takes every line's units from the store, each
/// with its product's title, and returns the lines with the stock they found. `None`, with
/// nothing taken, when a line cannot be filled (short, not carried, an unknown product, or an
/// unknown store): [`reject`] then finds out why. One statement per line instead of a stock
/// read and a deduction, and no store lookup: a store that has inventory rows exists.
fn take_every_line(
    conn: &Connection,
    order: &NewOrder,
    own: Own<'_>,
    now: Timestamp,
) -> Result<Option<Vec<CheckedLine>>> {
    let mut taken: Vec<CheckedLine> = Vec::with_capacity(order.items.len());
    for line in &order.items {
        let requested = line.quantity_requested.get();
        match catalog::take_stock(conn, order.store_id, line.product_id, requested, own.held(line.product_id), now)? {
            Some(catalog::Taken { remaining, title, threshold }) => taken.push(CheckedLine {
                product_id: line.product_id,
                title,
                requested,
                available: remaining + requested,
                threshold,
            }),
            None => {
                // Put back what the earlier lines took: an order runs without a savepoint of
                // its own, so its rejection (or its 400) must leave the stock as it found it.
                for line in &taken {
                    catalog::return_taken_stock(conn, order.store_id, line.product_id, line.requested)?;
                }
                return Ok(None);
            }
        }
    }
    Ok(Some(taken))
}

/// An order [`take_every_line`] could not fill: a 404 for an unknown store, a 400 naming every
/// unknown product, or else the lines (with the stock each found) and the short ones, for a
/// rejection. Writes nothing.
fn reject(
    conn: &Connection,
    order: &NewOrder,
    own: Own<'_>,
    now: Timestamp,
) -> Result<(Vec<CheckedLine>, Vec<ShortLine>)> {
    if !catalog::store_exists(conn, order.store_id)? {
        return Err(Error::store_not_found(order.store_id));
    }
    let lines = check_lines(conn, order, own, now)?;
    let short: Vec<ShortLine> =
        lines.iter().filter(|line| line.available < line.requested).map(CheckedLine::short).collect();
    if short.is_empty() {
        // Every line has the stock now though a deduction just failed: impossible inside one
        // transaction, and confirming here would sell what was not taken.
        return Err(Error::Invariant(format!("order for store {} neither fills nor falls short", order.store_id)));
    }
    Ok((lines, short))
}

/// Looks up every line's product and stock; unknown products are a 400 naming each of them.
fn check_lines(conn: &Connection, order: &NewOrder, own: Own<'_>, now: Timestamp) -> Result<Vec<CheckedLine>> {
    let mut checked = Vec::with_capacity(order.items.len());
    let mut unknown = Vec::new();
    for (index, line) in order.items.iter().enumerate() {
        let own_held = own.held(line.product_id);
        match catalog::product_available_in_store(conn, order.store_id, line.product_id, own_held, now)? {
            Some((title, available)) => checked.push(CheckedLine {
                product_id: line.product_id,
                title,
                requested: line.quantity_requested.get(),
                available,
                threshold: movements::DEFAULT_LOW_STOCK_THRESHOLD,
            }),
            None => unknown.push(FieldError::new(
                format!("items[{index}].product_id"),
                format!("product {} does not exist", line.product_id),
            )),
        }
    }
    if unknown.is_empty() { Ok(checked) } else { Err(Error::Validation(unknown)) }
}

fn insert_order(conn: &Connection, order: &NewOrder, status: OrderStatus, now: Timestamp) -> Result<OrderId> {
    // `OR FAIL`, `last_insert_rowid` rather than `RETURNING id`, and the deferred foreign keys
    // of migration 0013: nothing can abort either statement half-way, so SQLite runs them
    // without a statement journal (a copy of every page they change). An order that fails
    // here fails its batch (it runs without a savepoint), so FAIL loses nothing.
    let mut insert_order = conn.prepare_cached(
        "INSERT OR FAIL INTO orders (store_id, status, created_at, reservation_id) VALUES (?1, ?2, ?3, ?4)",
    )?;
    insert_order.execute(params![order.store_id, status.as_str(), now.micros, order.reservation_id])?;
    let order_id = OrderId(conn.last_insert_rowid());
    let mut insert_item = conn.prepare_cached(
        "INSERT OR FAIL INTO order_items (order_id, product_id, quantity_requested) VALUES (?1, ?2, ?3)",
    )?;
    for line in &order.items {
        insert_item.execute(params![order_id, line.product_id, line.quantity_requested.get()])?;
    }
    Ok(order_id)
}

/// Reads a stored order with its items (in the order they were placed) and, when confirmed,
/// its confirmation job's state.
pub fn load_order(conn: &Connection, order_id: OrderId) -> Result<Option<OrderBody>> {
    let Some(mut order) = load_order_without_confirmation(conn, order_id)? else {
        return Ok(None);
    };
    if order.status == OrderStatus::Confirmed {
        order.confirmation = jobs::confirmation_for(conn, order_id)?;
    }
    Ok(Some(order))
}

/// The store order `order_id` was placed in, if the order exists.
pub fn order_store(conn: &Connection, order_id: OrderId) -> Result<Option<StoreId>> {
    let mut stmt = conn.prepare_cached("SELECT store_id FROM orders WHERE id = ?1")?;
    optional(stmt.query_row([order_id], |row| row.get::<_, StoreId>(0)))
}

/// [`load_order`] without the confirmation's state: what an event's data carries (one query
/// fewer per confirmation the workers send).
pub fn load_order_without_confirmation(conn: &Connection, order_id: OrderId) -> Result<Option<OrderBody>> {
    let mut stmt =
        conn.prepare_cached("SELECT store_id, status, created_at, reservation_id FROM orders WHERE id = ?1")?;
    let Some((store_id, status, created_at, reservation_id)) = optional(stmt.query_row([order_id], |row| {
        Ok((
            row.get::<_, StoreId>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, Option<ReservationId>>(3)?,
        ))
    }))?
    else {
        return Ok(None);
    };
    let status = OrderStatus::parse(&status)
        .ok_or_else(|| Error::Invariant(format!("order {order_id} has status {status:?}")))?;
    let mut items_stmt = conn.prepare_cached(
        "SELECT oi.product_id, p.title, oi.quantity_requested
           FROM order_items oi JOIN products p ON p.id = oi.product_id
          WHERE oi.order_id = ?1
          ORDER BY oi.id",
    )?;
    let items = items_stmt
        .query_map([order_id], |row| {
            Ok(OrderItemBody { product_id: row.get(0)?, title: row.get(1)?, quantity_requested: row.get(2)? })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(OrderBody {
        id: order_id,
        store_id,
        status,
        created_at: Timestamp::from_micros(created_at),
        total_quantity: items.iter().map(|item| item.quantity_requested).sum(),
        items,
        reservation_id,
        errors: Vec::new(),
        confirmation: None,
    }))
}

/// Cancels a confirmed order: its status becomes `CANCELLED`, every line's quantity goes back
/// to the store's inventory and `order.cancelled` is queued, all in the caller's transaction.
/// An order already cancelled is answered as it stands and nothing changes (idempotent); a
/// rejected (or pending) order is a conflict; an unknown one is not found.
/// The returned stock's movements name the order and `actor`.
pub fn cancel_order(
    conn: &Connection,
    order_id: OrderId,
    actor: Option<&str>,
    now: Timestamp,
) -> Result<Written<OrderBody>> {
    let not_found = || Error::NotFound(format!("order {order_id} does not exist"));
    let mut effects = CommitEffects::default();
    let mut status_stmt = conn.prepare_cached("SELECT store_id, status FROM orders WHERE id = ?1")?;
    let (store_id, status) =
        optional(status_stmt.query_row([order_id], |row| Ok((row.get::<_, StoreId>(0)?, row.get::<_, String>(1)?))))?
            .ok_or_else(not_found)?;
    match OrderStatus::parse(&status) {
        Some(OrderStatus::Confirmed) => {
            conn.prepare_cached("UPDATE orders SET status = 'CANCELLED' WHERE id = ?1")?.execute([order_id])?;
            let mut lines = conn.prepare_cached(
                "SELECT product_id, quantity_requested FROM order_items WHERE order_id = ?1 ORDER BY id",
            )?;
            let lines = lines
                .query_map([order_id], |row| Ok((row.get::<_, ProductId>(0)?, row.get::<_, i64>(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let cause = StockCause { reason: MovementReason::Cancel, order_id: Some(order_id), actor };
            for (product_id, quantity) in lines {
                let (before, after, threshold) = catalog::return_stock(conn, store_id, product_id, quantity)?;
                let change = StockChange { store_id, product_id, quantity: after };
                movements::stock_written(conn, &mut effects, &cause, before, change, threshold, now)?;
            }
            events::enqueue_order_event(conn, &mut effects, EventKind::OrderCancelled, order_id, now)?;
        }
        Some(OrderStatus::Cancelled) => {}
        Some(other @ (OrderStatus::Rejected | OrderStatus::Pending)) => {
            return Err(Error::Conflict(format!(
                "order {order_id} is {}; only a CONFIRMED order can be cancelled",
                other.as_str()
            )));
        }
        None => return Err(Error::Invariant(format!("order {order_id} has status {status:?}"))),
    }
    let body = load_order(conn, order_id)?.ok_or_else(not_found)?;
    Ok(Written { value: body, effects })
}

/// What a claimed job delivers, or why it cannot be delivered (an unknown kind, an order that
/// no longer exists): an order event's order read back as of the event, or a stock event's
/// stored data. Here rather than in `outbox::events` because it reads the orders, which
/// queue events themselves.
pub fn load_event(conn: &Connection, job: &ClaimedJob) -> Result<Result<Event, String>> {
    let Some(kind) = EventKind::parse(&job.kind) else {
        return Ok(Err(format!("unknown job kind {:?}", job.kind)));
    };
    let data = match (kind, job.order_id) {
        (EventKind::OrderConfirmed | EventKind::OrderCancelled, Some(order_id)) => {
            let Some(order) = load_order_without_confirmation(conn, order_id)? else {
                return Ok(Err(format!("order {order_id} does not exist")));
            };
            // The order body as of the event: an order's only later change is its status
            // (CONFIRMED → CANCELLED), so the stored body with the event's status is exactly
            // the body at the time, without a copy of every order in the job row.
            EventData::order_as_of(kind, order)
        }
        (EventKind::OrderConfirmed | EventKind::OrderCancelled, None) => {
            return Ok(Err(format!("{} job {} names no order", job.kind, job.id)));
        }
        (EventKind::OutOfStock | EventKind::BackInStock | EventKind::LowStock | EventKind::ReservationExpired, _) => {
            EventData::Stored(serde_json::from_str(&job.payload)?)
        }
    };
    Ok(Ok(Event { event: kind.as_str(), id: job.event_id.clone(), created_at: job.created_at, data }))
}
