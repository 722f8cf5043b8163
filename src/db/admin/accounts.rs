//! Admin accounts: creating one (`aforro createsuperuser`), changing its password, and
//! finding one by name at login.

use rusqlite::{Connection, params};

use crate::db::optional;
use crate::db::records::AdminId;
use crate::domain::Timestamp;
use crate::domain::password::{check_new_password, hash_password};
use crate::error::{Error, Result};

/// What `createsuperuser` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuperuserOutcome {
    /// A new account was made.
    Created,
    /// `--update`: the existing account got the new password and lost its sessions.
    PasswordChanged,
}

/// Creates the admin `username`, or with `update` sets the password of an existing one
/// (signing it out everywhere). Without `update`, an existing name is an error: silently
/// replacing someone's password is not what "create" means.
pub fn create_superuser(conn: &Connection, username: &str, password: &str, update: bool) -> Result<SuperuserOutcome> {
    let username = username.trim();
    if username.is_empty() || username.chars().count() > 150 {
        return Err(Error::field("username", "must be 1 to 150 characters"));
    }
    check_new_password(password).map_err(|message| Error::field("password", message))?;
    let hash = hash_password(password)?;
    match find_admin(conn, username)? {
        None => {
            conn.execute(
                "INSERT INTO admin_users (username, password_hash, created_at) VALUES (?1, ?2, ?3)",
                params![username, hash, Timestamp::now().micros],
            )?;
            Ok(SuperuserOutcome::Created)
        }
        Some(_) if !update => Err(Error::Conflict(format!(
            "the admin user {username:?} already exists; pass --update to change its password"
        ))),
        Some((id, _)) => {
            conn.execute("UPDATE admin_users SET password_hash = ?2 WHERE id = ?1", params![id, hash])?;
            conn.execute("DELETE FROM admin_sessions WHERE user_id = ?1", [id])?;
            Ok(SuperuserOutcome::PasswordChanged)
        }
    }
}

/// The admin named `username` (case-insensitively) and their password hash.
pub fn find_admin(conn: &Connection, username: &str) -> Result<Option<(AdminId, String)>> {
    let mut stmt =
        conn.prepare_cached("SELECT id, password_hash FROM admin_users WHERE username = ?1 COLLATE NOCASE")?;
    optional(stmt.query_row([username.trim()], |row| Ok((row.get(0)?, row.get(1)?))))
}

/// One admin account as the accounts page lists it.
#[derive(Debug, Clone)]
pub struct AdminRow {
    /// The account's id (sessions and history refer to it).
    pub id: AdminId,
    /// The name the admin signs in with.
    pub username: String,
    /// When the account was made.
    pub created_at: Timestamp,
    /// Sessions not yet expired.
    pub live_sessions: i64,
}

/// Every admin account by name (a shop has a handful).
pub fn list_admins(conn: &Connection, now: Timestamp) -> Result<Vec<AdminRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, u.username, u.created_at,
                (SELECT COUNT(*) FROM admin_sessions s WHERE s.user_id = u.id AND s.expires_at > ?1)
           FROM admin_users u ORDER BY u.username COLLATE NOCASE",
    )?;
    let rows = stmt.query_map([now.micros], |row| {
        Ok(AdminRow {
            id: row.get(0)?,
            username: row.get(1)?,
            created_at: Timestamp::from_micros(row.get(2)?),
            live_sessions: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Ends every session of `user_id` except the one holding `keep` (a SHA-256); returns how
/// many ended.
pub(crate) fn end_other_sessions(conn: &Connection, user_id: AdminId, keep: &[u8]) -> Result<usize> {
    Ok(conn.execute("DELETE FROM admin_sessions WHERE user_id = ?1 AND token_sha256 <> ?2", params![user_id, keep])?)
}

/// How many unexpired sessions `user_id` has.
pub(crate) fn live_sessions(conn: &Connection, user_id: AdminId) -> Result<i64> {
    Ok(conn.query_row(
        "SELECT COUNT(*) FROM admin_sessions WHERE user_id = ?1 AND expires_at > ?2",
        params![user_id, Timestamp::now().micros],
        |row| row.get(0),
    )?)
}

/// Sets an admin's password hash (checked and hashed by the caller).
pub(crate) fn set_password_hash(conn: &Connection, user_id: AdminId, hash: &str) -> Result<()> {
    conn.execute("UPDATE admin_users SET password_hash = ?2 WHERE id = ?1", params![user_id, hash])?;
    Ok(())
}
