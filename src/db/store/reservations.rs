//! Reservations (checkout holds): granting one, reading it, releasing it, an order taking it,
//! and expiring the due ones, each inside the writer's transaction, with `inventory.held`
//! (what the active reservations hold of each row) kept in the same transaction.
//!
//! A reservation's stored status lags its real one by at most the expiry write's delay: every
//! reader goes through [`ReservationBody::as_of`] and the writer's checks through
//! [`catalog::held_at`], so from `expires_at` on it is `EXPIRED` to all of them at once.

use rusqlite::{Connection, params};

use super::{catalog, idempotency};
use crate::db::optional;
use crate::db::outbox::events;
use crate::db::records::{CommitEffects, EventKind, HeldChange, ReservationBody, ReservationItem, Written};
use crate::domain::{
    FieldError, IdempotencyKey, NewReservation, OrderId, OrderStatus, ProductId, ReservationId, ReservationStatus,
    StoreId, Timestamp,
};
use crate::error::{Error, Result, Shortfall};

/// A granted reservation as the writer hands it back: its body as JSON (what an idempotency
/// key stores, replayed byte for byte) and whether this is such a replay.
#[derive(Debug, Clone)]
pub struct Granted {
    /// The 201's body.
    pub json: String,
    /// Whether this is the stored first response to a retry.
    pub replayed: bool,
}

/// Grants a reservation if every line has that much available stock at `now`, in the
/// caller's transaction: 404 for an unknown store, 400 naming unknown products, 409
/// ([`Error::NotEnoughStock`]) with nothing held when a line is short; a key seen before with
/// the same request replays its first 201 (another request: 422). Only granted holds are
/// remembered by a key: a 409 held nothing, so its retry is a new attempt (as Stripe does not
/// store a request that conflicted).
pub fn grant(
    conn: &Connection,
    request: &NewReservation,
    key: Option<&IdempotencyKey>,
    now: Timestamp,
) -> Result<Written<Granted>> {
    let keyed = key.map(|key| (key, request.canonical_json()));
    if let Some((key, request_body)) = &keyed
        && let Some(stored) = idempotency::find(conn, key)?
    {
        if stored.request_body != *request_body {
            return Err(Error::IdempotencyKeyReused);
        }
        return Ok(Written::quietly(Granted { json: stored.body, replayed: true }));
    }
    if !catalog::store_exists(conn, request.store_id)? {
        return Err(Error::store_not_found(request.store_id));
    }
    let mut unknown = Vec::new();
    let mut short = Vec::new();
    for (index, line) in request.items.iter().enumerate() {
        let requested = line.quantity_requested.get();
        match catalog::product_available_in_store(conn, request.store_id, line.product_id, 0, now)? {
            None => unknown.push(FieldError::new(
                format!("items[{index}].product_id"),
                format!("product {} does not exist", line.product_id),
            )),
            Some((_, available)) if available < requested => short.push(Shortfall {
                field: format!("items[{index}].quantity"),
                message: format!("{requested} requested, {available} available"),
                product_id: line.product_id.0,
                requested,
                available,
            }),
            Some(_) => {}
        }
    }
    if !unknown.is_empty() {
        return Err(Error::Validation(unknown));
    }
    if !short.is_empty() {
        return Err(Error::NotEnoughStock(short));
    }
    let expires_at = Timestamp::from_micros(now.micros.saturating_add(request.ttl_seconds.saturating_mul(1_000_000)));
    conn.prepare_cached(
        "INSERT INTO reservations (store_id, status, created_at, expires_at) VALUES (?1, 'ACTIVE', ?2, ?3)",
    )?
    .execute(params![request.store_id, now.micros, expires_at.micros])?;
    let id = ReservationId(conn.last_insert_rowid());
    let mut insert_item = conn
        .prepare_cached("INSERT INTO reservation_items (reservation_id, product_id, quantity) VALUES (?1, ?2, ?3)")?;
    let mut effects = CommitEffects::default();
    let mut items = Vec::with_capacity(request.items.len());
    for line in &request.items {
        let quantity = line.quantity_requested.get();
        insert_item.execute(params![id, line.product_id, quantity])?;
        add_held(conn, &mut effects, request.store_id, line.product_id, quantity)?;
        items.push(ReservationItem { product_id: line.product_id, quantity });
    }
    let body = ReservationBody {
        id,
        store_id: request.store_id,
        status: ReservationStatus::Active,
        items,
        created_at: now,
        expires_at,
    };
    let json = serde_json::to_string(&body)?;
    if let Some((key, request_body)) = keyed {
        // 201, stored as a confirmed order's is: the column holds the first response's code.
        let stored = idempotency::StoredResponse { request_body, status: OrderStatus::Confirmed, body: json.clone() };
        idempotency::remember(conn, key, &stored, now)?;
    }
    Ok(Written { value: Granted { json, replayed: false }, effects })
}

/// Changes what is held of a store's product by `delta` units (never below 0: an admin may
/// have deleted and re-created the row under a hold) and records the new amount for the views.
/// A store without a row for the product holds nothing to change.
fn add_held(
    conn: &Connection,
    effects: &mut CommitEffects,
    store_id: StoreId,
    product_id: ProductId,
    delta: i64,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE inventory SET held = MAX(0, held + ?3) WHERE store_id = ?1 AND product_id = ?2 RETURNING held",
    )?;
    if let Some(held) = optional(stmt.query_row(params![store_id, product_id, delta], |row| row.get::<_, i64>(0)))? {
        effects.held_changes.push(HeldChange { store_id, product_id, held });
    }
    Ok(())
}

/// A stored reservation with its lines, its status as stored (see [`ReservationBody::as_of`]).
pub fn load(conn: &Connection, id: ReservationId) -> Result<Option<ReservationBody>> {
    let mut stmt =
        conn.prepare_cached("SELECT store_id, status, created_at, expires_at FROM reservations WHERE id = ?1")?;
    let Some((store_id, status, created_at, expires_at)) = optional(stmt.query_row([id], |row| {
        Ok((row.get::<_, StoreId>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)?, row.get::<_, i64>(3)?))
    }))?
    else {
        return Ok(None);
    };
    let status = ReservationStatus::parse(&status)
        .ok_or_else(|| Error::Invariant(format!("reservation {id} has status {status:?}")))?;
    let mut items = conn
        .prepare_cached("SELECT product_id, quantity FROM reservation_items WHERE reservation_id = ?1 ORDER BY id")?;
    let items = items
        .query_map([id], |row| Ok(ReservationItem { product_id: row.get(0)?, quantity: row.get(1)? }))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Some(ReservationBody {
        id,
        store_id,
        status,
        items,
        created_at: Timestamp::from_micros(created_at),
        expires_at: Timestamp::from_micros(expires_at),
    }))
}

/// The store a reservation holds stock of, if it exists.
pub fn reservation_store(conn: &Connection, id: ReservationId) -> Result<Option<StoreId>> {
    let mut stmt = conn.prepare_cached("SELECT store_id FROM reservations WHERE id = ?1")?;
    optional(stmt.query_row([id], |row| row.get::<_, StoreId>(0)))
}

/// Releases a reservation (contract, `DELETE`): an active one becomes `RELEASED` and its
/// stock available again; a released or expired one is answered as it stands; a used one is a
/// 409; an unknown one a 404.
pub fn release(conn: &Connection, id: ReservationId, now: Timestamp) -> Result<Written<ReservationBody>> {
    let body = load(conn, id)?.ok_or_else(|| not_found(id))?.as_of(now);
    match body.status {
        ReservationStatus::Active => {
            let mut effects = CommitEffects::default();
            set_status(conn, id, ReservationStatus::Released, None)?;
            give_back(conn, &mut effects, &body)?;
            let body = ReservationBody { status: ReservationStatus::Released, ..body };
            Ok(Written { value: body, effects })
        }
        ReservationStatus::Released | ReservationStatus::Expired => Ok(Written::quietly(body)),
        ReservationStatus::Used => {
            Err(Error::Conflict(format!("reservation {id} was used by an order; it can no longer be released")))
        }
    }
}

/// The 404 of a reservation that does not exist (or that a store-scoped key may not see).
pub fn not_found(id: impl std::fmt::Display) -> Error {
    Error::NotFound(format!("reservation {id} does not exist"))
}

fn set_status(conn: &Connection, id: ReservationId, status: ReservationStatus, order: Option<OrderId>) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE reservations SET status = ?2, order_id = COALESCE(?3, order_id) WHERE id = ?1 AND status = 'ACTIVE'",
    )?;
    match stmt.execute(params![id, status.as_str(), order])? {
        1 => Ok(()),
        changed => Err(Error::Invariant(format!("ending reservation {id} changed {changed} rows"))),
    }
}

/// Takes a reservation's lines off what is held (it no longer holds them).
fn give_back(conn: &Connection, effects: &mut CommitEffects, body: &ReservationBody) -> Result<()> {
    for item in &body.items {
        add_held(conn, effects, body.store_id, item.product_id, -item.quantity)?;
    }
    Ok(())
}

/// The reservation an order names, checked against the order (contract, Orders): an unknown
/// one or another store's is a 400 naming `reservation_id`, lines that differ from its lines
/// (as a set) a 400, and one that is not `ACTIVE` at `now` a 409 saying its status. Writes
/// nothing; returns the reservation, whose lines the order may take from what it holds.
pub fn check_for_order(
    conn: &Connection,
    id: ReservationId,
    store_id: StoreId,
    lines: &[(ProductId, i64)],
    now: Timestamp,
) -> Result<ReservationBody> {
    let body = load(conn, id)?
        .filter(|body| body.store_id == store_id)
        .ok_or_else(|| Error::field("reservation_id", format!("reservation {id} does not exist in store {store_id}")))?
        .as_of(now);
    let mut wanted: Vec<(ProductId, i64)> = lines.to_vec();
    let mut held: Vec<(ProductId, i64)> = body.items.iter().map(|item| (item.product_id, item.quantity)).collect();
    wanted.sort_unstable();
    held.sort_unstable();
    if wanted != held {
        return Err(Error::field(
            "items",
            format!("the lines must be exactly reservation {id}'s (the same products and quantities)"),
        ));
    }
    if body.status != ReservationStatus::Active {
        return Err(Error::ReservationNotActive { id: id.0, status: body.status.as_str() });
    }
    Ok(body)
}

/// Marks a reservation `USED` by `order` and takes its lines off what is held: the order has
/// taken the units from on hand in the same transaction.
pub fn use_for_order(
    conn: &Connection,
    effects: &mut CommitEffects,
    body: &ReservationBody,
    order: OrderId,
) -> Result<()> {
    set_status(conn, body.id, ReservationStatus::Used, Some(order))?;
    give_back(conn, effects, body)
}

/// Stores `EXPIRED` for every active reservation due at `now`, gives back what each held and
/// queues `reservation.expired` for each, all in the caller's transaction. Returns how many.
pub fn expire_due(conn: &Connection, now: Timestamp) -> Result<Written<usize>> {
    let mut due = conn.prepare_cached(
        "SELECT id FROM reservations INDEXED BY reservations_active_expiry
          WHERE status = 'ACTIVE' AND expires_at <= ?1 ORDER BY expires_at, id",
    )?;
    let ids =
        due.query_map([now.micros], |row| row.get::<_, ReservationId>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
    let mut effects = CommitEffects::default();
    for &id in &ids {
        let body = load(conn, id)?.ok_or_else(|| not_found(id))?;
        set_status(conn, id, ReservationStatus::Expired, None)?;
        give_back(conn, &mut effects, &body)?;
        let body = ReservationBody { status: ReservationStatus::Expired, ..body };
        events::enqueue_stored_event(
            conn,
            &mut effects,
            EventKind::ReservationExpired,
            &serde_json::to_string(&body)?,
            now,
        )?;
    }
    Ok(Written { value: ids.len(), effects })
}

/// The earliest `expires_at` among the active reservations (the expiry timer's next instant).
pub fn next_expiry(conn: &Connection) -> Result<Option<Timestamp>> {
    let mut stmt = conn.prepare_cached(
        "SELECT MIN(expires_at) FROM reservations INDEXED BY reservations_active_expiry WHERE status = 'ACTIVE'",
    )?;
    Ok(stmt.query_row([], |row| row.get::<_, Option<i64>>(0))?.map(Timestamp::from_micros))
}

/// The reservations holding a store's product at `now`, soonest to expire first, at most
/// `limit` (the admin inventory row's section).
pub fn holding(
    conn: &Connection,
    store_id: StoreId,
    product_id: ProductId,
    now: Timestamp,
    limit: i64,
) -> Result<Vec<ReservationBody>> {
    let mut stmt = conn.prepare_cached(
        "SELECT r.id FROM reservation_items ri JOIN reservations r ON r.id = ri.reservation_id
          WHERE ri.product_id = ?2 AND r.store_id = ?1 AND r.status = 'ACTIVE' AND r.expires_at > ?3
          ORDER BY r.expires_at, r.id LIMIT ?4",
    )?;
    let ids = stmt
        .query_map(params![store_id, product_id, now.micros, limit], |row| row.get::<_, ReservationId>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut bodies = Vec::with_capacity(ids.len());
    for id in ids {
        bodies.extend(load(conn, id)?);
    }
    Ok(bodies)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::db::store::orders::place_order;
    use crate::domain::{NewOrder, OrderStatus};

    fn store_with_stock(quantity: i64) -> Connection {
        let mut conn = Connection::open_in_memory().expect("in-memory db");
        crate::db::migrate::migrate(&mut conn).expect("migrate");
        conn.execute_batch(
            "INSERT INTO categories (id, name) VALUES (1, 'c');
             INSERT INTO products (id, title, price_cents, category_id, created_at) VALUES (1, 'p', 100, 1, 0);
             INSERT INTO stores (id, name) VALUES (1, 's');",
        )
        .expect("fixture");
        conn.execute("INSERT INTO inventory (store_id, product_id, quantity) VALUES (1, 1, ?1)", [quantity])
            .expect("stock");
        conn
    }

    fn hold(quantity: i64) -> NewReservation {
        NewReservation::parse(
            &json!({"store_id": 1, "items": [{"product_id": 1, "quantity": quantity}], "ttl_seconds": 60}),
        )
        .expect("valid")
    }

    fn order(quantity: i64) -> NewOrder {
        NewOrder::parse(&json!({"store_id": 1, "items": [{"product_id": 1, "quantity_requested": quantity}]}))
            .expect("valid")
    }

    const T0: Timestamp = Timestamp::from_micros(1_000_000_000_000);

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_micros(T0.micros + seconds * 1_000_000)
    }

    #[test]
    fn a_due_hold_counts_for_no_writer_check_before_it_is_swept() {
        let conn = store_with_stock(3);
        grant(&conn, &hold(3), None, T0).expect("granted");
        assert!(matches!(grant(&conn, &hold(1), None, at(59)), Err(Error::NotEnoughStock(_))), "held a second before");
        let placed = place_order(&conn, &order(1), None, None, at(59), None).expect("placed");
        assert_eq!(placed.value.status, OrderStatus::Rejected, "held a second before");
        // At expires_at, unswept: `inventory.held` still says 3, the writer counts none of it.
        let held: i64 = conn.query_row("SELECT held FROM inventory", [], |row| row.get(0)).expect("held");
        assert_eq!(held, 3);
        let placed = place_order(&conn, &order(3), None, None, at(60), None).expect("placed");
        assert_eq!(placed.value.status, OrderStatus::Confirmed);
    }

    #[test]
    fn the_sweep_stores_expired_gives_back_the_hold_and_queues_one_event() {
        let conn = store_with_stock(3);
        grant(&conn, &hold(2), None, T0).expect("granted");
        assert_eq!(next_expiry(&conn).expect("next"), Some(at(60)));
        assert_eq!(expire_due(&conn, at(59)).expect("early").value, 0);
        let swept = expire_due(&conn, at(60)).expect("due");
        assert_eq!(swept.value, 1);
        assert_eq!(
            swept.effects.held_changes,
            vec![HeldChange { store_id: StoreId(1), product_id: ProductId(1), held: 0 }]
        );
        assert_eq!(swept.effects.enqueued_jobs, 1);
        assert_eq!(expire_due(&conn, at(61)).expect("again").value, 0, "expired once");
        assert_eq!(next_expiry(&conn).expect("next"), None);
        let payload: String = conn
            .query_row("SELECT payload FROM jobs WHERE kind = 'reservation.expired'", [], |row| row.get(0))
            .expect("event");
        let payload: serde_json::Value = serde_json::from_str(&payload).expect("json");
        assert_eq!(payload["status"], "EXPIRED");
        assert_eq!(payload["items"], json!([{"product_id": 1, "quantity": 2}]));
    }

    #[test]
    fn holds_write_no_movement_and_an_order_taking_one_writes_its_order_movements() {
        let conn = store_with_stock(3);
        let movements = |conn: &Connection| -> Vec<(i64, i64, String)> {
            let mut stmt =
                conn.prepare("SELECT delta, quantity_after, reason FROM stock_movements ORDER BY id").expect("sql");
            stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .expect("rows")
                .collect::<rusqlite::Result<Vec<_>>>()
                .expect("movements")
        };
        grant(&conn, &hold(2), None, T0).expect("granted");
        let first: ReservationId =
            conn.query_row("SELECT MAX(id) FROM reservations", [], |row| row.get(0)).expect("id");
        release(&conn, first, at(1)).expect("released");
        grant(&conn, &hold(1), None, at(2)).expect("granted");
        expire_due(&conn, at(62)).expect("expired");
        assert_eq!(movements(&conn), Vec::new(), "a hold, a release and an expiry move no stock");
        grant(&conn, &hold(2), None, at(70)).expect("granted");
        let id: ReservationId = conn.query_row("SELECT MAX(id) FROM reservations", [], |row| row.get(0)).expect("id");
        let taking = NewOrder::parse(&json!({"store_id": 1, "reservation_id": id.0,
            "items": [{"product_id": 1, "quantity_requested": 2}]}))
        .expect("valid");
        let placed = place_order(&conn, &taking, None, Some("master"), at(71), None).expect("placed");
        assert_eq!(placed.value.status, OrderStatus::Confirmed);
        assert_eq!(movements(&conn), vec![(-2, 1, "order".to_owned())], "on hand falls by the order's line");
        let (quantity, held): (i64, i64) = conn
            .query_row("SELECT quantity, held FROM inventory", [], |row| Ok((row.get(0)?, row.get(1)?)))
            .expect("row");
        assert_eq!((quantity, held), (1, 0), "the order released what its reservation held");
    }
}
