//! The admin API under `/api/admin/`: JSON in and out, problem+json errors, and every route
//! but login behind `Authorization: Bearer <token>` (the [`AdminSession`] extractor comes
//! first in each handler, so nothing is read or parsed for a caller without a session).

pub(crate) mod catalog;
pub(crate) mod session;
pub(crate) mod stock;

use super::actor;
use crate::http::Route;

pub(super) use crate::db::admin::sessions::AdminSession;

/// Every admin API route (the OpenAPI test checks each is documented).
pub(super) fn routes() -> Vec<Route> {
    [session::routes(), catalog::routes(), stock::routes()].concat()
}
