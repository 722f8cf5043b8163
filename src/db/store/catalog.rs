//! The catalog's tables (categories, products, stores, inventory): the lookups, and every
//! change to them as a statement function its named write (`db::writer::writes`) runs, each
//! returning what it changed
//! ([`CommitEffects`]) so the search index, the stock view and the autocomplete map are
//! current before the response goes out.

use rusqlite::{Connection, params};

use super::movements;
use crate::db::optional;
use crate::db::records::{
    CommitEffects, InventoryRemoval, MovementReason, StockCause, StockChange, ThresholdChange, Written,
};
use crate::domain::catalog::{CategoryInput, MAX_QUANTITY, ProductFields, StockUpdate, StoreInput};
use crate::domain::{CategoryId, ProductId, StoreId, Timestamp};
use crate::error::{Error, Result};

/// Whether a store of that id exists (a store-scoped request on a missing one is a 404).
pub fn store_exists(conn: &Connection, store_id: StoreId) -> Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM stores WHERE id = ?1)")?;
    Ok(stmt.query_row([store_id], |row| row.get(0))?)
}

/// A product's title and the stock a store holds of it (0 when the store has no row for it),
/// or `None` when the product does not exist.
pub fn product_stock_in_store(
    conn: &Connection,
    store_id: StoreId,
    product_id: ProductId,
) -> Result<Option<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.title, COALESCE(i.quantity, 0)
           FROM products p
           LEFT JOIN inventory i ON i.product_id = p.id AND i.store_id = ?1
          WHERE p.id = ?2",
    )?;
    optional(stmt.query_row(params![store_id, product_id], |row| Ok((row.get(0)?, row.get(1)?))))
}

/// A product's title and the stock a store has *available* of it at `now` (on hand minus what
/// active reservations hold, [`held_at`], except `own_held`: what the asking order's own
/// reservation holds; never below 0; 0 when the store has no row for it), or `None` when the
/// product does not exist.
pub fn product_available_in_store(
    conn: &Connection,
    store_id: StoreId,
    product_id: ProductId,
    own_held: i64,
    now: Timestamp,
) -> Result<Option<(String, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT p.title, COALESCE(i.quantity, 0), COALESCE(i.held, 0)
           FROM products p
           LEFT JOIN inventory i ON i.product_id = p.id AND i.store_id = ?1
          WHERE p.id = ?2",
    )?;
    let found = optional(stmt.query_row(params![store_id, product_id], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
    }))?;
    let Some((title, quantity, held)) = found else {
        return Ok(None);
    };
    let held = held_at(conn, store_id, product_id, held, now)?;
    Ok(Some((title, available(quantity, held, own_held))))
}

/// What is available of `quantity` on hand when `held` is held, `own_held` of it by the asking
/// order's own reservation (contract: never below 0).
pub fn available(quantity: i64, held: i64, own_held: i64) -> i64 {
    (quantity - (held - own_held).max(0)).max(0)
}

/// What active reservations hold of a store's product at `now`, given its `inventory.held`:
/// the column, less the holds whose `expires_at` has come but which the expiry write has not
/// reached yet (contract: from `expires_at` on a hold counts for no writer). The second query
/// runs only when something is held, and reads only the few due reservations of the partial
/// index: an order pays nothing for holds on a product that has none.
pub fn held_at(conn: &Connection, store_id: StoreId, product_id: ProductId, held: i64, now: Timestamp) -> Result<i64> {
    if held <= 0 {
        return Ok(0);
    }
    let mut stmt = conn.prepare_cached(
        "SELECT COALESCE(SUM(ri.quantity), 0)
           FROM reservations r INDEXED BY reservations_active_expiry
           JOIN reservation_items ri ON ri.reservation_id = r.id
          WHERE r.status = 'ACTIVE' AND r.expires_at <= ?3 AND r.store_id = ?1 AND ri.product_id = ?2",
    )?;
    let due: i64 = stmt.query_row(params![store_id, product_id, now.micros], |row| row.get(0))?;
    Ok((held - due).max(0))
}

/// Takes `quantity` units of a product from a store if it has them *available* at `now` (see
/// [`product_available_in_store`]; `own_held`: what the order's own reservation holds of it),
/// answering the product's title and the row's low-stock threshold with them (an order line): a
/// [`Taken`] (its `remaining` is on hand), or `None` (nothing taken) when the store has no row for
/// the product or not enough units. A
/// read then a write by row id rather than one `UPDATE … RETURNING`: SQLite buffers returned
/// rows in a temporary B-tree and journals a returning statement, which cost the writer more
/// than the second lookup (`cargo bench --bench orders -- batch_1024`: 50.2 → 46.2 ms per 2,000
/// orders, 2026-11-30, `c1ccf58`; docs/performance.md, "Why the order path has no `RETURNING`").
/// Only the writer writes, so nothing changes between the two.
pub fn take_stock(
    conn: &Connection,
    store_id: StoreId,
    product_id: ProductId,
    quantity: i64,
    own_held: i64,
    now: Timestamp,
) -> Result<Option<Taken>> {
    let mut find = conn.prepare_cached(
        "SELECT i.id, i.quantity, i.held, p.title, i.low_stock_threshold
           FROM inventory i JOIN products p ON p.id = i.product_id
          WHERE i.store_id = ?1 AND i.product_id = ?2",
    )?;
    let found = find.query_row(params![store_id, product_id], |row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, i64>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, String>(3)?,
            row.get::<_, i64>(4)?,
        ))
    });
    let Some((row_id, on_hand, held, title, threshold)) = optional(found)? else {
        return Ok(None);
    };
    let held = held_at(conn, store_id, product_id, held, now)?;
    if available(on_hand, held, own_held) < quantity {
        return Ok(None);
    }
    let remaining = on_hand - quantity;
    conn.prepare_cached("UPDATE inventory SET quantity = ?2 WHERE id = ?1")?.execute(params![row_id, remaining])?;
    Ok(Some(Taken { remaining, title, threshold }))
}

/// What [`take_stock`] took from: the stock left, the product's title and the row's
/// low-stock threshold.
#[derive(Debug, Clone)]
pub struct Taken {
    /// Units left after the take.
    pub remaining: i64,
    /// The product's title.
    pub title: String,
    /// The row's low-stock threshold.
    pub threshold: i64,
}

/// Undoes a [`take_stock`] of the same write (an order that turned out short on a
/// later line): the row is there, since the take just changed it.
pub fn return_taken_stock(conn: &Connection, store_id: StoreId, product_id: ProductId, quantity: i64) -> Result<()> {
    let mut stmt =
        conn.prepare_cached("UPDATE inventory SET quantity = quantity + ?3 WHERE store_id = ?1 AND product_id = ?2")?;
    match stmt.execute(params![store_id, product_id, quantity])? {
        1 => Ok(()),
        changed => Err(Error::Invariant(format!("returning taken stock changed {changed} rows"))),
    }
}

/// Puts `quantity` units of a product back in a store (a cancelled order's line), creating the
/// inventory row if it is gone; returns the stock (before, after) and the row's low-stock
/// threshold.
pub fn return_stock(
    conn: &Connection,
    store_id: StoreId,
    product_id: ProductId,
    quantity: i64,
) -> Result<(i64, i64, i64)> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO inventory (store_id, product_id, quantity) VALUES (?1, ?2, ?3)
         ON CONFLICT (store_id, product_id) DO UPDATE SET quantity = quantity + excluded.quantity
         RETURNING quantity, low_stock_threshold",
    )?;
    let (after, threshold): (i64, i64) =
        stmt.query_row(params![store_id, product_id, quantity], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok((after - quantity, after, threshold))
}

/// The catalog watermark: changes whenever a product or category changes (see the triggers
/// in `0001_init.sql`). Derived data records it to know whether it is stale.
pub fn catalog_version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT version FROM catalog_version WHERE id = 1", [], |row| row.get(0))?)
}

/// Which database a catalog is and how far it has changed: derived data stamped with another
/// watermark is stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogWatermark {
    /// Random, fixed when the database was first migrated (`0004_catalog_lineage.sql`): two
    /// databases at the same version are still told apart.
    pub lineage: String,
    /// [`catalog_version`].
    pub version: i64,
}

/// The catalog's lineage and version as one read, to stamp derived data with.
pub fn catalog_watermark(conn: &Connection) -> Result<CatalogWatermark> {
    Ok(conn.query_row("SELECT lineage, version FROM catalog_version WHERE id = 1", [], |row| {
        Ok(CatalogWatermark { lineage: row.get(0)?, version: row.get(1)? })
    })?)
}

/// How many products the catalog holds.
pub fn count_products(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM products", [], |row| row.get(0))?)
}

/// Inserts a product and returns its id. Rejected by the database if the category does not
/// exist or the price is negative (foreign key and CHECK constraints).
pub fn insert_product(conn: &Connection, fields: &ProductFields, now: Timestamp) -> Result<ProductId> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO products (title, description, price_cents, category_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
    )?;
    Ok(stmt.query_row(
        params![fields.title, fields.description, fields.price_cents, fields.category_id, now.micros],
        |row| row.get(0),
    )?)
}

/// Replaces a product's fields; returns false when there is no such product.
pub fn update_product(conn: &Connection, product_id: ProductId, fields: &ProductFields) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "UPDATE products SET title = ?2, description = ?3, price_cents = ?4, category_id = ?5 WHERE id = ?1",
    )?;
    Ok(stmt.execute(params![product_id, fields.title, fields.description, fields.price_cents, fields.category_id])?
        == 1)
}

/// Creates a category (`None`) or renames one. Every product of a renamed category shows the
/// new name in search, so the search views are told.
pub(crate) fn save_category(
    conn: &Connection,
    id: Option<CategoryId>,
    input: &CategoryInput,
) -> Result<Written<CategoryId>> {
    let taken: Option<CategoryId> =
        optional(
            conn.query_row("SELECT id FROM categories WHERE name = ?1 COLLATE NOCASE", [&input.name], |row| row.get(0)),
        )?;
    if taken.is_some_and(|taken| Some(taken) != id) {
        return Err(Error::field("name", "a category with this name already exists"));
    }
    let id = match id {
        None => {
            conn.query_row("INSERT INTO categories (name) VALUES (?1) RETURNING id", [&input.name], |row| row.get(0))?
        }
        Some(id) if conn.execute("UPDATE categories SET name = ?2 WHERE id = ?1", params![id, input.name])? == 1 => id,
        Some(id) => return Err(Error::NotFound(format!("category {id} does not exist"))),
    };
    Ok(Written { value: id, effects: CommitEffects { categories_changed: true, ..CommitEffects::default() } })
}

/// Deletes an unused category. One that products still use is refused (409) rather than
/// cascaded: deleting products is a decision to take one product at a time.
pub(crate) fn delete_category(conn: &Connection, id: CategoryId) -> Result<Written<()>> {
    let products: i64 =
        conn.query_row("SELECT COUNT(*) FROM products WHERE category_id = ?1", [id], |row| row.get(0))?;
    if products > 0 {
        return Err(Error::Conflict(format!(
            "category {id} is used by {products} products; move or delete them first"
        )));
    }
    if conn.execute("DELETE FROM categories WHERE id = ?1", [id])? == 0 {
        return Err(Error::NotFound(format!("category {id} does not exist")));
    }
    Ok(Written { value: (), effects: CommitEffects { categories_changed: true, ..CommitEffects::default() } })
}

/// Creates a product (`None`) or replaces one's fields.
pub(crate) fn save_product(
    conn: &Connection,
    id: Option<ProductId>,
    fields: &ProductFields,
) -> Result<Written<ProductId>> {
    let category: Option<i64> =
        optional(conn.query_row("SELECT id FROM categories WHERE id = ?1", [fields.category_id], |row| row.get(0)))?;
    if category.is_none() {
        return Err(Error::field("category_id", "no such category"));
    }
    let id = match id {
        None => insert_product(conn, fields, Timestamp::now())?,
        Some(id) if update_product(conn, id, fields)? => id,
        Some(id) => return Err(Error::NotFound(format!("product {id} does not exist"))),
    };
    Ok(Written { value: id, effects: CommitEffects { changed_products: vec![id], ..CommitEffects::default() } })
}

/// Deletes a product with its inventory rows and their movements. A product that orders name is refused (409):
/// order history must keep its lines.
pub(crate) fn delete_product(conn: &Connection, id: ProductId) -> Result<Written<()>> {
    let ordered: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM product_order_lines WHERE product_id = ?1 AND lines > 0)",
        [id],
        |row| row.get(0),
    )?;
    if ordered {
        return Err(Error::Conflict(format!("product {id} appears in orders and cannot be deleted")));
    }
    movements::delete_product_movements(conn, id)?;
    let mut stmt = conn.prepare_cached("DELETE FROM inventory WHERE product_id = ?1 RETURNING store_id")?;
    let removed_inventory = stmt
        .query_map([id], |row| Ok(InventoryRemoval { store_id: row.get(0)?, product_id: id }))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if conn.execute("DELETE FROM products WHERE id = ?1", [id])? == 0 {
        return Err(Error::NotFound(format!("product {id} does not exist")));
    }
    let effects = CommitEffects { changed_products: vec![id], removed_inventory, ..CommitEffects::default() };
    Ok(Written { value: (), effects })
}

/// Creates a store (`None`) or replaces one's fields. No derived view holds store names, and
/// a store without inventory is simply absent from the stock view.
pub(crate) fn save_store(conn: &Connection, id: Option<StoreId>, input: &StoreInput) -> Result<Written<StoreId>> {
    let id = match id {
        None => conn.query_row(
            "INSERT INTO stores (name, location) VALUES (?1, ?2) RETURNING id",
            params![input.name, input.location],
            |row| row.get(0),
        )?,
        Some(id)
            if conn.execute(
                "UPDATE stores SET name = ?2, location = ?3 WHERE id = ?1",
                params![id, input.name, input.location],
            )? == 1 =>
        {
            id
        }
        Some(id) => return Err(Error::store_not_found(id)),
    };
    Ok(Written::quietly(id))
}

/// Deletes a store that has neither orders nor inventory (409 otherwise: both are history or
/// stock someone must decide about first).
pub(crate) fn delete_store(conn: &Connection, id: StoreId) -> Result<Written<()>> {
    let used: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM orders WHERE store_id = ?1) OR EXISTS (SELECT 1 FROM inventory WHERE store_id = ?1)",
        [id],
        |row| row.get(0),
    )?;
    if used {
        return Err(Error::Conflict(format!("store {id} has orders or inventory and cannot be deleted")));
    }
    if conn.execute("DELETE FROM stores WHERE id = ?1", [id])? == 0 {
        return Err(Error::store_not_found(id));
    }
    Ok(Written::quietly(()))
}

/// Sets or adjusts a store's stock of a product (creating the inventory row if needed) and
/// returns the new quantity, with its movement (reason from the kind of update, `actor` as the
/// caller names it). An adjustment below zero is refused (409), never clamped.
pub(crate) fn update_stock(
    conn: &Connection,
    store_id: StoreId,
    product_id: ProductId,
    update: StockUpdate,
    actor: Option<&str>,
) -> Result<Written<i64>> {
    if !store_exists(conn, store_id)? {
        return Err(Error::store_not_found(store_id));
    }
    let Some((current, threshold)) = stock_row(conn, store_id, product_id)? else {
        return Err(Error::NotFound(format!("product {product_id} does not exist")));
    };
    let (quantity, reason) = match update {
        StockUpdate::Set(quantity) => (quantity, MovementReason::Set),
        StockUpdate::Adjust(delta) => (current + delta, MovementReason::Adjust),
        StockUpdate::Restock(added) => (current + added, MovementReason::Restock),
    };
    if quantity < 0 {
        return Err(Error::Conflict(format!("the stock would become {quantity}; it holds {current}")));
    }
    if quantity > MAX_QUANTITY {
        return Err(Error::field("quantity", format!("the stock would exceed {MAX_QUANTITY}")));
    }
    let mut effects = CommitEffects::default();
    let cause = StockCause { reason, order_id: None, actor };
    write_quantity(conn, &mut effects, &cause, (store_id, product_id), (current, quantity), threshold)?;
    Ok(Written { value: quantity, effects })
}

/// Stores a quantity decided by the caller (`before` → `after`, the row created if missing)
/// with its movement and events. Writes nothing when the quantity stays.
pub(crate) fn write_quantity(
    conn: &Connection,
    effects: &mut CommitEffects,
    cause: &StockCause<'_>,
    (store_id, product_id): (StoreId, ProductId),
    (before, after): (i64, i64),
    threshold: i64,
) -> Result<()> {
    if before == after {
        // No movement; the row still exists afterwards (a set to 0 of a product the store did
        // not carry makes it carry it, as before the ledger).
        let created = conn
            .prepare_cached(
                "INSERT INTO inventory (store_id, product_id, quantity) VALUES (?1, ?2, ?3)
                 ON CONFLICT (store_id, product_id) DO NOTHING",
            )?
            .execute(params![store_id, product_id, after])?;
        if created == 1 {
            effects.stock_changes.push(StockChange { store_id, product_id, quantity: after });
        }
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO inventory (store_id, product_id, quantity) VALUES (?1, ?2, ?3)
         ON CONFLICT (store_id, product_id) DO UPDATE SET quantity = excluded.quantity",
    )?
    .execute(params![store_id, product_id, after])?;
    let change = StockChange { store_id, product_id, quantity: after };
    movements::stock_written(conn, effects, cause, before, change, threshold, Timestamp::now())
}

/// A product's stock in a store and the row's low-stock threshold (0 and the default when the
/// store has no row for it), or `None` when the product does not exist.
pub fn stock_row(conn: &Connection, store_id: StoreId, product_id: ProductId) -> Result<Option<(i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT COALESCE(i.quantity, 0), COALESCE(i.low_stock_threshold, ?3)
           FROM products p
           LEFT JOIN inventory i ON i.product_id = p.id AND i.store_id = ?1
          WHERE p.id = ?2",
    )?;
    optional(stmt.query_row(params![store_id, product_id, movements::DEFAULT_LOW_STOCK_THRESHOLD], |row| {
        Ok((row.get(0)?, row.get(1)?))
    }))
}

/// Creates a store's inventory row for a product at 0 if it has none (404 for an unknown
/// store or product), so a threshold can be set on it.
pub(crate) fn ensure_inventory_row(
    conn: &Connection,
    effects: &mut CommitEffects,
    store_id: StoreId,
    product_id: ProductId,
) -> Result<()> {
    if !store_exists(conn, store_id)? {
        return Err(Error::store_not_found(store_id));
    }
    let Some((current, threshold)) = stock_row(conn, store_id, product_id)? else {
        return Err(Error::NotFound(format!("product {product_id} does not exist")));
    };
    let cause = StockCause { reason: MovementReason::Set, order_id: None, actor: None };
    write_quantity(conn, effects, &cause, (store_id, product_id), (current, current), threshold)
}

/// Sets an inventory row's low-stock threshold; 404 when the store has no row for the product
/// (a threshold alone creates no row). Emits no event (contract). Returns the row's quantity.
pub(crate) fn set_low_stock_threshold(
    conn: &Connection,
    store_id: StoreId,
    product_id: ProductId,
    threshold: i64,
) -> Result<Written<i64>> {
    let mut stmt = conn.prepare_cached(
        "UPDATE inventory SET low_stock_threshold = ?3 WHERE store_id = ?1 AND product_id = ?2 RETURNING quantity",
    )?;
    let quantity: Option<i64> = optional(stmt.query_row(params![store_id, product_id, threshold], |row| row.get(0)))?;
    let Some(quantity) = quantity else {
        if !store_exists(conn, store_id)? {
            return Err(Error::store_not_found(store_id));
        }
        return Err(Error::NotFound(format!("store {store_id} has no inventory row for product {product_id}")));
    };
    let effects = CommitEffects {
        threshold_changes: vec![ThresholdChange { store_id, product_id, threshold }],
        ..CommitEffects::default()
    };
    Ok(Written { value: quantity, effects })
}
