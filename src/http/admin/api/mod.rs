//! The admin API under `/api/admin/`: JSON in and out, problem+json errors, and every route
//! but login behind `Authorization: Bearer <token>` (the [`AdminSession`] extractor comes
//! first in each handler, so nothing is read or parsed for a caller without a session).

mod catalog;
mod session;
mod stock;

use axum::Router;

use super::{actor, path_id};
use crate::app::AppState;

pub(super) use crate::db::sessions::AdminSession;

pub(super) fn router() -> Router<AppState> {
    Router::new().merge(session::router()).merge(catalog::router()).merge(stock::router())
}
