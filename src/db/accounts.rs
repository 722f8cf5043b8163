//! Admin accounts: creating one (`aforro createsuperuser`), changing its password, and
//! finding one by name at login.

use rusqlite::{Connection, params};

use crate::db::optional;
use crate::domain::Timestamp;
use crate::domain::password::{check_new_password, hash_password};
use crate::error::{Error, Result};

/// An admin's id, as sessions refer to it.
pub type AdminId = i64;

/// What `createsuperuser` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuperuserOutcome {
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
