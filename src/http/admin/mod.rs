//! The admin surfaces: the JSON API under `/api/admin/` and the server-rendered page under
//! `/admin/`. Their inputs are parsed by `domain::catalog` (one parser for the API's JSON and
//! the page's forms), their SQL is in `db` (`db::admin`: `listing`, `accounts`,
//! `sessions`, `history`; `db::store::catalog`), and every change is a named write of the single writer.
//!
//! # Layout
//! - [`auth`]: login, logout and the session check both surfaces share.
//! - `api`: the JSON routes (problem+json errors); `web`: the HTML page (cookie session, CSRF
//!   form tokens; its errors are HTML pages with real status codes).

pub(crate) mod api;
pub mod auth;
mod web;

use axum::Router;

use crate::app::AppState;
use crate::db::admin::history::Actor;
use crate::db::admin::sessions::AdminSession;
use crate::domain::parse_positive_id;
use crate::error::{Error, Result};

/// The admin JSON API's routes (errors as problem+json, like the public API).
pub fn api_routes() -> Vec<super::Route> {
    api::routes()
}

/// The admin JSON routes whose bodies may reach [`super::MAX_BULK_BODY_BYTES`] (bulk stock).
pub fn large_body_api_routes() -> Vec<super::Route> {
    api::large_body_routes()
}

/// The admin pages whose forms may reach [`super::MAX_BULK_BODY_BYTES`] (the bulk stock
/// upload), HTML like [`web_router`].
pub fn large_body_web_router() -> Router<AppState> {
    web::large_body_router()
}

/// The admin HTML page: outside the problem+json middleware, so a page with an error is an
/// HTML page with its real status code.
pub fn web_router() -> Router<AppState> {
    web::router()
}

/// An id from a path; anything that is not a positive integer names nothing (404).
fn path_id<T>(text: &str, what: &str, wrap: impl FnOnce(i64) -> T) -> Result<T> {
    parse_positive_id(text).map(wrap).ok_or_else(|| Error::NotFound(format!("{what} {text} does not exist")))
}

/// Who the history records for a change made in this session.
fn actor(session: &AdminSession) -> Actor {
    Actor { user_id: session.user_id, username: session.username.clone() }
}
