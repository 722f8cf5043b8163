//! `POST /api/admin/login/` and `POST /api/admin/logout/`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;

use super::AdminSession;
use crate::app::AppState;
use crate::domain::Timestamp;
use crate::domain::catalog as input;
use crate::error::Result;
use crate::http::JsonBody;
use crate::http::admin::auth;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/admin/login/", post(login)).route("/api/admin/logout/", post(logout))
}

/// The answer to a successful login: the only time the token is ever shown.
#[derive(Debug, Serialize)]
pub(super) struct LoginResponse {
    pub token: String,
    pub token_type: &'static str,
    pub expires_at: Timestamp,
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    JsonBody(body): JsonBody,
) -> Result<Json<LoginResponse>> {
    let request = input::login(&body)?;
    let (token, expires_at) = auth::login(&state, client.ip(), request.username, request.password).await?;
    Ok(Json(LoginResponse { token: token.as_str().to_owned(), token_type: "Bearer", expires_at }))
}

async fn logout(session: AdminSession, State(state): State<AppState>) -> Result<StatusCode> {
    auth::logout(&state, session.token).await?;
    Ok(StatusCode::NO_CONTENT)
}
