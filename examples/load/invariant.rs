//! The stock invariant after a run with orders: nothing negative, and for every store and
//! product, the units that left the shelf equal the units of confirmed orders — as the
//! database records them and as the clients were told (201). Then the confirmations: how many
//! of the run's confirmed orders were still unsent when the last response arrived, and that
//! each is sent (recorded in `notifications`) exactly once once the queue drains.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::catalog::open_read_only;
use crate::drive::Outcome;

/// The database before the run.
pub(crate) struct Snapshot {
    stock: HashMap<(i64, i64), i64>,
    last_order_id: i64,
}

impl Snapshot {
    pub(crate) fn take(database: &Path) -> anyhow::Result<Self> {
        let conn = open_read_only(database)?;
        let last_order_id = conn.query_row("SELECT COALESCE(MAX(id), 0) FROM orders", [], |row| row.get(0))?;
        Ok(Self { stock: stock(&conn)?, last_order_id })
    }
}

fn stock(conn: &rusqlite::Connection) -> anyhow::Result<HashMap<(i64, i64), i64>> {
    let mut stmt = conn.prepare("SELECT store_id, product_id, quantity FROM inventory")?;
    let rows = stmt.query_map([], |row| Ok(((row.get(0)?, row.get(1)?), row.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Prints the verdict; returns whether every check held.
pub(crate) fn check(database: &Path, before: &Snapshot, outcome: &Outcome) -> anyhow::Result<bool> {
    let conn = open_read_only(database)?;
    let after = stock(&conn)?;
    let negative = after.values().filter(|quantity| **quantity < 0).count();
    let mut deducted: HashMap<(i64, i64), i64> = HashMap::new();
    for (key, quantity) in &after {
        let change = before.stock.get(key).copied().unwrap_or(0) - quantity;
        if change != 0 {
            deducted.insert(*key, change);
        }
    }
    let stored = confirmed_in_database(&conn, before.last_order_id)?;
    let stored_orders: i64 =
        conn.query_row("SELECT COUNT(*) FROM orders WHERE id > ?1", [before.last_order_id], |row| row.get(0))?;
    let units: i64 = deducted.values().sum();
    let checks = [
        ("no stock is negative", negative == 0),
        ("units deducted = units of CONFIRMED orders stored", deducted == stored),
        ("units deducted = units of orders answered 201", deducted == outcome.confirmed_units),
        (
            "orders stored = orders answered 201 or 409",
            u64::try_from(stored_orders).ok() == Some(outcome.orders_answered()),
        ),
    ];
    println!(
        "stock invariant: {units} units deducted over {} store/product pairs, {stored_orders} orders stored",
        deducted.len()
    );
    for (name, held) in &checks {
        println!("  {} {name}", if *held { "ok  " } else { "FAIL" });
    }
    let confirmations_held = confirmations(&conn, before.last_order_id)?;
    Ok(checks.iter().all(|(_, held)| *held) && confirmations_held && outcome.transport_errors == 0)
}

/// How long the confirmations may take to drain after the run before the check fails.
const DRAIN_LIMIT: Duration = Duration::from_secs(30);

/// Prints how many of the run's confirmations were unsent at its end and how long the rest
/// took; returns whether every confirmed order's confirmation was sent and recorded exactly
/// once within [`DRAIN_LIMIT`].
fn confirmations(conn: &rusqlite::Connection, after_order_id: i64) -> anyhow::Result<bool> {
    let unsent = |conn: &rusqlite::Connection| -> anyhow::Result<i64> {
        Ok(conn.query_row(
            "SELECT COUNT(*) FROM jobs WHERE kind = 'order.confirmed' AND order_id > ?1 AND state <> 'done'",
            [after_order_id],
            |row| row.get(0),
        )?)
    };
    let at_end = unsent(conn)?;
    let started = Instant::now();
    let mut left = at_end;
    while left > 0 && started.elapsed() < DRAIN_LIMIT {
        std::thread::sleep(Duration::from_millis(20));
        left = unsent(conn)?;
    }
    let (confirmed, recorded, distinct): (i64, i64, i64) = conn.query_row(
        "SELECT (SELECT COUNT(*) FROM orders WHERE id > ?1 AND status = 'CONFIRMED'),
                COUNT(*), COUNT(DISTINCT order_id)
           FROM notifications WHERE event = 'order.confirmed' AND order_id > ?1",
        [after_order_id],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    println!(
        "confirmations: {at_end} of {confirmed} unsent when the run ended; {}",
        if left == 0 {
            format!("all sent {:.2} s later", started.elapsed().as_secs_f64())
        } else {
            format!("{left} still unsent after {DRAIN_LIMIT:?}")
        }
    );
    let checks = [
        ("every confirmed order's confirmation sent", left == 0),
        ("each recorded exactly once", recorded == confirmed && distinct == confirmed),
    ];
    for (name, held) in &checks {
        println!("  {} {name}", if *held { "ok  " } else { "FAIL" });
    }
    Ok(checks.iter().all(|(_, held)| *held))
}

fn confirmed_in_database(conn: &rusqlite::Connection, after_order_id: i64) -> anyhow::Result<HashMap<(i64, i64), i64>> {
    let mut stmt = conn.prepare(
        "SELECT o.store_id, i.product_id, SUM(i.quantity_requested) FROM orders o JOIN order_items i ON i.order_id = o.id
         WHERE o.id > ?1 AND o.status = 'CONFIRMED' GROUP BY o.store_id, i.product_id",
    )?;
    let rows = stmt.query_map([after_order_id], |row| Ok(((row.get(0)?, row.get(1)?), row.get(2)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
