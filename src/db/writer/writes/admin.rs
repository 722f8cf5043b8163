//! The admin's named writes: the catalog's edits, stock, a failed job's retry and an order's
//! cancel as an admin makes them (each with its history entry in the same savepoint), and the
//! admin's own password and sessions.

use std::collections::HashMap;

use rusqlite::Connection;
use serde_json::{Map, Value};

use crate::db::admin::history::{Actor, ObjectType, logged, record, stock_field};
use crate::db::admin::{accounts, listing, sessions};
use crate::db::outbox::jobs;
use crate::db::records::{AdminId, CommitEffects, OrderBody, Written};
use crate::db::store::{bulk, catalog, orders};
use crate::db::writer::WriterHandle;
use crate::domain::catalog::{CategoryInput, ProductFields, StockEdit, StockUpdate, StoreInput};
use crate::domain::stock::{BulkOutcome, BulkUpdate};
use crate::domain::{CategoryId, OrderId, OrderStatus, ProductId, SessionToken, StoreId, Timestamp};
use crate::error::Result;

/// The catalog's writes as the admin makes them: each is the catalog's statement function
/// (`db::store::catalog`) plus its history entry, in one savepoint of the writer's batch.
impl WriterHandle {
    /// Creates a category (`None`) or renames one, recorded in its history.
    pub async fn save_category_as(
        &self,
        actor: Actor,
        id: Option<CategoryId>,
        input: CategoryInput,
    ) -> Result<CategoryId> {
        self.write(move |conn| {
            let change = |conn: &Connection| catalog::save_category(conn, id, &input);
            logged(conn, &actor, ObjectType::Category, id.map(|id| id.0), change, |id| id.0)
        })
        .await
    }

    /// Deletes an unused category, recorded in its history.
    pub async fn delete_category_as(&self, actor: Actor, id: CategoryId) -> Result<()> {
        self.write(move |conn| {
            logged(conn, &actor, ObjectType::Category, Some(id.0), |conn| catalog::delete_category(conn, id), |_| id.0)
        })
        .await
    }

    /// Creates a product (`None`) or replaces its fields (404 if it does not exist), recorded in
    /// its history. Resolves once search and autocomplete show the change.
    pub async fn save_product_as(
        &self,
        actor: Actor,
        id: Option<ProductId>,
        fields: ProductFields,
    ) -> Result<ProductId> {
        self.write(move |conn| {
            let change = |conn: &Connection| catalog::save_product(conn, id, &fields);
            logged(conn, &actor, ObjectType::Product, id.map(|id| id.0), change, |id| id.0)
        })
        .await
    }

    /// Deletes a product no order names, with its inventory, recorded in its history.
    pub async fn delete_product_as(&self, actor: Actor, id: ProductId) -> Result<()> {
        self.write(move |conn| {
            logged(conn, &actor, ObjectType::Product, Some(id.0), |conn| catalog::delete_product(conn, id), |_| id.0)
        })
        .await
    }

    /// Creates a store (`None`) or replaces its fields, recorded in its history.
    pub async fn save_store_as(&self, actor: Actor, id: Option<StoreId>, input: StoreInput) -> Result<StoreId> {
        self.write(move |conn| {
            let change = |conn: &Connection| catalog::save_store(conn, id, &input);
            logged(conn, &actor, ObjectType::Store, id.map(|id| id.0), change, |id| id.0)
        })
        .await
    }

    /// Deletes a store without orders or inventory, recorded in its history.
    pub async fn delete_store_as(&self, actor: Actor, id: StoreId) -> Result<()> {
        self.write(move |conn| {
            logged(conn, &actor, ObjectType::Store, Some(id.0), |conn| catalog::delete_store(conn, id), |_| id.0)
        })
        .await
    }

    /// Sets or adjusts a store's stock of a product, recorded in the product's history.
    pub async fn update_stock_as(
        &self,
        actor: Actor,
        store_id: StoreId,
        product_id: ProductId,
        update: StockUpdate,
    ) -> Result<i64> {
        self.write(move |conn| {
            let (field, before) = stock_field(conn, store_id, product_id)?;
            let written = catalog::update_stock(conn, store_id, product_id, update, actor.stock_actor().as_deref())?;
            let (_, after) = stock_field(conn, store_id, product_id)?;
            let mut changes = Map::new();
            changes.insert(field, Value::Array(vec![before, after]));
            record(conn, &actor, ObjectType::Product, product_id.0, "change", changes)?;
            Ok(written)
        })
        .await
    }

    /// `PUT …/inventory/<product>/`: sets the row's low-stock threshold and/or its quantity
    /// (the threshold first, so a quantity set with it is judged against it), recorded in the
    /// product's history. A threshold alone needs the row to exist (404). Returns the quantity
    /// and the threshold.
    pub async fn edit_stock_as(
        &self,
        actor: Actor,
        store_id: StoreId,
        product_id: ProductId,
        edit: StockEdit,
    ) -> Result<(i64, i64)> {
        self.write(move |conn| {
            let mut changes = Map::new();
            let mut effects = CommitEffects::default();
            let mut quantity = None;
            if let Some(threshold) = edit.low_stock_threshold {
                let before = catalog::stock_row(conn, store_id, product_id)?.map(|(_, threshold)| threshold);
                if edit.quantity.is_some() {
                    // With a quantity the row may not exist yet: create it at 0 (the quantity
                    // set next then moves from 0, as a set on a missing row does).
                    catalog::ensure_inventory_row(conn, &mut effects, store_id, product_id)?;
                }
                let written = catalog::set_low_stock_threshold(conn, store_id, product_id, threshold)?;
                quantity = Some(written.value);
                effects.absorb(&written.effects);
                let label = format!("low stock threshold at store {store_id}");
                changes.insert(label, Value::Array(vec![before.into(), threshold.into()]));
            }
            if let Some(set) = edit.quantity {
                let (field, before) = stock_field(conn, store_id, product_id)?;
                let stock_actor = actor.stock_actor();
                let written =
                    catalog::update_stock(conn, store_id, product_id, StockUpdate::Set(set), stock_actor.as_deref())?;
                let (_, after) = stock_field(conn, store_id, product_id)?;
                changes.insert(field, Value::Array(vec![before, after]));
                quantity = Some(written.value);
                effects.absorb(&written.effects);
            }
            let (quantity, threshold) = catalog::stock_row(conn, store_id, product_id)?
                .filter(|_| quantity.is_some())
                .ok_or_else(|| crate::error::Error::Invariant("an edit changed no stock row".to_owned()))?;
            record(conn, &actor, ObjectType::Product, product_id.0, "change", changes)?;
            Ok(Written { value: (quantity, threshold), effects })
        })
        .await
    }

    /// Applies a bulk stock update in one transaction (see [`bulk::apply`]): its movements
    /// record `actor`. Resolves once search and listings hold every change.
    pub async fn bulk_update_stock(&self, actor: Option<String>, update: BulkUpdate) -> Result<BulkOutcome> {
        self.write(move |conn| bulk::apply(conn, &update, actor.as_deref())).await
    }

    /// [`Self::bulk_update_stock`] by a signed-in admin (the upload page): every quantity it
    /// changed is also recorded in its product's history, as a stock edit is.
    pub async fn bulk_update_stock_as(&self, actor: Actor, update: BulkUpdate) -> Result<BulkOutcome> {
        self.write(move |conn| {
            let (written, changes) = bulk::apply_listing_changes(conn, &update, actor.stock_actor().as_deref())?;
            let mut store_names: HashMap<StoreId, String> = HashMap::new();
            for (store_id, product_id, before, after) in changes {
                let name = match store_names.entry(store_id) {
                    std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(listing::store(conn, store_id)?.name)
                    }
                };
                let mut fields = Map::new();
                fields.insert(
                    format!("stock at {name} (store {store_id})"),
                    Value::Array(vec![before.into(), after.into()]),
                );
                record(conn, &actor, ObjectType::Product, product_id.0, "change", fields)?;
            }
            Ok(written)
        })
        .await
    }

    /// Puts a failed job back in the queue (false: no failed job has that id).
    pub async fn retry_job_as(&self, actor: Actor, job_id: i64) -> Result<bool> {
        self.write(move |conn| {
            let retried = jobs::retry_failed(conn, job_id, Timestamp::now())?;
            if retried {
                let mut changes = Map::new();
                changes.insert("state".into(), Value::Array(vec!["failed".into(), "queued".into()]));
                record(conn, &actor, ObjectType::Job, job_id, "change", changes)?;
            }
            // The workers wake for it rather than at their next poll.
            let effects = CommitEffects { enqueued_jobs: usize::from(retried), ..Default::default() };
            Ok(Written { value: retried, effects })
        })
        .await
    }

    /// Cancels an order (see [`orders::cancel_order`]), recorded in the order's history
    /// when it changed anything (cancelling a cancelled order changes nothing).
    pub async fn cancel_order_as(&self, actor: Actor, order_id: OrderId) -> Result<OrderBody> {
        self.write(move |conn| {
            let written = orders::cancel_order(conn, order_id, actor.stock_actor().as_deref(), Timestamp::now())?;
            // It queues `order.cancelled` exactly when it cancels; a repeat queues nothing.
            if written.effects.enqueued_jobs > 0 {
                let mut changes = Map::new();
                let (before, after) = (OrderStatus::Confirmed.as_str(), OrderStatus::Cancelled.as_str());
                changes.insert("status".into(), Value::Array(vec![before.into(), after.into()]));
                record(conn, &actor, ObjectType::Order, order_id.0, "change", changes)?;
            }
            Ok(written)
        })
        .await
    }
}

/// The admin's own account: password and sessions.
impl WriterHandle {
    /// Sets the signed-in admin's password hash (already checked and hashed by the caller:
    /// Argon2 never runs on the writer) and ends their other sessions, as Django does; the
    /// account's history records that the password changed (not what it is).
    pub async fn change_password_as(&self, actor: Actor, hash: String, keep_session: Vec<u8>) -> Result<()> {
        self.write(move |conn| {
            accounts::set_password_hash(conn, actor.user_id, &hash)?;
            let mut changes = Map::new();
            changes.insert("password".into(), Value::Array(vec!["old".into(), "new".into()]));
            end_other_sessions_logged(conn, &actor, &keep_session, changes)?;
            Ok(Written::quietly(()))
        })
        .await
    }

    /// Signs the admin out everywhere but the session holding `keep_session`, recorded in
    /// their account's history.
    pub async fn end_other_sessions_as(&self, actor: Actor, keep_session: Vec<u8>) -> Result<usize> {
        self.write(move |conn| {
            Ok(Written::quietly(end_other_sessions_logged(conn, &actor, &keep_session, Map::new())?))
        })
        .await
    }
}

/// The sessions' named writes.
impl WriterHandle {
    /// Opens a session for `user_id` holding `token`; returns its expiry.
    pub async fn open_session(&self, token: SessionToken, user_id: AdminId) -> Result<Timestamp> {
        self.write(move |conn| Ok(Written::quietly(sessions::insert_session(conn, &token, user_id, Timestamp::now())?)))
            .await
    }

    /// Ends the session holding `token` (logout).
    pub async fn close_session(&self, token: SessionToken) -> Result<()> {
        self.write(move |conn| Ok(Written::quietly(sessions::delete_session(conn, &token)?))).await
    }
}

/// Ends `actor`'s other sessions and records it in their account's history, with `also`
/// (other changes of the same write) first: the live sessions before and after, never a
/// token.
fn end_other_sessions_logged(
    conn: &Connection,
    actor: &Actor,
    keep: &[u8],
    mut also: Map<String, Value>,
) -> Result<usize> {
    let before = accounts::live_sessions(conn, actor.user_id)?;
    let ended = accounts::end_other_sessions(conn, actor.user_id, keep)?;
    also.insert(
        "live sessions".into(),
        Value::Array(vec![before.into(), accounts::live_sessions(conn, actor.user_id)?.into()]),
    );
    record(conn, actor, ObjectType::Admin, actor.user_id, "change", also)?;
    Ok(ended)
}
