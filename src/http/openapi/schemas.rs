//! The request and response shapes of the contract as OpenAPI schemas and parameters.
//!
//! These types describe the wire format only; the handlers serialise the domain and db types.
//! The two cannot drift apart unnoticed: the OpenAPI test validates a real response of every
//! route against the schema documented here.

#![allow(dead_code)] // Fields are read by the schema derive, never by code.

use utoipa::{IntoParams, ToSchema};

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
    /// Field problems of a 400, one per bad field.
    errors: Option<Vec<FieldErrorDoc>>,
}

#[derive(ToSchema)]
#[schema(as = FieldError)]
pub struct FieldErrorDoc {
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
}

#[derive(ToSchema)]
pub struct OrderLineRequest {
    #[schema(minimum = 1)]
    product_id: i64,
    #[schema(minimum = 1, maximum = 1_000_000)]
    quantity_requested: i64,
}

#[derive(ToSchema)]
#[schema(as = OrderStatus)]
#[allow(clippy::upper_case_acronyms)]
pub enum OrderStatusDoc {
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
    /// Only on a 409: the lines the store could not fill.
    errors: Option<Vec<ShortLineDoc>>,
    /// Only on `GET` of a confirmed order: its confirmation job.
    confirmation: Option<ConfirmationDoc>,
}

#[derive(ToSchema)]
#[schema(as = OrderItem)]
pub struct OrderItemDoc {
    product_id: i64,
    title: String,
    quantity_requested: i64,
}

#[derive(ToSchema)]
#[schema(as = ShortLine)]
pub struct ShortLineDoc {
    product_id: i64,
    requested: i64,
    available: i64,
}

#[derive(ToSchema)]
#[schema(as = Confirmation)]
pub struct ConfirmationDoc {
    #[schema(pattern = "^(queued|sent|failed)$")]
    status: String,
    attempts: i64,
    #[schema(format = DateTime)]
    sent_at: Option<String>,
}

#[derive(ToSchema)]
#[schema(as = StoreOrder)]
pub struct StoreOrderDoc {
    id: i64,
    status: OrderStatusDoc,
    #[schema(format = DateTime)]
    created_at: String,
    total_quantity: i64,
}

#[derive(ToSchema)]
#[schema(as = InventoryRow)]
pub struct InventoryRowDoc {
    product_id: i64,
    title: String,
    #[schema(pattern = r"^\d+\.\d{2}$", example = "12.50")]
    price: String,
    category: String,
    category_id: i64,
    quantity: i64,
}

#[derive(ToSchema)]
#[schema(as = Product)]
pub struct SearchRowDoc {
    id: i64,
    title: String,
    description: String,
    #[schema(pattern = r"^\d+\.\d{2}$", example = "12.50")]
    price: String,
    category: String,
    category_id: i64,
    #[schema(format = DateTime)]
    created_at: String,
    /// Only when sorted by relevance.
    score: Option<f32>,
    /// Only with `store_id`: that store's stock.
    quantity: Option<i64>,
}

#[derive(ToSchema)]
#[schema(as = Facets)]
pub struct FacetsDoc {
    category: Vec<CategoryFacetDoc>,
    price: PriceFacetDoc,
}

#[derive(ToSchema)]
#[schema(as = CategoryFacet)]
pub struct CategoryFacetDoc {
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
}

/// Up to 10 distinct titles, best first.
#[derive(ToSchema)]
pub struct Suggestions {
    #[schema(max_items = 10)]
    results: Vec<String>,
}

#[derive(ToSchema)]
pub struct Status {
    #[schema(example = "ok")]
    status: String,
}

/// `page` and `page_size` of every list endpoint.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1-based; a page past the end is 404.
    #[param(minimum = 1)]
    page: Option<u32>,
    /// Default 20; larger than 100 is clamped to 100; 0 or non-numeric is 400.
    #[param(minimum = 1)]
    page_size: Option<u32>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StoreOrdersFilter {
    /// Only orders with this status.
    status: Option<OrderStatusDoc>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InventoryFilter {
    /// Title contains (case-insensitive).
    q: Option<String>,
    /// `true`: quantity > 0; `false`: quantity = 0.
    in_stock: Option<bool>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Free text, plain words (no query syntax); relevance-ranked.
    q: Option<String>,
    /// Category id or name (case-insensitive); unknown → no results.
    category: Option<String>,
    /// Decimal, e.g. `10.00`; greater than `max_price` is 400.
    min_price: Option<String>,
    max_price: Option<String>,
    /// Only products this store carries, with its stock as `quantity`; unknown store → 404.
    #[param(minimum = 1)]
    store_id: Option<i64>,
    /// Stock > 0 (in `store_id`, or in any store).
    in_stock: Option<bool>,
    /// `relevance` (default with `q`), `price`, `-price`, `newest` (default without `q`).
    #[param(pattern = "^(relevance|price|-price|newest)$")]
    sort: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestParams {
    /// At least 3 characters after trimming.
    #[param(min_length = 3)]
    q: String,
}
