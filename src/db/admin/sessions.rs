//! Admin sessions: opaque 256-bit tokens handed out once at login, stored only as their
//! SHA-256, valid until an expiry. The API takes them as `Authorization: Bearer`, the web
//! page as a cookie; both check the same table.

use std::time::Duration;

use rusqlite::{Connection, params};

use crate::db::optional;
use crate::db::records::AdminId;
use crate::domain::{SessionToken, Timestamp};
use crate::error::Result;

/// How long a session lasts from login: a working day, then log in again.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 60 * 60);

/// A signed-in admin, as the handlers see them.
#[derive(Debug, Clone)]
pub struct AdminSession {
    /// The admin's account id.
    pub user_id: AdminId,
    /// The admin's name, for the page header and the history.
    pub username: String,
    /// The session's token (its hash is what the table stores).
    pub token: SessionToken,
}

/// Stores a new session for `user_id` and forgets expired ones (so the table stays small
/// without a sweeper). Returns the expiry.
pub(crate) fn insert_session(
    conn: &Connection,
    token: &SessionToken,
    user_id: AdminId,
    now: Timestamp,
) -> Result<Timestamp> {
    let expires_at =
        Timestamp::from_micros(now.micros + i64::try_from(SESSION_TTL.as_micros()).expect("12 hours in µs fit an i64"));
    conn.execute("DELETE FROM admin_sessions WHERE expires_at <= ?1", [now.micros])?;
    conn.execute(
        "INSERT INTO admin_sessions (token_sha256, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![token.sha256(), user_id, now.micros, expires_at.micros],
    )?;
    Ok(expires_at)
}

/// The live session holding `token`, if any (unknown and expired tokens alike give `None`).
pub fn find_session(conn: &Connection, token: &SessionToken, now: Timestamp) -> Result<Option<AdminSession>> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, u.username
           FROM admin_sessions s JOIN admin_users u ON u.id = s.user_id
          WHERE s.token_sha256 = ?1 AND s.expires_at > ?2",
    )?;
    optional(stmt.query_row(params![token.sha256(), now.micros], |row| {
        Ok(AdminSession { user_id: row.get(0)?, username: row.get(1)?, token: token.clone() })
    }))
}

/// Ends a session (logout). Ending one that is already gone is not an error.
pub(crate) fn delete_session(conn: &Connection, token: &SessionToken) -> Result<()> {
    conn.execute("DELETE FROM admin_sessions WHERE token_sha256 = ?1", [token.sha256()])?;
    Ok(())
}
