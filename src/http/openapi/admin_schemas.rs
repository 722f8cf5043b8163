//! The admin API's request and response shapes as OpenAPI schemas and parameters, and the
//! bearer security scheme its operations require.
//!
//! Like [`super::schemas`], these types describe the wire format only: the handlers parse
//! bodies with `domain::catalog` and serialise `db::admin::listing` rows. The patterns and
//! bounds below are exactly what that parser accepts (schemathesis checks both directions).

#![allow(dead_code)] // Fields are read by the schema derive, never by code.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, ToSchema};

/// The name operations refer to in their `security` requirement.
pub const ADMIN_TOKEN: &str = "admin_token";

/// Adds the admin token scheme to `components.securitySchemes`.
pub struct AdminTokenScheme;

impl Modify for AdminTokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "The token of `POST /api/admin/login/`, as `Authorization: Bearer <token>`; valid 12 hours \
                 or until `POST /api/admin/logout/`. Without a live token an admin operation answers 401 \
                 with `WWW-Authenticate: Bearer`.",
            ))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(ADMIN_TOKEN, SecurityScheme::Http(scheme));
    }
}

// Names, titles and usernames: no control character anywhere (U+0000–U+001F, U+007F: the
// contract's Conventions) and at least one character that is neither that nor whitespace in
// Rust's `char::is_whitespace` sense (the parser refuses a blank name after trimming).

/// `POST /api/admin/login/` body.
#[derive(ToSchema)]
pub struct AdminLoginRequest {
    /// Case-insensitive.
    #[schema(
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f]*[^\u0000-\u0020\u007f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f]*$"
    )]
    username: String,
    #[schema(min_length = 1)]
    password: String,
}

/// A new session's token: shown this once, stored only as its SHA-256.
#[derive(ToSchema)]
pub struct AdminLoginResponse {
    /// 64 hex digits (256 bits).
    #[schema(pattern = "^[0-9a-f]{64}$")]
    token: String,
    #[schema(pattern = "^Bearer$")]
    token_type: String,
    #[schema(format = DateTime)]
    expires_at: String,
}

/// A category to create or replace.
#[derive(ToSchema)]
pub struct CategoryBody {
    /// Unique (case-insensitively); trimmed.
    #[schema(
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f]*[^\u0000-\u0020\u007f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f]*$"
    )]
    name: String,
}

#[derive(ToSchema)]
pub(crate) struct AdminCategory {
    id: i64,
    name: String,
}

/// A store to create or replace.
#[derive(ToSchema)]
pub struct StoreBody {
    /// Trimmed.
    #[schema(
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f]*[^\u0000-\u0020\u007f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f]*$"
    )]
    name: String,
    /// Trimmed; absent or null is empty; no control characters.
    #[schema(max_length = 200, pattern = r"^[^\u0000-\u001f\u007f]*$")]
    location: Option<String>,
}

#[derive(ToSchema)]
pub(crate) struct AdminStore {
    id: i64,
    name: String,
    location: String,
}

/// A product to create or replace.
#[derive(ToSchema)]
pub struct ProductBody {
    /// Trimmed.
    #[schema(
        max_length = 200,
        pattern = r"^[^\u0000-\u001f\u007f]*[^\u0000-\u0020\u007f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f]*$"
    )]
    title: String,
    /// Trimmed; absent or null is empty; tab, LF and CR are the only control characters
    /// allowed.
    #[schema(max_length = 10_000, pattern = r"^[^\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]*$")]
    description: Option<String>,
    /// A decimal string with at most 16 digits before the point and two after it.
    #[schema(pattern = r"^0*[0-9]{1,16}(\.[0-9]{1,2})?$", example = "12.50")]
    price: String,
    /// An existing category (an unknown one is 400).
    #[schema(minimum = 1)]
    category_id: i64,
}

#[derive(ToSchema)]
pub(crate) struct AdminProduct {
    id: i64,
    title: String,
    description: String,
    #[schema(pattern = r"^[0-9]+\.[0-9]{2}$", example = "12.50")]
    price: String,
    category_id: i64,
    /// The category's name.
    category: String,
    #[schema(format = DateTime)]
    created_at: String,
}

/// `PUT …/inventory/<product>/`: the new quantity, the row's new low-stock threshold, or both
/// (a threshold alone needs the inventory row to exist; it emits no event).
#[derive(ToSchema)]
pub struct SetStockBody {
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    quantity: Option<i64>,
    #[schema(minimum = 0, maximum = 1_000_000_000)]
    low_stock_threshold: Option<i64>,
}

/// `POST …/adjust/`: added to the quantity (negative takes away; below zero is 409).
#[derive(ToSchema)]
pub struct AdjustStockBody {
    #[schema(minimum = -1_000_000_000, maximum = 1_000_000_000)]
    delta: i64,
}

/// `POST …/restock/`: added to the quantity.
#[derive(ToSchema)]
pub struct RestockBody {
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    quantity: i64,
}

/// A store's stock of a product after a change (`low_stock_threshold` only from `PUT`).
#[derive(ToSchema)]
pub struct StockLevel {
    store_id: i64,
    product_id: i64,
    quantity: i64,
    low_stock_threshold: Option<i64>,
}

/// Why a movement happened.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum MovementReasonDoc {
    /// An order took the units.
    Order,
    /// A cancelled order gave them back.
    Cancel,
    /// `POST …/restock/`.
    Restock,
    /// `POST …/adjust/`.
    Adjust,
    /// `PUT …/inventory/<product>/` or the admin pages.
    Set,
    /// A bulk update row.
    Bulk,
}

/// One change of a store's on-hand stock of a product. Each `quantity_after` is the previous
/// movement's plus `delta`; the newest equals the current quantity.
#[derive(ToSchema)]
pub struct MovementDoc {
    id: i64,
    store_id: i64,
    product_id: i64,
    delta: i64,
    quantity_after: i64,
    reason: MovementReasonDoc,
    order_id: Option<i64>,
    /// `admin:<username>`, `key:<key id>`, `master`, or null (open mode without an admin).
    actor: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
}

#[derive(ToSchema)]
pub(crate) struct AdminOrder {
    id: i64,
    store_id: i64,
    status: super::schemas::OrderStatusDoc,
    #[schema(format = DateTime)]
    created_at: String,
    total_quantity: i64,
}

/// The pagination envelope of an admin list.
#[derive(ToSchema)]
pub struct AdminPage<T> {
    count: i64,
    #[schema(format = "uri")]
    next: Option<String>,
    #[schema(format = "uri")]
    previous: Option<String>,
    results: Vec<T>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AdminProductsFilter {
    /// Title contains (case-insensitive, trimmed); empty is no filter; no control characters.
    #[param(pattern = r"^[^\u0000-\u001f\u007f]*$")]
    q: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AdminOrdersFilter {
    /// Only this store's orders: a positive integer (digits only); empty is no filter.
    #[param(pattern = "^(0*[1-9][0-9]{0,17})?$")]
    store: Option<String>,
    /// Only orders with this status: `PENDING`, `CONFIRMED`, `REJECTED` or `CANCELLED`, any
    /// case; empty is no filter.
    #[param(
        pattern = "^([Pp][Ee][Nn][Dd][Ii][Nn][Gg]|[Cc][Oo][Nn][Ff][Ii][Rr][Mm][Ee][Dd]|[Rr][Ee][Jj][Ee][Cc][Tt][Ee][Dd]|[Cc][Aa][Nn][Cc][Ee][Ll][Ll][Ee][Dd])?$"
    )]
    status: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchAnalyticsParams {
    /// `popular` (default: every query) or `no_results` (only queries whose last search found
    /// nothing); empty is the default.
    #[param(
        pattern = r"^[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(popular|no_results)?[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    kind: Option<String>,
    /// Days counted, today (UTC) and the days before: 1 to 90, default 7; empty is the default.
    #[param(
        pattern = r"^[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(0*([1-9]|[1-8][0-9]|90))?[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    days: Option<String>,
}

/// One query's searches over the days asked for.
#[derive(ToSchema)]
#[schema(as = SearchQueryStats)]
pub struct SearchQueryStats {
    /// The normalised query: folded words, single spaces, at most 8 words.
    #[schema(example = "red scarf")]
    q: String,
    searches: i64,
    /// Of them, those that found nothing.
    no_result_searches: i64,
    /// What its latest search found (`count`).
    last_count: i64,
    /// When its latest search was.
    #[schema(format = "date-time")]
    last_seen: String,
}

/// Every admin operation but login, without a live token.
#[derive(utoipa::ToResponse)]
#[response(
    description = "No live admin token: missing, malformed, unknown, expired or logged out",
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "`Bearer`"))
)]
pub struct AdminUnauthorized(super::schemas::ProblemDoc);

/// A body over 64 KiB.
#[derive(utoipa::ToResponse)]
#[response(description = "Body over 64 KiB", content_type = "application/problem+json")]
pub struct BodyTooLarge(super::schemas::ProblemDoc);

/// A body that is not `application/json`.
#[derive(utoipa::ToResponse)]
#[response(description = "Body not JSON", content_type = "application/problem+json")]
pub struct BodyNotJson(super::schemas::ProblemDoc);

/// A store's stock of a product.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct StockPath {
    /// Store id.
    store_id: i64,
    /// Product id.
    product_id: i64,
}

/// `POST /api/admin/stock/bulk/`: 1 to 10,000 rows applied in order in one transaction.
#[derive(ToSchema)]
pub struct BulkBody {
    /// `reject_everything` (default): any failed row is a 400 and nothing is applied;
    /// `reject_failed_rows`: the good rows are applied and the failed ones reported.
    #[schema(pattern = "^(reject_everything|reject_failed_rows)$")]
    error_policy: Option<String>,
    #[schema(min_items = 1, max_items = 10000)]
    rows: Vec<BulkRowDoc>,
}

/// One row: exactly one of `quantity` (sets on hand) and `delta` (adds to it; below zero fails
/// the row). Deserialize is derived only so that `serde(untagged)` (utoipa's `oneOf`) applies.
#[derive(ToSchema, serde::Deserialize)]
#[serde(untagged)]
pub enum BulkRowDoc {
    /// Sets the store's on-hand quantity of the product.
    Quantity {
        /// Store id.
        store_id: i64,
        /// Product id.
        product_id: i64,
        /// The new on-hand quantity.
        #[schema(minimum = 0, maximum = 1_000_000_000)]
        quantity: i64,
    },
    /// Adds to the store's on-hand quantity of the product (a row without one starts from 0).
    Delta {
        /// Store id.
        store_id: i64,
        /// Product id.
        product_id: i64,
        /// What to add (negative: take away).
        #[schema(minimum = -1_000_000_000, maximum = 1_000_000_000)]
        delta: i64,
    },
}

/// What a bulk update applied and, under `reject_failed_rows`, which rows failed.
#[derive(ToSchema)]
pub struct BulkResultDoc {
    applied: i64,
    failed: Vec<FailedRowDoc>,
}

/// A failed row: its index and its field errors (`rows[i].<member>`).
#[derive(ToSchema)]
pub struct FailedRowDoc {
    index: i64,
    errors: Vec<super::schemas::FieldErrorDoc>,
}
