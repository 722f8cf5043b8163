//! The admin API under `/api/admin/`: JSON in and out, problem+json errors, and every route
//! but login behind a credential (an admin token, the master key, or an API key with `admin`;
//! the gate of `http::access` checks it before a handler reads or parses anything).

pub(crate) mod analytics;
pub(crate) mod catalog;
pub(crate) mod curation;
pub(crate) mod session;
pub(crate) mod stock;

use crate::http::Route;

/// Every admin API route with the ordinary body limit (the OpenAPI test checks each is
/// documented).
pub(super) fn routes() -> Vec<Route> {
    [session::routes(), catalog::routes(), stock::routes(), analytics::routes(), curation::routes()].concat()
}

/// The admin API routes that take bodies up to [`crate::http::MAX_BULK_BODY_BYTES`].
pub(super) fn large_body_routes() -> Vec<Route> {
    stock::large_body_routes()
}
