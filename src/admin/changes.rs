//! The admin's catalog, store and inventory changes, as writes for the single writer: each
//! returns what it changed ([`CommitEffects`]) so the search index, the stock view and the
//! autocomplete map are current before the admin's response goes out.

use rusqlite::{Connection, params};

use super::input::{CategoryInput, MAX_QUANTITY, StockUpdate, StoreInput};
use crate::db::catalog::{self, ProductFields};
use crate::db::optional;
use crate::db::writer::{CommitEffects, InventoryRemoval, StockChange, Written};
use crate::domain::{CategoryId, ProductId, StoreId, Timestamp};
use crate::error::{Error, Result};

/// Creates a category (`None`) or renames one. Every product of a renamed category shows the
/// new name in search, so the search views are told.
pub fn save_category(conn: &Connection, id: Option<CategoryId>, input: &CategoryInput) -> Result<Written<CategoryId>> {
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
pub fn delete_category(conn: &Connection, id: CategoryId) -> Result<Written<()>> {
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
pub fn save_product(conn: &Connection, id: Option<ProductId>, fields: &ProductFields) -> Result<Written<ProductId>> {
    let category: Option<i64> =
        optional(conn.query_row("SELECT id FROM categories WHERE id = ?1", [fields.category_id], |row| row.get(0)))?;
    if category.is_none() {
        return Err(Error::field("category_id", "no such category"));
    }
    let id = match id {
        None => catalog::insert_product(conn, fields, Timestamp::now())?,
        Some(id) if catalog::update_product(conn, id, fields)? => id,
        Some(id) => return Err(Error::NotFound(format!("product {id} does not exist"))),
    };
    Ok(Written { value: id, effects: CommitEffects { changed_products: vec![id], ..CommitEffects::default() } })
}

/// Deletes a product and its inventory rows. A product that orders name is refused (409):
/// order history must keep its lines.
pub fn delete_product(conn: &Connection, id: ProductId) -> Result<Written<()>> {
    let ordered: bool =
        conn.query_row("SELECT EXISTS (SELECT 1 FROM order_items WHERE product_id = ?1)", [id], |row| row.get(0))?;
    if ordered {
        return Err(Error::Conflict(format!("product {id} appears in orders and cannot be deleted")));
    }
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
pub fn save_store(conn: &Connection, id: Option<StoreId>, input: &StoreInput) -> Result<Written<StoreId>> {
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
        Some(id) => return Err(Error::NotFound(format!("store {id} does not exist"))),
    };
    Ok(Written::quietly(id))
}

/// Deletes a store that has neither orders nor inventory (409 otherwise: both are history or
/// stock someone must decide about first).
pub fn delete_store(conn: &Connection, id: StoreId) -> Result<Written<()>> {
    let used: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM orders WHERE store_id = ?1) OR EXISTS (SELECT 1 FROM inventory WHERE store_id = ?1)",
        [id],
        |row| row.get(0),
    )?;
    if used {
        return Err(Error::Conflict(format!("store {id} has orders or inventory and cannot be deleted")));
    }
    if conn.execute("DELETE FROM stores WHERE id = ?1", [id])? == 0 {
        return Err(Error::NotFound(format!("store {id} does not exist")));
    }
    Ok(Written::quietly(()))
}

/// Sets or adjusts a store's stock of a product (creating the inventory row if needed) and
/// returns the new quantity. An adjustment below zero is refused (409), never clamped.
pub fn update_stock(
    conn: &Connection,
    store_id: StoreId,
    product_id: ProductId,
    update: StockUpdate,
) -> Result<Written<i64>> {
    if !catalog::store_exists(conn, store_id)? {
        return Err(Error::NotFound(format!("store {store_id} does not exist")));
    }
    let Some((_, current)) = catalog::product_stock_in_store(conn, store_id, product_id)? else {
        return Err(Error::NotFound(format!("product {product_id} does not exist")));
    };
    let quantity = match update {
        StockUpdate::Set(quantity) => quantity,
        StockUpdate::Adjust(delta) => current + delta,
    };
    if quantity < 0 {
        return Err(Error::Conflict(format!("the stock would become {quantity}; it holds {current}")));
    }
    if quantity > MAX_QUANTITY {
        return Err(Error::field("quantity", format!("the stock would exceed {MAX_QUANTITY}")));
    }
    conn.prepare_cached(
        "INSERT INTO inventory (store_id, product_id, quantity) VALUES (?1, ?2, ?3)
         ON CONFLICT (store_id, product_id) DO UPDATE SET quantity = excluded.quantity",
    )?
    .execute(params![store_id, product_id, quantity])?;
    let change = StockChange { store_id, product_id, quantity };
    Ok(Written { value: quantity, effects: CommitEffects { stock_changes: vec![change], ..CommitEffects::default() } })
}
