//! The admin's change history (Django's `LogEntry`): who changed which object when, and each
//! touched field before and after. Every admin write (`db::writer::writes`) records its entry
//! here, on the same connection inside the same savepoint as the change, so both commit or
//! neither does.

use rusqlite::{Connection, params};
use serde::Serialize;
use serde_json::{Map, Value};

use super::listing;
use crate::db::optional;
use crate::db::records::{AdminId, Written};
use crate::domain::{CategoryId, ProductId, StoreId, Timestamp};
use crate::error::{Error, Result};

/// Who makes a change: the signed-in admin.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The admin's account id (kept in the history even after the account is gone).
    pub user_id: AdminId,
    /// The admin's name at the time of the change.
    pub username: String,
}

impl Actor {
    /// Who the stock ledger records for this actor's changes: `admin:<username>` for a signed-in
    /// admin, `master` and `key:<id>` as the access layer names them (see
    /// `access::Caller::actor`), and `None` for anyone else (open mode without an admin, the CLI).
    pub fn stock_actor(&self) -> Option<String> {
        if self.user_id > 0 {
            Some(format!("admin:{}", self.username))
        } else if self.username == "master" || self.username.starts_with("key:") {
            Some(self.username.clone())
        } else {
            None
        }
    }
}

/// The kinds of object the history covers (the `object_type` CHECK in `0008_admin_history.sql`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    /// A category was created, renamed or deleted.
    Category,
    /// A product (or its stock in a store) changed.
    Product,
    /// A store was created, edited or deleted.
    Store,
    /// A failed job was put back in the queue.
    Job,
    /// An order was cancelled.
    Order,
    /// An admin account: its password changes and sign-outs (never the password or a token).
    Admin,
    /// An API key was created, edited or revoked (never its secret).
    ApiKey,
    /// A synonym set was created, changed or deleted.
    SynonymSet,
    /// A search rule was created, changed or deleted.
    SearchRule,
}

impl ObjectType {
    /// The name the `object_type` column stores.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Category => "category",
            Self::Product => "product",
            Self::Store => "store",
            Self::Job => "job",
            Self::Order => "order",
            Self::Admin => "admin",
            Self::ApiKey => "api_key",
            Self::SynonymSet => "synonym_set",
            Self::SearchRule => "search_rule",
        }
    }
}

/// One recorded change.
#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    /// The entry's id (increasing: newest is highest).
    pub id: i64,
    /// Who made the change.
    pub username: String,
    /// `create`, `change` or `delete`.
    pub action: String,
    /// Field name, value before, value after (`null` when the object did not exist).
    pub changes: Vec<(String, Value, Value)>,
    /// When the change committed.
    pub created_at: Timestamp,
}

/// Fields that no admin edits and so are no part of a change.
const UNEDITED_FIELDS: [&str; 2] = ["id", "created_at"];

/// The object as its admin page shows it, or `None` when it does not exist.
fn snapshot(conn: &Connection, object: ObjectType, id: i64) -> Result<Option<Value>> {
    let found = match object {
        ObjectType::Category => listing::category(conn, CategoryId(id)).map(serde_json::to_value),
        ObjectType::Product => listing::product(conn, ProductId(id)).map(serde_json::to_value),
        ObjectType::Store => listing::store(conn, StoreId(id)).map(serde_json::to_value),
        ObjectType::Job
        | ObjectType::Order
        | ObjectType::Admin
        | ObjectType::ApiKey
        | ObjectType::SynonymSet
        | ObjectType::SearchRule => {
            return Err(Error::Invariant("jobs, orders, accounts and keys are recorded by their own write".into()));
        }
    };
    match found {
        Ok(value) => Ok(Some(value.map_err(|error| Error::Invariant(error.to_string()))?)),
        Err(Error::NotFound(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Every field whose value differs between `before` and `after`.
fn diff(before: Option<&Value>, after: Option<&Value>) -> Map<String, Value> {
    let empty = Map::new();
    let before = before.and_then(Value::as_object).unwrap_or(&empty);
    let after = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut names: Vec<&String> = before.keys().chain(after.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|name| !UNEDITED_FIELDS.contains(&name.as_str()))
        .filter_map(|name| {
            let (old, new) = (before.get(name).unwrap_or(&Value::Null), after.get(name).unwrap_or(&Value::Null));
            (old != new).then(|| (name.clone(), Value::Array(vec![old.clone(), new.clone()])))
        })
        .collect()
}

/// Records the change of an object its own write snapshots (`None`: it did not exist before,
/// or no longer does).
pub(crate) fn record_snapshots(
    conn: &Connection,
    actor: &Actor,
    object: ObjectType,
    id: i64,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<()> {
    let action = match (before, after) {
        (None, _) => "create",
        (Some(_), Some(_)) => "change",
        (Some(_), None) => "delete",
    };
    record(conn, actor, object, id, action, diff(before, after))
}

/// Writes one entry. A save that changed nothing records nothing.
pub(crate) fn record(
    conn: &Connection,
    actor: &Actor,
    object: ObjectType,
    id: i64,
    action: &str,
    changes: Map<String, Value>,
) -> Result<()> {
    if changes.is_empty() && action == "change" {
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO admin_log (user_id, username, object_type, object_id, action, changes, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        actor.user_id,
        actor.username,
        object.as_str(),
        id,
        action,
        Value::Object(changes).to_string(),
        Timestamp::now().micros
    ])?;
    Ok(())
}

/// Runs `change` on `object` (`id` `None`: a create, whose id `id_of` reads from the result)
/// and records the difference between the object before and after it.
pub(crate) fn logged<T>(
    conn: &Connection,
    actor: &Actor,
    object: ObjectType,
    id: Option<i64>,
    change: impl FnOnce(&Connection) -> Result<Written<T>>,
    id_of: impl FnOnce(&T) -> i64,
) -> Result<Written<T>> {
    let before = match id {
        Some(id) => snapshot(conn, object, id)?,
        None => None,
    };
    let written = change(conn)?;
    let id = id.unwrap_or_else(|| id_of(&written.value));
    let after = snapshot(conn, object, id)?;
    let action = match (&before, &after) {
        (None, _) => "create",
        (Some(_), Some(_)) => "change",
        (Some(_), None) => "delete",
    };
    record(conn, actor, object, id, action, diff(before.as_ref(), after.as_ref()))?;
    Ok(written)
}

/// An object's history, newest first (at most `limit` entries).
pub fn history(conn: &Connection, object: ObjectType, id: i64, limit: i64) -> Result<Vec<LogEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, username, action, changes, created_at FROM admin_log
          WHERE object_type = ?1 AND object_id = ?2 ORDER BY id DESC LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![object.as_str(), id, limit], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get::<_, String>(3)?, row.get(4)?))
        })?
        .map(|row| {
            let (id, username, action, changes, created_at) = row?;
            let changes: Map<String, Value> =
                serde_json::from_str(&changes).map_err(|error| Error::Invariant(format!("admin_log {id}: {error}")))?;
            let changes = changes
                .into_iter()
                .map(|(field, pair)| {
                    let (before, after) = match pair {
                        Value::Array(mut pair) if pair.len() == 2 => {
                            let after = pair.pop().unwrap_or_default();
                            (pair.pop().unwrap_or_default(), after)
                        }
                        other => (Value::Null, other),
                    };
                    (field, before, after)
                })
                .collect();
            Ok(LogEntry { id, username, action, changes, created_at: Timestamp::from_micros(created_at) })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(rows)
}

/// A store's stock of a product as a one-field object, for the product's history.
pub(crate) fn stock_field(conn: &Connection, store_id: StoreId, product_id: ProductId) -> Result<(String, Value)> {
    let store = listing::store(conn, store_id)?;
    let quantity: Option<i64> = optional(conn.query_row(
        "SELECT quantity FROM inventory WHERE store_id = ?1 AND product_id = ?2",
        params![store_id, product_id],
        |row| row.get(0),
    ))?;
    Ok((format!("stock at {} (store {store_id})", store.name), quantity.map_or(Value::Null, Value::from)))
}
