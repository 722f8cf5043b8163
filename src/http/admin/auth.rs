//! Signing in and checking who is signed in: login (password → new session), logout, and
//! the session lookup both the API (Bearer token) and the page (cookie) use.

use std::net::IpAddr;
use std::sync::LazyLock;

use crate::app::AppState;
use crate::db::admin::accounts::find_admin;
use crate::db::admin::sessions::{AdminSession, find_session};
use crate::domain::SessionToken;
use crate::domain::Timestamp;
use crate::domain::password::{hash_password, verify_password};
use crate::error::{Error, Result};

/// Verified when the username is unknown, so a failed login takes as long either way and the
/// timing does not tell which names exist.
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| hash_password("decoy password nobody has").unwrap_or_default());

/// Checks a username and password from `client` and opens a session: the new token (shown
/// once) and its expiry. Wrong name and wrong password fail alike; past the attempts the
/// throttle allows for (username, client), 429 before the password is even checked; when
/// the process-wide bound on password checks stays full for a second, 503.
pub async fn login(
    state: &AppState,
    client: IpAddr,
    username: String,
    password: String,
) -> Result<(SessionToken, Timestamp)> {
    state.login_throttle.attempt(&username, client).map_err(|retry_after| Error::TooManyRequests { retry_after })?;
    let found = state.reads.run(move |conn| find_admin(conn, &username)).await?;
    // Argon2 takes tens of milliseconds of CPU and 19 MiB: never on an async worker, and never
    // more at once than the bound allows.
    let user_id = state
        .password_checks
        .run(move || match found {
            Some((id, hash)) => verify_password(&password, &hash).then_some(id),
            None => {
                verify_password(&password, &DECOY_HASH);
                None
            }
        })
        .await?
        .ok_or_else(|| Error::Unauthorized("wrong username or password".to_owned()))?;
    let token = SessionToken::generate();
    let expires_at = state.writer.open_session(token.clone(), user_id).await?;
    Ok((token, expires_at))
}

/// Ends the session holding `token`.
pub async fn logout(state: &AppState, token: SessionToken) -> Result<()> {
    state.writer.close_session(token).await
}

/// The live session for `token`, or 401.
pub async fn authenticate(state: &AppState, token: Option<SessionToken>) -> Result<AdminSession> {
    let unauthorized = || Error::Unauthorized("a valid admin token is required (Authorization: Bearer <token>)".into());
    let token = token.ok_or_else(unauthorized)?;
    state.reads.run(move |conn| find_session(conn, &token, Timestamp::now())).await?.ok_or_else(unauthorized)
}
