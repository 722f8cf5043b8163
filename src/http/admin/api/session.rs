//! `POST /api/admin/login/` and `POST /api/admin/logout/`.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;

use crate::access::Caller;
use crate::app::AppState;
use crate::domain::Timestamp;
use crate::domain::catalog as input;
use crate::error::{Error, Result};
use crate::http::admin::auth;
use crate::http::openapi::admin_schemas::{
    AdminLoginRequest, AdminLoginResponse, AdminUnauthorized, BodyNotJson, BodyTooLarge,
};
use crate::http::openapi::schemas::{ProblemDoc, Unavailable};
use crate::http::{JsonBody, Route};

pub(super) fn routes() -> Vec<Route> {
    vec![Route::post("/api/admin/login/", login), Route::post("/api/admin/logout/", logout)]
}

/// The answer to a successful login: the only time the token is ever shown.
#[derive(Debug, Serialize)]
pub(crate) struct LoginResponse {
    pub token: String,
    pub token_type: &'static str,
    pub expires_at: Timestamp,
}

/// Checks a username and password and opens a session. Limited per (username, client
/// address): 5 attempts at once, then one every 3 minutes, counted before the password is
/// checked; a wait or a 503 when the process-wide bound on password checks is full. The answer
/// carries `Cache-Control: no-store`.
#[utoipa::path(post, path = "/api/admin/login/", tag = "admin", request_body = AdminLoginRequest,
    responses(
        (status = 200, description = "Signed in: the token, shown this once", body = AdminLoginResponse),
        (status = 400, description = "Invalid body", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, description = "Wrong username or password", body = ProblemDoc, content_type = "application/problem+json",
            headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = BodyNotJson),
        (status = 429, description = "Too many attempts for this username from this address", body = ProblemDoc,
            content_type = "application/problem+json",
            headers(("Retry-After" = u32, description = "Seconds until the next attempt is allowed"))),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn login(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    JsonBody(body): JsonBody,
) -> Result<impl IntoResponse> {
    let request = input::login(&body)?;
    let (token, expires_at) = auth::login(&state, client.ip(), request.username, request.password).await?;
    // A token is a password for its lifetime: no cache on the way may keep a copy.
    let no_store = [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))];
    Ok((no_store, Json(LoginResponse { token: token.as_str().to_owned(), token_type: "Bearer", expires_at })))
}

/// Ends the session whose token authenticates this request.
#[utoipa::path(post, path = "/api/admin/logout/", tag = "admin", security(("admin_token" = [])),
    responses(
        (status = 204, description = "Signed out: the token no longer works"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn logout(caller: Caller, State(state): State<AppState>) -> Result<StatusCode> {
    let Caller::Admin(session) = caller else {
        return Err(Error::Forbidden("only an admin session token can be signed out".to_owned()));
    };
    auth::logout(&state, session.token).await?;
    Ok(StatusCode::NO_CONTENT)
}
