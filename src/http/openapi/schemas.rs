//! The request and response shapes of the contract as OpenAPI schemas and parameters.
//!
//! These types describe the wire format only; the handlers serialise the domain and db types.
//! The two cannot drift apart unnoticed: the OpenAPI test validates a real response of every
//! route against the schema documented here.

#![allow(dead_code)] // Fields are read by the schema derive, never by code.

use utoipa::{IntoParams, ToResponse, ToSchema};

/// An RFC 9457 problem: the body of every 4xx and 5xx (`application/problem+json`).
#[derive(ToSchema)]
#[schema(as = Problem)]
pub struct ProblemDoc {
    /// `about:blank` or a URI naming the problem type.
    #[schema(rename = "type", example = "about:blank")]
    kind: String,
    #[schema(example = "Bad Request")]
    title: String,
    #[schema(example = 400)]
    status: u16,
    detail: String,
    /// Field problems of a 400, one per bad field; a refused hold's (409) short lines, each
    /// also with `product_id`, `requested` and `available`.
    errors: Option<Vec<FieldErrorDoc>>,
    /// Only on the 409 of an order naming a reservation that is not `ACTIVE`.
    #[schema(pattern = "^(USED|RELEASED|EXPIRED)$")]
    reservation_status: Option<String>,
}

/// Every `503`: the concurrency limit is reached, the request timed out, or (`/readyz`) a part
/// of the service is not ready. Always carries `Retry-After`.
#[derive(ToResponse)]
#[response(
    description = "Overloaded, timed out or not ready; retry after `Retry-After` seconds",
    content_type = "application/problem+json",
    headers(("Retry-After" = u32, description = "Seconds to wait before retrying"))
)]
pub struct Unavailable(ProblemDoc);

#[derive(ToSchema)]
#[schema(as = FieldError)]
pub(crate) struct FieldErrorDoc {
    /// JSON path of the field, e.g. `items[1].quantity_requested`.
    field: String,
    message: String,
}

/// `POST /orders/` body.
#[derive(ToSchema)]
pub struct NewOrderRequest {
    #[schema(minimum = 1)]
    store_id: i64,
    /// 1 to 100 lines, each product at most once.
    #[schema(min_items = 1, max_items = 100)]
    items: Vec<OrderLineRequest>,
    /// Take this reservation's held stock: the lines must be exactly its lines.
    #[schema(minimum = 1)]
    reservation_id: Option<i64>,
}

/// `POST /reservations/` body.
#[derive(ToSchema)]
pub struct NewReservationRequest {
    #[schema(minimum = 1)]
    store_id: i64,
    /// 1 to 100 lines, each product at most once.
    #[schema(min_items = 1, max_items = 100)]
    items: Vec<ReservationItemDoc>,
    /// How long the hold lasts (default 900).
    #[schema(minimum = 60, maximum = 86400)]
    ttl_seconds: Option<i64>,
}

#[derive(ToSchema)]
#[schema(as = ReservationItem)]
pub(crate) struct ReservationItemDoc {
    #[schema(minimum = 1)]
    product_id: i64,
    #[schema(minimum = 1, maximum = 1_000_000)]
    quantity: i64,
}

/// A reservation (checkout hold): 201, `GET` and `DELETE /reservations/<id>/`.
#[derive(ToSchema)]
#[schema(as = Reservation)]
pub struct ReservationDoc {
    id: i64,
    store_id: i64,
    /// `EXPIRED` from `expires_at` on, whether or not the sweep has stored it.
    #[schema(pattern = "^(ACTIVE|USED|RELEASED|EXPIRED)$")]
    status: String,
    items: Vec<ReservationItemDoc>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    expires_at: String,
}

#[derive(ToSchema)]
pub(crate) struct OrderLineRequest {
    #[schema(minimum = 1)]
    product_id: i64,
    #[schema(minimum = 1, maximum = 1_000_000)]
    quantity_requested: i64,
}

#[derive(ToSchema)]
#[schema(as = OrderStatus)]
#[allow(clippy::upper_case_acronyms)]
pub(crate) enum OrderStatusDoc {
    PENDING,
    CONFIRMED,
    REJECTED,
    CANCELLED,
}

/// An order (201, 409 and `GET /orders/<id>/`).
#[derive(ToSchema)]
#[schema(as = Order)]
pub struct OrderDoc {
    id: i64,
    store_id: i64,
    status: OrderStatusDoc,
    #[schema(format = DateTime)]
    created_at: String,
    total_quantity: i64,
    items: Vec<OrderItemDoc>,
    /// The reservation whose held stock the order took, or null.
    reservation_id: Option<i64>,
    /// Only on a 409: the lines the store could not fill.
    errors: Option<Vec<ShortLineDoc>>,
    /// Only on `GET` of a confirmed order: its confirmation job.
    confirmation: Option<ConfirmationDoc>,
}

#[derive(ToSchema)]
#[schema(as = OrderItem)]
pub(crate) struct OrderItemDoc {
    product_id: i64,
    title: String,
    quantity_requested: i64,
}

#[derive(ToSchema)]
#[schema(as = ShortLine)]
pub(crate) struct ShortLineDoc {
    product_id: i64,
    requested: i64,
    available: i64,
}

#[derive(ToSchema)]
#[schema(as = Confirmation)]
pub(crate) struct ConfirmationDoc {
    #[schema(pattern = "^(queued|sent|failed)$")]
    status: String,
    attempts: i64,
    #[schema(format = DateTime)]
    sent_at: Option<String>,
}

#[derive(ToSchema)]
#[schema(as = StoreOrder)]
pub(crate) struct StoreOrderDoc {
    id: i64,
    status: OrderStatusDoc,
    #[schema(format = DateTime)]
    created_at: String,
    total_quantity: i64,
}

#[derive(ToSchema)]
#[schema(as = InventoryRow)]
pub(crate) struct InventoryRowDoc {
    product_id: i64,
    title: String,
    #[schema(pattern = r"^\d+\.\d{2}$", example = "12.50")]
    price: String,
    category: String,
    category_id: i64,
    /// On hand.
    quantity: i64,
    /// Held by active reservations.
    held: i64,
    /// `max(0, quantity - held)`.
    available: i64,
    /// At or below this many units on hand (`quantity`, not `available`) the row is low on
    /// stock (`low_stock=true`).
    low_stock_threshold: i64,
}

#[derive(ToSchema)]
#[schema(as = Product)]
pub(crate) struct SearchRowDoc {
    id: i64,
    title: String,
    description: String,
    #[schema(pattern = r"^\d+\.\d{2}$", example = "12.50")]
    price: String,
    category: String,
    category_id: i64,
    #[schema(format = DateTime)]
    created_at: String,
    /// Only when sorted by relevance: the BM25 part of the rank (the earlier ranking rules
    /// decide first).
    score: Option<f32>,
    /// Only with `store_id`: that store's stock.
    quantity: Option<i64>,
    /// Only with `highlight=true`.
    highlight: Option<HighlightDoc>,
    /// Only with `explain=true` and words in `q`.
    explain: Option<ExplainDoc>,
}

/// Why a result matched and ranked where it did.
#[derive(ToSchema)]
#[schema(as = Explain)]
pub struct ExplainDoc {
    /// Placed by a search rule's pin rather than by its words.
    pinned: bool,
    /// Each query word's best match on this product, in query order (ignored words, and
    /// dropped words the product lacks, are absent).
    words: Vec<WordExplainDoc>,
    /// The BM25 part of the rank; 0 when not sorted by relevance.
    bm25: f32,
}

/// One query word's best match on one product.
#[derive(ToSchema)]
#[schema(as = WordExplain)]
pub struct WordExplainDoc {
    /// The query word, folded.
    #[schema(example = "kettel")]
    word: String,
    /// The index term it matched (a stem match shows the stem).
    #[schema(example = "kettle")]
    term: String,
    #[schema(pattern = "^(exact|stem|synonym|prefix|typo)$")]
    how: String,
    #[schema(minimum = 0, maximum = 2)]
    typos: u8,
    #[schema(pattern = "^(title|category|description)$")]
    field: String,
}

#[derive(ToSchema)]
#[schema(as = Facets)]
pub(crate) struct FacetsDoc {
    category: Vec<CategoryFacetDoc>,
    price: PriceFacetDoc,
}

#[derive(ToSchema)]
#[schema(as = CategoryFacet)]
pub(crate) struct CategoryFacetDoc {
    id: i64,
    name: String,
    count: u64,
}

/// Lowest and highest price of the matches; `null` when nothing matches.
#[derive(ToSchema)]
#[schema(as = PriceFacet)]
pub struct PriceFacetDoc {
    #[schema(pattern = r"^\d+\.\d{2}$")]
    min: Option<String>,
    #[schema(pattern = r"^\d+\.\d{2}$")]
    max: Option<String>,
}

/// The DRF pagination envelope of a store's orders.
#[derive(ToSchema)]
pub struct StoreOrdersPage {
    count: i64,
    #[schema(format = "uri")]
    next: Option<String>,
    #[schema(format = "uri")]
    previous: Option<String>,
    results: Vec<StoreOrderDoc>,
}

/// The DRF pagination envelope of a store's inventory.
#[derive(ToSchema)]
pub struct InventoryPage {
    count: i64,
    #[schema(format = "uri")]
    next: Option<String>,
    #[schema(format = "uri")]
    previous: Option<String>,
    results: Vec<InventoryRowDoc>,
}

/// The pagination envelope plus facets computed over every match.
#[derive(ToSchema)]
pub struct SearchPage {
    count: i64,
    #[schema(format = "uri")]
    next: Option<String>,
    #[schema(format = "uri")]
    previous: Option<String>,
    results: Vec<SearchRowDoc>,
    facets: FacetsDoc,
    /// Only when `q` has words.
    #[schema(rename = "match")]
    match_info: Option<MatchDoc>,
}

/// The result's text, HTML-escaped, every matched word in `<mark>...</mark>`.
#[derive(ToSchema)]
#[schema(as = Highlight)]
pub struct HighlightDoc {
    title: String,
    /// Cropped to about 30 words around the first match, `…` where cut.
    description: String,
}

/// How `q` matched.
#[derive(ToSchema)]
#[schema(as = Match)]
pub struct MatchDoc {
    /// `all`: every word; `relaxed`: words were ignored or dropped.
    #[schema(pattern = "^(all|relaxed)$")]
    mode: String,
    /// The words dropped by relaxation, in query order.
    dropped: Vec<String>,
    /// The words that match no term of the catalog in any way, in query order.
    ignored: Vec<String>,
    /// `q`, ignored words left out, with each word that matched only through typos replaced
    /// by its most frequent matching term; null when none did or no match has every
    /// corrected term.
    did_you_mean: Option<String>,
    /// Each query word or phrase expanded through a synonym set → the synonyms that matched.
    synonyms: std::collections::BTreeMap<String, Vec<String>>,
    /// The search rules applied, in name order.
    rules: Vec<String>,
}

/// Up to 10 distinct titles, best first.
#[derive(ToSchema)]
pub struct Suggestions {
    #[schema(max_items = 10)]
    results: Vec<String>,
    /// Only with `queries=true` (then always, possibly empty): up to 5 past searches of the
    /// last 30 days (as of the last flush of the search analytics) starting with `q`'s words,
    /// its last word a prefix, that found something the last time and were searched at least
    /// 3 times; most searched first.
    #[schema(max_items = 5)]
    queries: Option<Vec<String>>,
}

#[derive(ToSchema)]
pub(crate) struct Status {
    #[schema(example = "ok")]
    status: String,
}

/// `GET /readyz` when ready.
#[derive(ToSchema)]
pub struct Readiness {
    #[schema(example = "ok")]
    status: String,
    /// `primary`, or `replica` for `serve --read-replica`.
    #[schema(example = "replica")]
    role: String,
    /// Replicas only: how far their views trail the newest commit they have received.
    #[schema(example = 0)]
    lag_ms: Option<u64>,
    /// Derived views still being built (`autocomplete`, `browse orders`, `title order`);
    /// meanwhile listings answer from SQL with the same results.
    #[schema(example = json!(["autocomplete"]))]
    building: Vec<String>,
}

// The query patterns below describe exactly what the server accepts (schemathesis checks
// both directions: values matching are accepted, values not matching are refused).
// `[\t\n\u000b\f\r \u0085…\u3000]` is Rust's `char::is_whitespace`, which the server trims
// where a pattern allows it around the value; `[0-9]`, not `\d`, which is Unicode in Python.

/// `page` and `page_size` of every list endpoint.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1-based; a page past the end is 404.
    #[param(minimum = 1, maximum = 4_294_967_295_i64)]
    page: Option<i64>,
    /// Digits, at least 1; default 20; any larger than 100 (however many digits) is clamped to
    /// 100; 0 or non-numeric is 400.
    #[param(pattern = r"^[0-9]*[1-9][0-9]*$")]
    page_size: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StoreOrdersFilter {
    /// Only orders with this status: `PENDING`, `CONFIRMED`, `REJECTED` or `CANCELLED`, any
    /// case; empty is no filter.
    #[param(
        pattern = "^([Pp][Ee][Nn][Dd][Ii][Nn][Gg]|[Cc][Oo][Nn][Ff][Ii][Rr][Mm][Ee][Dd]|[Rr][Ee][Jj][Ee][Cc][Tt][Ee][Dd]|[Cc][Aa][Nn][Cc][Ee][Ll][Ll][Ee][Dd])?$"
    )]
    status: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct InventoryFilter {
    /// Title contains (case-insensitive); no control characters.
    #[param(pattern = r"^[^\u0000-\u001f\u007f]*$")]
    q: Option<String>,
    /// `true` (or `1`): available > 0; `false` (or `0`): available = 0; any case; empty is no
    /// filter.
    #[param(pattern = "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)?$")]
    in_stock: Option<String>,
    /// `true` (or `1`): quantity at or below the row's `low_stock_threshold` (the test of
    /// `inventory.low_stock`); `false` (or `0`): above it; any case; empty is no filter.
    #[param(pattern = "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)?$")]
    low_stock: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchParams {
    /// Free text, plain words (no query syntax). Every word must match (title, category name
    /// or description) as itself, its English stem, within its typo budget, or, for the last
    /// word, as a prefix; a word matching nothing in the catalog is ignored; when nothing
    /// matches, the most common word among those whose drop leaves a match is dropped.
    /// No control characters.
    #[param(pattern = r"^[^\u0000-\u001f\u007f]*$")]
    q: Option<String>,
    /// Category id or name (case-insensitive); unknown → no results. No control characters.
    #[param(pattern = r"^[^\u0000-\u001f\u007f]*$")]
    category: Option<String>,
    /// Decimal with at most two places, e.g. `10` or `10.50`; greater than `max_price` is 400;
    /// empty is no bound.
    #[param(
        pattern = r"^[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(0*[0-9]{1,16}(\.[0-9]{1,2})?)?[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    min_price: Option<String>,
    /// As `min_price`.
    #[param(
        pattern = r"^[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(0*[0-9]{1,16}(\.[0-9]{1,2})?)?[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    max_price: Option<String>,
    /// Only products this store carries, with its stock as `quantity`; unknown store → 404.
    #[param(minimum = 1)]
    store_id: Option<i64>,
    /// Stock > 0 (in `store_id`, or in any store): `true` or `1`, `false` or `0`, any case;
    /// empty is no filter.
    #[param(pattern = "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)?$")]
    in_stock: Option<String>,
    /// `relevance` (default with `q`), `price`, `-price`, `newest` (default without `q`);
    /// empty is the default.
    #[param(
        pattern = r"^[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(relevance|price|-price|newest)?[\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    sort: Option<String>,
    /// In-stock products first (in `store_id`, or in any store), `sort` within each group:
    /// `true` or `1`, `false` or `0`, any case; empty is `false`.
    #[param(pattern = "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)?$")]
    stock_first: Option<String>,
    /// Adds `highlight` to each result (matched words in `<mark>`): as `stock_first`.
    #[param(pattern = "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)?$")]
    highlight: Option<String>,
    /// Adds `explain` to each result (why it matched and ranked where it did): as
    /// `stock_first`.
    #[param(pattern = "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)?$")]
    explain: Option<String>,
    /// `false` keeps this search out of the search analytics (test scripts, monitoring
    /// probes, a storefront's searches as the shopper types): as `stock_first`, empty is
    /// `true`.
    #[param(pattern = "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)?$")]
    analytics: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SuggestParams {
    /// 3 to 100 characters after trimming whitespace; no control characters anywhere.
    #[param(
        pattern = r"^[ \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^\u0000-\u0020\u007f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f]{1,98}[^\u0000-\u0020\u007f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][ \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    q: String,
    /// Adds `queries`, popular past searches: `true` or `1`, `false` or `0`, any case; empty
    /// is `false`.
    #[param(pattern = "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|1|0)?$")]
    queries: Option<String>,
}
