//! The `synonym_sets` and `search_rules` tables: each row a name and the definition as the
//! admin API shows it (JSON, parsed again by the domain's one parser on every read), and the
//! named statements that save, read, list and delete them, each change recorded in the
//! admin history in the same savepoint.

use rusqlite::{Connection, params};
use serde::Serialize;
use serde_json::Value;

use super::history::{Actor, ObjectType, record_snapshots};
use crate::db::optional;
use crate::domain::curation::{CurationName, MAX_SYNONYM_SETS, SearchRule, SynonymSet};
use crate::domain::{FieldError, PageRequest, ProductId, Timestamp};
use crate::error::{Error, Result};

/// Which of the two tables, with what its rows hold.
trait Curated: Serialize + Sized {
    const TABLE: &'static str;
    const OBJECT: ObjectType;
    const WHAT: &'static str;
    fn parse_row(name: &str, body: &Value) -> Result<Self>;
    fn name(&self) -> &CurationName;
}

impl Curated for SynonymSet {
    const TABLE: &'static str = "synonym_sets";
    const OBJECT: ObjectType = ObjectType::SynonymSet;
    const WHAT: &'static str = "synonym set";
    fn parse_row(name: &str, body: &Value) -> Result<Self> {
        Self::parse(name, body)
    }
    fn name(&self) -> &CurationName {
        &self.name
    }
}

impl Curated for SearchRule {
    const TABLE: &'static str = "search_rules";
    const OBJECT: ObjectType = ObjectType::SearchRule;
    const WHAT: &'static str = "search rule";
    fn parse_row(name: &str, body: &Value) -> Result<Self> {
        Self::parse(name, body)
    }
    fn name(&self) -> &CurationName {
        &self.name
    }
}

/// The stored definition of `name` and its row id.
fn find<T: Curated>(conn: &Connection, name: &str) -> Result<Option<(i64, T)>> {
    let sql = format!("SELECT id, body FROM {} WHERE name = ?1", T::TABLE);
    let row: Option<(i64, String)> =
        optional(conn.prepare_cached(&sql)?.query_row([name], |row| Ok((row.get(0)?, row.get(1)?))))?;
    row.map(|(id, body)| Ok((id, parsed::<T>(name, &body)?))).transpose()
}

fn parsed<T: Curated>(name: &str, body: &str) -> Result<T> {
    let invariant = |detail: String| Error::Invariant(format!("{} {name}: {detail}", T::WHAT));
    let value: Value = serde_json::from_str(body).map_err(|error| invariant(error.to_string()))?;
    T::parse_row(name, &value).map_err(|error| invariant(error.to_string()))
}

/// Every row of the table, by name.
fn every<T: Curated>(conn: &Connection) -> Result<Vec<T>> {
    let sql = format!("SELECT name, body FROM {} ORDER BY name", T::TABLE);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?;
    rows.map(|row| {
        let (name, body) = row?;
        parsed::<T>(&name, &body)
    })
    .collect()
}

/// One page by name, and how many there are.
fn page_of<T: Curated>(conn: &Connection, page: &PageRequest) -> Result<(i64, Vec<T>)> {
    let count: i64 =
        conn.prepare_cached(&format!("SELECT COUNT(*) FROM {}", T::TABLE))?.query_row([], |row| row.get(0))?;
    let sql = format!("SELECT name, body FROM {} ORDER BY name LIMIT ?1 OFFSET ?2", T::TABLE);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![page.limit(), page.offset()], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    let items = rows
        .map(|row| {
            let (name, body) = row?;
            parsed::<T>(&name, &body)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((count, items))
}

/// Creates or replaces `item` under its name, recorded in the history; whether it was new.
fn save<T: Curated>(conn: &Connection, actor: &Actor, item: &T) -> Result<bool> {
    let body = serde_json::to_value(item)?;
    let before = find::<T>(conn, item.name().as_str())?;
    let now = Timestamp::now().micros;
    let id = match &before {
        Some((id, _)) => {
            let sql = format!("UPDATE {} SET body = ?2, updated_at = ?3 WHERE id = ?1", T::TABLE);
            conn.prepare_cached(&sql)?.execute(params![id, body.to_string(), now])?;
            *id
        }
        None => {
            let sql = format!("INSERT INTO {} (name, body, updated_at) VALUES (?1, ?2, ?3)", T::TABLE);
            conn.prepare_cached(&sql)?.execute(params![item.name().as_str(), body.to_string(), now])?;
            conn.last_insert_rowid()
        }
    };
    let before = before.map(|(_, old)| serde_json::to_value(old)).transpose()?;
    record_snapshots(conn, actor, T::OBJECT, id, before.as_ref(), Some(&body))?;
    Ok(before.is_none())
}

/// Deletes `name`, recorded in the history (404 when there is none, so a repeat is 404).
fn delete<T: Curated>(conn: &Connection, actor: &Actor, name: &str) -> Result<()> {
    let (id, before) = find::<T>(conn, name)?.ok_or_else(|| not_found::<T>(name))?;
    conn.prepare_cached(&format!("DELETE FROM {} WHERE id = ?1", T::TABLE))?.execute([id])?;
    record_snapshots(conn, actor, T::OBJECT, id, Some(&serde_json::to_value(before)?), None)
}

fn not_found<T: Curated>(name: &str) -> Error {
    Error::NotFound(format!("{} {name} does not exist", T::WHAT))
}

/// The history id (row id) of `name`'s row, if it exists.
fn row_id<T: Curated>(conn: &Connection, name: &str) -> Result<Option<i64>> {
    Ok(find::<T>(conn, name)?.map(|(id, _)| id))
}

/// The generation every change to a set or rule moves (what a read replica polls).
pub fn curation_generation(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT generation FROM search_curation_generation WHERE id = 1")?
        .query_row([], |row| row.get(0))?)
}

// Synonym sets.

/// The set `name`, if it exists.
pub fn find_synonym_set(conn: &Connection, name: &str) -> Result<Option<SynonymSet>> {
    Ok(find::<SynonymSet>(conn, name)?.map(|(_, set)| set))
}

/// The history id of set `name`.
pub fn synonym_set_id(conn: &Connection, name: &str) -> Result<Option<i64>> {
    row_id::<SynonymSet>(conn, name)
}

/// Every set, by name (what search loads).
pub fn every_synonym_set(conn: &Connection) -> Result<Vec<SynonymSet>> {
    every(conn)
}

/// A page of sets by name, and how many there are.
pub fn list_synonym_sets(conn: &Connection, page: &PageRequest) -> Result<(i64, Vec<SynonymSet>)> {
    page_of(conn, page)
}

/// Creates or replaces a set (a new one only while fewer than 10,000 exist); whether it was new.
pub fn save_synonym_set(conn: &Connection, actor: &Actor, set: &SynonymSet) -> Result<bool> {
    if find::<SynonymSet>(conn, set.name.as_str())?.is_none() {
        let count: i64 = conn.prepare_cached("SELECT COUNT(*) FROM synonym_sets")?.query_row([], |row| row.get(0))?;
        if count >= MAX_SYNONYM_SETS {
            let message = format!("at most {MAX_SYNONYM_SETS} synonym sets may exist; delete one first");
            return Err(Error::Validation(vec![FieldError::new("name", message)]));
        }
    }
    save(conn, actor, set)
}

/// Deletes set `name` (404 when there is none).
pub fn delete_synonym_set(conn: &Connection, actor: &Actor, name: &str) -> Result<()> {
    delete::<SynonymSet>(conn, actor, name)
}

// Search rules.

/// The rule `name`, if it exists.
pub fn find_search_rule(conn: &Connection, name: &str) -> Result<Option<SearchRule>> {
    Ok(find::<SearchRule>(conn, name)?.map(|(_, rule)| rule))
}

/// The history id of rule `name`.
pub fn search_rule_id(conn: &Connection, name: &str) -> Result<Option<i64>> {
    row_id::<SearchRule>(conn, name)
}

/// Every rule, by name (what search loads).
pub fn every_search_rule(conn: &Connection) -> Result<Vec<SearchRule>> {
    every(conn)
}

/// A page of rules by name, and how many there are.
pub fn list_search_rules(conn: &Connection, page: &PageRequest) -> Result<(i64, Vec<SearchRule>)> {
    page_of(conn, page)
}

/// Creates or replaces a rule whose every product exists (else 400 naming the first unknown
/// one's field); whether it was new.
pub fn save_search_rule(conn: &Connection, actor: &Actor, rule: &SearchRule) -> Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM products WHERE id = ?1")?;
    let mut errors = Vec::new();
    let exists = |id: ProductId, stmt: &mut rusqlite::CachedStatement<'_>| -> Result<bool> {
        Ok(optional(stmt.query_row([id.0], |_| Ok(())))?.is_some())
    };
    for (i, pin) in rule.pin.iter().enumerate() {
        if !exists(pin.product_id, &mut stmt)? {
            errors.push(FieldError::new(
                format!("pin[{i}].product_id"),
                format!("product {} does not exist", pin.product_id.0),
            ));
        }
    }
    for (i, id) in rule.hide.iter().enumerate() {
        if !exists(*id, &mut stmt)? {
            errors.push(FieldError::new(format!("hide[{i}]"), format!("product {} does not exist", id.0)));
        }
    }
    drop(stmt);
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    save(conn, actor, rule)
}

/// Deletes rule `name` (404 when there is none).
pub fn delete_search_rule(conn: &Connection, actor: &Actor, name: &str) -> Result<()> {
    delete::<SearchRule>(conn, actor, name)
}

/// The 404 of a set name that names no set.
pub fn synonym_set_not_found(name: &str) -> Error {
    not_found::<SynonymSet>(name)
}

/// The 404 of a rule name that names no rule.
pub fn search_rule_not_found(name: &str) -> Error {
    not_found::<SearchRule>(name)
}
