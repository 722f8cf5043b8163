//! Administration: admin accounts and sessions, the admin API under `/api/admin/` and the
//! server-rendered page under `/admin/`.
//!
//! # Layout
//! - [`password`]: Argon2id hashing; [`accounts`]: `createsuperuser` and the login lookup;
//!   [`sessions`]: hashed opaque tokens with an expiry; [`auth`]: login, logout and the
//!   session check both surfaces share.
//! - [`input`]: request bodies parsed into typed inputs with per-field errors.
//! - [`changes`]: every catalog, store and inventory change as a write for the single writer,
//!   with the effects that keep search, the stock view and autocomplete current.
//! - [`listing`]: the reads both surfaces show.
//! - `api`: the JSON routes; `web`: the HTML page (cookie session, CSRF form tokens).

mod api;
pub mod auth;
pub mod listing;
mod web;

use axum::Router;

use crate::app::AppState;
use crate::domain::parse_positive_id;
use crate::error::{Error, Result};

/// Every admin route, API and page.
pub fn router() -> Router<AppState> {
    Router::new().merge(api::router()).merge(web::router())
}

/// An id from a path; anything that is not a positive integer names nothing (404).
fn path_id<T>(text: &str, what: &str, wrap: impl FnOnce(i64) -> T) -> Result<T> {
    parse_positive_id(text).map(wrap).ok_or_else(|| Error::NotFound(format!("{what} {text} does not exist")))
}
