//! The `api_keys` table: API keys as the contract shows them (never their secrets, which are
//! kept only as SHA-256), and the generation a server polls to see a change made beside it.

use rusqlite::{Connection, Row, params};
use serde_json::Value;

use super::history::{Actor, ObjectType, record_snapshots};
use crate::db::optional;
pub use crate::db::records::{ApiKeyId, ApiKeyRecord, HashedKey};
use crate::domain::access::{Actions, ApiKeyPatch, ApiKeySecret, NewApiKey, RateLimit, StoreScope};
use crate::domain::{PageRequest, StoreId, Timestamp};
use crate::error::{Error, Result};

const COLUMNS: &str = "id, name, description, prefix, actions, store_ids, expires_at, rate_per_second, rate_burst, \
                       created_at, last_used_at";

fn record_from_row(row: &Row<'_>) -> rusqlite::Result<(ApiKeyRecord, String, Option<String>)> {
    let rate = match (row.get::<_, Option<u32>>(7)?, row.get::<_, Option<u32>>(8)?) {
        (Some(per_second), Some(burst)) => Some(RateLimit { per_second, burst }),
        _ => None,
    };
    let record = ApiKeyRecord {
        id: ApiKeyId(row.get(0)?),
        name: row.get(1)?,
        description: row.get(2)?,
        prefix: row.get(3)?,
        actions: Actions::default(),
        stores: StoreScope::Every,
        expires_at: row.get::<_, Option<i64>>(6)?.map(Timestamp::from_micros),
        rate_limit: rate,
        created_at: Timestamp::from_micros(row.get(9)?),
        last_used_at: row.get::<_, Option<i64>>(10)?.map(Timestamp::from_micros),
    };
    Ok((record, row.get(4)?, row.get(5)?))
}

/// Completes a row's record with its JSON columns.
fn with_reach((mut record, actions, stores): (ApiKeyRecord, String, Option<String>)) -> Result<ApiKeyRecord> {
    let invariant = |error: serde_json::Error| Error::Invariant(format!("api key {}: {error}", record.id.0));
    let names: Vec<String> = serde_json::from_str(&actions).map_err(invariant)?;
    let actions = Actions::from_names(names.iter().map(String::as_str))?;
    let stores = match stores {
        None => StoreScope::Every,
        Some(text) => {
            let ids: Vec<i64> = serde_json::from_str(&text).map_err(invariant)?;
            StoreScope::Only(ids.into_iter().map(StoreId).collect())
        }
    };
    record.actions = actions;
    record.stores = stores;
    Ok(record)
}

fn stores_column(stores: &StoreScope) -> Option<String> {
    match stores {
        StoreScope::Every => None,
        StoreScope::Only(_) => Some(stores.to_json().to_string()),
    }
}

/// Stores a new key whose secret is `secret`; returns it as listed.
pub fn insert_key(conn: &Connection, key: &NewApiKey, secret: &ApiKeySecret, now: Timestamp) -> Result<ApiKeyRecord> {
    let actions = Value::from(key.actions.names()).to_string();
    conn.prepare_cached(
        "INSERT INTO api_keys (name, description, prefix, secret_sha256, actions, store_ids, expires_at,
                               rate_per_second, rate_burst, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        key.name,
        key.description,
        secret.prefix(),
        secret.sha256().to_vec(),
        actions,
        stores_column(&key.stores),
        key.expires_at.map(|at| at.micros),
        key.rate_limit.map(|rate| rate.per_second),
        key.rate_limit.map(|rate| rate.burst),
        now.micros
    ])?;
    let id = ApiKeyId(conn.last_insert_rowid());
    find_key(conn, id)?.ok_or_else(|| Error::Invariant("a key just inserted is missing".into()))
}

/// The key `id`, if it exists.
pub fn find_key(conn: &Connection, id: ApiKeyId) -> Result<Option<ApiKeyRecord>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?1"))?;
    optional(stmt.query_row([id.0], record_from_row))?.map(with_reach).transpose()
}

/// One page of keys, newest first, and how many there are.
pub fn list_keys(conn: &Connection, page: &PageRequest) -> Result<(i64, Vec<ApiKeyRecord>)> {
    let count: i64 = conn.prepare_cached("SELECT COUNT(*) FROM api_keys")?.query_row([], |row| row.get(0))?;
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM api_keys ORDER BY id DESC LIMIT ?1 OFFSET ?2"))?;
    let rows = stmt.query_map(params![page.limit(), page.offset()], record_from_row)?;
    let keys = rows.map(|row| with_reach(row?)).collect::<Result<Vec<_>>>()?;
    Ok((count, keys))
}

/// Applies `patch` to key `id`; `None` when there is no such key.
pub fn update_key(conn: &Connection, id: ApiKeyId, patch: &ApiKeyPatch) -> Result<Option<ApiKeyRecord>> {
    let Some(mut key) = find_key(conn, id)? else { return Ok(None) };
    if let Some(name) = &patch.name {
        key.name.clone_from(name);
    }
    if let Some(description) = &patch.description {
        key.description.clone_from(description);
    }
    if let Some(expires_at) = patch.expires_at {
        key.expires_at = expires_at;
    }
    if let Some(rate_limit) = patch.rate_limit {
        key.rate_limit = rate_limit;
    }
    conn.prepare_cached(
        "UPDATE api_keys SET name = ?2, description = ?3, expires_at = ?4, rate_per_second = ?5, rate_burst = ?6
          WHERE id = ?1",
    )?
    .execute(params![
        id.0,
        key.name,
        key.description,
        key.expires_at.map(|at| at.micros),
        key.rate_limit.map(|rate| rate.per_second),
        key.rate_limit.map(|rate| rate.burst)
    ])?;
    Ok(Some(key))
}

/// Deletes key `id`; whether there was one.
pub fn delete_key(conn: &Connection, id: ApiKeyId) -> Result<bool> {
    Ok(conn.prepare_cached("DELETE FROM api_keys WHERE id = ?1")?.execute([id.0])? > 0)
}

/// The generation every change a server must apply moves (`last_used_at` aside).
pub fn key_generation(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT generation FROM api_key_generation WHERE id = 1")?
        .query_row([], |row| row.get(0))?)
}

/// Every key with its secret's hash, and the generation they were read at (one read
/// transaction, so the two agree).
pub fn load_every_key(conn: &Connection) -> Result<(i64, Vec<HashedKey>)> {
    let tx = conn.unchecked_transaction()?;
    let generation = key_generation(&tx)?;
    let mut stmt = tx.prepare_cached(&format!("SELECT {COLUMNS}, secret_sha256 FROM api_keys"))?;
    let rows = stmt.query_map([], |row| Ok((record_from_row(row)?, row.get::<_, Vec<u8>>(11)?)))?;
    let mut keys = Vec::new();
    for row in rows {
        let (record, hash) = row?;
        let hash: [u8; 32] =
            hash.try_into().map_err(|_| Error::Invariant("a stored key hash is not 32 bytes".into()))?;
        keys.push((hash, with_reach(record)?));
    }
    drop(stmt);
    tx.finish()?;
    Ok((generation, keys))
}

/// Records when keys were last used (one statement per key, one transaction for all).
pub fn record_key_uses(conn: &Connection, uses: &[(ApiKeyId, Timestamp)]) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at < ?2)",
    )?;
    for (id, at) in uses {
        stmt.execute(params![id.0, at.micros])?;
    }
    Ok(())
}

/// Creates a key with a fresh secret, recorded in the history by `actor`: the key and its
/// secret (shown once).
pub fn create(conn: &Connection, actor: &Actor, key: &NewApiKey) -> Result<(ApiKeyRecord, ApiKeySecret)> {
    let secret = ApiKeySecret::generate();
    let record = insert_key(conn, key, &secret, Timestamp::now())?;
    record_snapshots(conn, actor, ObjectType::ApiKey, record.id.0, None, Some(&snapshot(&record)?))?;
    Ok((record, secret))
}

/// Applies `patch` to key `id`, recorded in the history (404 when there is none).
pub fn update(conn: &Connection, actor: &Actor, id: ApiKeyId, patch: &ApiKeyPatch) -> Result<ApiKeyRecord> {
    let before = find_key(conn, id)?.ok_or_else(|| key_not_found(id))?;
    let after = update_key(conn, id, patch)?.ok_or_else(|| key_not_found(id))?;
    record_snapshots(conn, actor, ObjectType::ApiKey, id.0, Some(&snapshot(&before)?), Some(&snapshot(&after)?))?;
    Ok(after)
}

/// Revokes key `id` by deleting it, recorded in the history (404 when there is none, so a
/// repeat is 404).
pub fn revoke(conn: &Connection, actor: &Actor, id: ApiKeyId) -> Result<()> {
    let before = find_key(conn, id)?.ok_or_else(|| key_not_found(id))?;
    delete_key(conn, id)?;
    record_snapshots(conn, actor, ObjectType::ApiKey, id.0, Some(&snapshot(&before)?), None)
}

/// A key as the history records it (its last use moves with use, not with a change).
fn snapshot(key: &ApiKeyRecord) -> Result<Value> {
    let mut value = serde_json::to_value(key)?;
    if let Some(object) = value.as_object_mut() {
        object.remove("last_used_at");
    }
    Ok(value)
}

/// The 404 of a key id that names no key.
pub fn key_not_found(id: ApiKeyId) -> Error {
    Error::NotFound(format!("API key {} does not exist", id.0))
}
