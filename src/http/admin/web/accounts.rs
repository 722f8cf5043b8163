//! Admin accounts: the list (with live sessions), changing your own password (the current one
//! first, its attempts limited like a login's; other sessions end), signing out your other sessions, and your account's history of
//! both (who, when, what: never a password or a token).

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};

use super::Result;
use super::layout::{self, FieldErrors, csrf_field, field};
use super::products::HISTORY_SHOWN;
use super::session::WebSession;
use super::{FormFields, redirect, signed_in_page};
use crate::app::AppState;
use crate::db::admin::accounts::{find_admin, list_admins};
use crate::db::admin::history::{ObjectType, history};
use crate::domain::Timestamp;
use crate::domain::password::{check_new_password, hash_password, verify_password};
use crate::error::Error;
use crate::http::QueryParams;
use crate::http::problem::retry_after_header;

const SECTION: &str = "/admin/accounts/";

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/accounts/", get(accounts_page))
        .route("/admin/accounts/password/", post(change_password))
        .route("/admin/accounts/sessions/", post(sign_out_others))
}

async fn accounts_page(session: WebSession, State(state): State<AppState>, query: QueryParams) -> Result<Markup> {
    let notice = match query.get("done") {
        Some("password") => Some("Password changed; your other sessions are signed out."),
        Some("sessions") => Some("Your other sessions are signed out."),
        _ => None,
    };
    render(&session, &state, notice, &FieldErrors::new()).await
}

async fn render(session: &WebSession, state: &AppState, notice: Option<&str>, errors: &FieldErrors) -> Result<Markup> {
    let user_id = session.0.user_id;
    let (admins, log) = state
        .reads
        .run(move |conn| {
            Ok((list_admins(conn, Timestamp::now())?, history(conn, ObjectType::Admin, user_id, HISTORY_SHOWN)?))
        })
        .await?;
    let csrf = session.csrf_token();
    let viewer = layout::Viewer { username: &session.0.username, csrf: &csrf };
    let body = html! {
        (layout::notice(notice, ""))
        div.table-wrap { table id="accounts" {
            thead { tr { th.num { "id" } th { "username" } th { "created" } th.num { "live sessions" } } }
            tbody { @for admin in &admins {
                tr { td.num { (admin.id) } td { (admin.username) @if admin.id == session.0.user_id { " " span.badge { "you" } } }
                     td { (admin.created_at.to_rfc3339()) } td.num { (admin.live_sessions) } }
            } }
        } }
        p.muted { "New accounts are made with " code { "aforro createsuperuser" } "." }
        h2 { "Change your password" }
        form.card method="post" action="/admin/accounts/password/" novalidate {
            (csrf_field(&viewer))
            (field("current_password", "Current password", errors, &html! { input type="password" name="current_password" id="current_password" autocomplete="current-password" required; }))
            (field("new_password", "New password", errors, &html! { input type="password" name="new_password" id="new_password" autocomplete="new-password" required minlength="8"; }))
            (field("new_password_again", "New password again", errors, &html! { input type="password" name="new_password_again" id="new_password_again" autocomplete="new-password" required; }))
            div.actions { button type="submit" id="change-password" { "Change password" } }
        }
        h2 { "Sessions" }
        form.card method="post" action="/admin/accounts/sessions/" {
            (csrf_field(&viewer))
            p { "Sign out everywhere except this browser." }
            button.secondary type="submit" id="sign-out-others" { "Sign out other sessions" }
        }
        (layout::history(&log))
    };
    Ok(signed_in_page(session, "Accounts", SECTION, &body))
}

/// The current password is checked like a login's: attempts limited per (account, client
/// address), the Argon2 work under the process-wide bound.
async fn change_password(
    session: WebSession,
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    form: FormFields,
) -> Result<Response> {
    let fields = session.accept(form)?;
    if let Err(wait) = state.password_change_throttle.attempt(&session.0.username, client.ip()) {
        let message = "too many attempts to change this account's password from this address; retry later";
        return refused(&session, &state, StatusCode::TOO_MANY_REQUESTS, message, wait).await;
    }
    let get = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let (current, new, again) = (get("current_password"), get("new_password"), get("new_password_again"));
    let username = session.0.username.clone();
    let stored = state.reads.run(move |conn| find_admin(conn, &username)).await?;
    let checked = state.password_checks.run(move || {
        let mut errors = FieldErrors::new();
        if !stored.is_some_and(|(_, hash)| verify_password(&current, &hash)) {
            errors.insert("current_password".into(), "is not your current password".into());
        }
        if let Err(message) = check_new_password(&new) {
            errors.insert("new_password".into(), message);
        } else if new != again {
            errors.insert("new_password_again".into(), "does not match the new password".into());
        }
        if errors.is_empty() { hash_password(&new).map(Ok) } else { Ok(Err(errors)) }
    });
    let checked = match checked.await {
        Ok(checked) => checked?,
        Err(Error::Unavailable(message)) => {
            return refused(&session, &state, StatusCode::SERVICE_UNAVAILABLE, &message, Duration::from_secs(1)).await;
        }
        Err(other) => return Err(other.into()),
    };
    match checked {
        Ok(hash) => {
            state.writer.change_password_as(session.actor(), hash, session.0.token.sha256()).await?;
            Ok(redirect("/admin/accounts/?done=password"))
        }
        Err(errors) => Ok((StatusCode::BAD_REQUEST, render(&session, &state, None, &errors).await?).into_response()),
    }
}

/// The page again with `message` beside the current password, answered `status` with
/// `Retry-After`.
async fn refused(
    session: &WebSession,
    state: &AppState,
    status: StatusCode,
    message: &str,
    wait: Duration,
) -> Result<Response> {
    let errors = FieldErrors::from([("current_password".to_owned(), message.to_owned())]);
    let mut response = (status, render(session, state, None, &errors).await?).into_response();
    response.headers_mut().insert(header::RETRY_AFTER, retry_after_header(wait));
    Ok(response)
}

async fn sign_out_others(session: WebSession, State(state): State<AppState>, form: FormFields) -> Result<Response> {
    session.accept(form)?;
    state.writer.end_other_sessions_as(session.actor(), session.0.token.sha256()).await?;
    Ok(redirect("/admin/accounts/?done=sessions"))
}
