//! The stock ledger (`stock_movements`): one row per change of a store's on-hand quantity of a
//! product, written in the transaction that changes it ([`stock_written`], the one door every
//! stock write goes through), read back a page at a time, pruned past its retention.

use rusqlite::{Connection, OptionalExtension, params};

use super::listings::PageOf;
use crate::db::outbox::events;
use crate::db::records::{CommitEffects, Movement, MovementReason, StockCause, StockChange};
use crate::domain::{PageRequest, ProductId, StoreId, Timestamp};
use crate::error::{Error, Result};

pub use super::listings::DEFAULT_LOW_STOCK_THRESHOLD;

/// Records that a write took a store's stock of a product from `before` to `change.quantity`:
/// its movement (none when the quantity did not change), then the change and its events
/// ([`events::stock_changed`]; `threshold` is the row's low-stock threshold). Every write that
/// changes on-hand stock calls this, in its own transaction, so the ledger's chain holds.
pub fn stock_written(
    conn: &Connection,
    effects: &mut CommitEffects,
    cause: &StockCause<'_>,
    before: i64,
    change: StockChange,
    threshold: i64,
    now: Timestamp,
) -> Result<()> {
    let delta = change.quantity - before;
    if delta == 0 {
        return Ok(());
    }
    // `OR FAIL` and no `RETURNING`: nothing here can abort half-way, so SQLite writes the rows
    // without a statement journal (an order writes one per line; see migration 0016). The
    // movement links to the row's previous one, and the row to it (the chain the listing walks).
    let mut insert = conn.prepare_cached(
        "INSERT OR FAIL INTO stock_movements
                (store_id, product_id, delta, quantity_after, reason, order_id, actor, created_at, previous_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,
                 (SELECT last_movement_id FROM inventory WHERE store_id = ?1 AND product_id = ?2))",
    )?;
    insert.execute(params![
        change.store_id,
        change.product_id,
        delta,
        change.quantity,
        cause.reason.as_str(),
        cause.order_id,
        cause.actor,
        now.micros
    ])?;
    let movement_id = conn.last_insert_rowid();
    conn.prepare_cached(
        "UPDATE OR FAIL inventory SET last_movement_id = ?3, movement_count = movement_count + 1
          WHERE store_id = ?1 AND product_id = ?2",
    )?
    .execute(params![change.store_id, change.product_id, movement_id])?;
    events::stock_changed(conn, effects, before, change, threshold, now)
}

const MOVEMENTS_COUNT: &str = "SELECT movement_count FROM inventory WHERE product_id = ?1 AND store_id = ?2";
/// The row's chain from its newest movement, `?4` links skipped, `?3` kept: each step is one
/// primary-key lookup, so a page costs its offset plus its size, whatever the ledger holds.
const MOVEMENTS_PAGE: &str = "WITH RECURSIVE chain (id, depth) AS (
         SELECT last_movement_id, 0 FROM inventory WHERE product_id = ?1 AND store_id = ?2
          UNION ALL
         SELECT m.previous_id, chain.depth + 1
           FROM chain JOIN stock_movements m ON m.id = chain.id
          WHERE chain.depth + 1 < ?4 + ?3
     )
     SELECT m.id, m.delta, m.quantity_after, m.reason, m.order_id, m.actor, m.created_at
       FROM chain JOIN stock_movements m ON m.id = chain.id
      WHERE chain.depth >= ?4
      ORDER BY chain.depth
      LIMIT ?3";

/// A store's movements of a product, newest first.
pub fn movements(
    conn: &Connection,
    store_id: StoreId,
    product_id: ProductId,
    page: PageRequest,
) -> Result<PageOf<Movement>> {
    let count: i64 = conn
        .prepare_cached(MOVEMENTS_COUNT)?
        .query_row(params![product_id, store_id], |row| row.get(0))
        .optional()?
        .unwrap_or(0);
    let mut stmt = conn.prepare_cached(MOVEMENTS_PAGE)?;
    let rows = stmt
        .query_map(params![product_id, store_id, page.limit(), page.offset()], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, String>(3)?,
                row.get(4)?,
                row.get::<_, Option<String>>(5)?,
                row.get::<_, i64>(6)?,
            ))
        })?
        .map(|row| {
            let (id, delta, quantity_after, reason, order_id, actor, created_at) = row?;
            let reason = MovementReason::parse(&reason)
                .ok_or_else(|| Error::Invariant(format!("movement {id} has reason {reason:?}")))?;
            Ok(Movement {
                id,
                store_id,
                product_id,
                delta,
                quantity_after,
                reason,
                order_id,
                actor,
                created_at: Timestamp::from_micros(created_at),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(PageOf { count, rows })
}

/// Deletes a product's movements (with the product itself, before its inventory rows): every
/// store's chain walked from its inventory row, so the cost is the product's movements.
pub fn delete_product_movements(conn: &Connection, product_id: ProductId) -> Result<usize> {
    Ok(conn.prepare_cached(PRODUCT_MOVEMENTS_DELETE)?.execute([product_id])?)
}

const PRODUCT_MOVEMENTS_DELETE: &str = "WITH RECURSIVE chain (id) AS (
         SELECT last_movement_id FROM inventory WHERE product_id = ?1 AND last_movement_id IS NOT NULL
          UNION ALL
         SELECT m.previous_id FROM chain JOIN stock_movements m ON m.id = chain.id WHERE m.previous_id IS NOT NULL
     )
     DELETE FROM stock_movements WHERE id IN (SELECT id FROM chain)";

/// Movements deleted per statement while pruning: the writer's other work waits for at most
/// one such batch at a time.
pub const PRUNE_BATCH: usize = 10_000;

/// Deletes up to [`PRUNE_BATCH`] of the oldest movements written before `cutoff`; returns how
/// many. Ids grow with `created_at` (one writer), so the movements to prune are a prefix of the
/// ids: found by walking the primary key from its start, without an index on `created_at`.
/// Each inventory row's `movement_count` drops by the movements of it the batch deletes.
pub fn prune_batch_before(conn: &Connection, cutoff: Timestamp) -> Result<usize> {
    let last: Option<i64> = conn
        .prepare_cached(
            "SELECT MAX(id) FROM (SELECT id FROM stock_movements WHERE created_at < ?1 ORDER BY id LIMIT ?2)",
        )?
        .query_row(params![cutoff.micros, PRUNE_BATCH as i64], |row| row.get(0))?;
    let Some(last) = last else { return Ok(0) };
    conn.prepare_cached(
        "UPDATE inventory SET movement_count = movement_count - pruned.n
           FROM (SELECT store_id, product_id, COUNT(*) AS n FROM stock_movements WHERE id <= ?1
                  GROUP BY store_id, product_id) AS pruned
          WHERE inventory.store_id = pruned.store_id AND inventory.product_id = pruned.product_id",
    )?
    .execute([last])?;
    Ok(conn.prepare_cached("DELETE FROM stock_movements WHERE id <= ?1")?.execute([last])?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::query_plan;

    #[test]
    fn the_ledger_queries_follow_keys_and_never_scan_the_ledger() {
        let mut conn = Connection::open_in_memory().expect("db");
        crate::db::migrate::migrate(&mut conn).expect("migrate");
        for sql in [MOVEMENTS_COUNT, MOVEMENTS_PAGE, PRODUCT_MOVEMENTS_DELETE] {
            let plan = query_plan(&conn, sql);
            let full_scans: Vec<_> = plan
                .iter()
                .filter(|step| step.starts_with("SCAN") && !step.contains("INDEX") && *step != "SCAN chain")
                .collect();
            assert!(full_scans.is_empty(), "{sql}\n{plan:#?}");
        }
    }
}
