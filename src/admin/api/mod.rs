//! The admin API under `/api/admin/`: JSON in and out, problem+json errors, and every route
//! but login behind `Authorization: Bearer <token>` (the [`AdminSession`] extractor comes
//! first in each handler, so nothing is read or parsed for a caller without a session).

mod catalog;
mod session;
mod stock;

use axum::Router;

use crate::app::AppState;
use crate::domain::parse_positive_id;
use crate::error::{Error, Result};

pub use super::sessions::AdminSession;

pub fn router() -> Router<AppState> {
    Router::new().merge(session::router()).merge(catalog::router()).merge(stock::router())
}

/// An id from the path; anything that is not a positive integer names nothing (404).
fn path_id<T>(text: &str, what: &str, wrap: impl FnOnce(i64) -> T) -> Result<T> {
    parse_positive_id(text).map(wrap).ok_or_else(|| Error::NotFound(format!("{what} {text} does not exist")))
}
