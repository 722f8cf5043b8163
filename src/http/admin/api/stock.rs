//! Admin inventory changes (set with the low-stock threshold, adjust, restock), the stock
//! ledger's movements, the order list across stores, and cancelling an order.

use axum::Json;
use axum::extract::{Path, State};

use crate::access::Caller;
use crate::app::AppState;
use crate::db::admin::listing::{self as listing, OrderFilter, OrderRow, StockRow};
use crate::db::records::{Movement, OrderBody};
use crate::db::store::{catalog, movements};
use crate::domain::catalog::{self as input, StockUpdate};
use crate::domain::stock::{self as stock_input, BulkOutcome};
use crate::domain::{FieldError, OrderId, OrderStatus, ProductId, StoreId, parse_positive_id};
use crate::error::{Error, Result};
use crate::http::extract::PathId;
use crate::http::openapi::admin_schemas::{
    AdjustStockBody, AdminOrder, AdminOrdersFilter, AdminPage, AdminUnauthorized, BodyNotJson, BodyTooLarge, BulkBody,
    BulkResultDoc, MovementDoc, RestockBody, SetStockBody, StockLevel, StockPath,
};
use crate::http::openapi::schemas::{OrderDoc, PageParams, ProblemDoc, Unavailable};
use crate::http::pagination::{PageLinks, Paginated};
use crate::http::{JsonBody, QueryParams, Route};

pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::put("/api/admin/stores/{store_id}/inventory/{product_id}/", set_stock),
        Route::post("/api/admin/stores/{store_id}/inventory/{product_id}/adjust/", adjust_stock),
        Route::post("/api/admin/stores/{store_id}/inventory/{product_id}/restock/", restock),
        Route::get("/api/admin/stores/{store_id}/inventory/{product_id}/movements/", list_movements),
        Route::get("/api/admin/orders/", list_orders),
        Route::post("/api/admin/orders/{order_id}/cancel/", cancel_order),
    ]
}

/// The routes whose bodies may reach 2 MiB (the caller layers them with that limit).
pub(super) fn large_body_routes() -> Vec<Route> {
    vec![Route::post("/api/admin/stock/bulk/", bulk_update)]
}

/// Sets or adjusts many (store, product) pairs in one transaction, rows in order.
#[utoipa::path(post, path = "/api/admin/stock/bulk/", tag = "admin", security(("admin_token" = [])), request_body = BulkBody,
    responses(
        (status = 200, description = "Applied: every row (reject_everything) or the good rows, with the failed ones by index (reject_failed_rows)", body = BulkResultDoc),
        (status = 400, description = "Invalid request, or (reject_everything) a failed row: `errors` name `rows[i].<member>`; nothing applied", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "Body over 2 MiB", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, response = BodyNotJson),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn bulk_update(
    caller: Caller,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<Json<BulkOutcome>> {
    let update = stock_input::bulk_update(&body)?;
    Ok(Json(state.writer.bulk_update_stock(caller.stock_actor(), update).await?))
}

/// The same write and answer as the public `POST /orders/<id>/cancel/`, recorded in the admin
/// history.
#[utoipa::path(post, path = "/api/admin/orders/{order_id}/cancel/", tag = "admin", security(("admin_token" = [])), params(("order_id" = i64, Path, description = "Order id")),
    responses(
        (status = 200, description = "Cancelled (now or before): stock returned, cancellation queued", body = OrderDoc),
        (status = 404, description = "Unknown order", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "The order is not confirmed (rejected)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn cancel_order(
    caller: Caller,
    State(state): State<AppState>,
    PathId(order_id): PathId<OrderId>,
) -> Result<Json<OrderBody>> {
    Ok(Json(state.writer.cancel_order_as(caller.actor(), order_id).await?))
}

#[utoipa::path(put, path = "/api/admin/stores/{store_id}/inventory/{product_id}/", tag = "admin", security(("admin_token" = [])), params(StockPath), request_body = SetStockBody,
    responses(
        (status = 200, description = "The new stock and threshold (recorded in the product's history)", body = StockLevel),
        (status = 400, description = "Invalid body (neither quantity nor low_stock_threshold, or one out of range)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Unknown store or product, or a threshold alone for a product the store has no inventory row for", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = BodyNotJson),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn set_stock(
    caller: Caller,
    State(state): State<AppState>,
    Path(ids): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Json<StockRow>> {
    let edit = input::stock_edit(&body)?;
    let (store_id, product_id) = stock_path(&ids)?;
    let (quantity, threshold) = state.writer.edit_stock_as(caller.actor(), store_id, product_id, edit).await?;
    Ok(Json(StockRow { store_id, product_id, quantity, low_stock_threshold: Some(threshold) }))
}

/// A store's movements of a product, newest first (the stock ledger).
#[utoipa::path(get, path = "/api/admin/stores/{store_id}/inventory/{product_id}/movements/", tag = "admin", security(("admin_token" = [])), params(StockPath, PageParams),
    responses(
        (status = 200, description = "A page of movements, newest first", body = AdminPage<MovementDoc>),
        (status = 400, description = "Invalid pagination", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Unknown store or product, or a page past the end", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn list_movements(
    State(state): State<AppState>,
    Path(ids): Path<(String, String)>,
    query: QueryParams,
    links: PageLinks,
) -> Result<Json<Paginated<Movement>>> {
    let page = query.page_request()?;
    let (store_id, product_id) = stock_path(&ids)?;
    let rows = state
        .reads
        .run(move |conn| {
            if !catalog::store_exists(conn, store_id)? {
                return Err(Error::store_not_found(store_id));
            }
            if catalog::product_stock_in_store(conn, store_id, product_id)?.is_none() {
                return Err(Error::NotFound(format!("product {product_id} does not exist")));
            }
            movements::movements(conn, store_id, product_id, page)
        })
        .await?;
    Ok(Json(Paginated::new(rows, page, &links)?))
}

/// The store and product a stock route's path names.
fn stock_path((store, product): &(String, String)) -> Result<(StoreId, ProductId)> {
    Ok((PathId::parse(store)?, PathId::parse(product)?))
}

/// Adds `delta` to the stock (negative takes away).
#[utoipa::path(post, path = "/api/admin/stores/{store_id}/inventory/{product_id}/adjust/", tag = "admin", security(("admin_token" = [])), params(StockPath), request_body = AdjustStockBody,
    responses(
        (status = 200, description = "The new stock (recorded in the product's history)", body = StockLevel),
        (status = 400, description = "Invalid body, or the stock would exceed 1,000,000,000", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Unknown store or product", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "The stock would go below zero (nothing changes)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = BodyNotJson),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn adjust_stock(
    caller: Caller,
    State(state): State<AppState>,
    Path(ids): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Json<StockRow>> {
    apply(&caller, &state, &ids, input::adjust(&body)?).await
}

/// Adds `quantity` to the stock.
#[utoipa::path(post, path = "/api/admin/stores/{store_id}/inventory/{product_id}/restock/", tag = "admin", security(("admin_token" = [])), params(StockPath), request_body = RestockBody,
    responses(
        (status = 200, description = "The new stock (recorded in the product's history)", body = StockLevel),
        (status = 400, description = "Invalid body, or the stock would exceed 1,000,000,000", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Unknown store or product", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = BodyNotJson),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn restock(
    caller: Caller,
    State(state): State<AppState>,
    Path(ids): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Json<StockRow>> {
    apply(&caller, &state, &ids, input::restock(&body)?).await
}

async fn apply(
    caller: &Caller,
    state: &AppState,
    ids: &(String, String),
    update: StockUpdate,
) -> Result<Json<StockRow>> {
    let (store_id, product_id) = stock_path(ids)?;
    let quantity = state.writer.update_stock_as(caller.actor(), store_id, product_id, update).await?;
    Ok(Json(StockRow { store_id, product_id, quantity, low_stock_threshold: None }))
}

/// `?store=<id>` and `?status=PENDING|CONFIRMED|REJECTED|CANCELLED` narrow the list.
#[utoipa::path(get, path = "/api/admin/orders/", tag = "admin", security(("admin_token" = [])), params(AdminOrdersFilter, PageParams),
    responses(
        (status = 200, description = "A page of orders, newest first", body = AdminPage<AdminOrder>),
        (status = 400, description = "Invalid store, status or pagination", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Page past the end", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn list_orders(
    State(state): State<AppState>,
    query: QueryParams,
    links: PageLinks,
) -> Result<Json<Paginated<OrderRow>>> {
    let page = query.page_request()?;
    let filter = order_filter(&query)?;
    let rows = state.reads.run(move |conn| listing::orders(conn, filter, page)).await?;
    Ok(Json(Paginated::new(rows, page, &links)?))
}

fn order_filter(query: &QueryParams) -> Result<OrderFilter> {
    let mut errors = Vec::new();
    let store_id = match query.get("store").filter(|text| !text.is_empty()) {
        None => None,
        Some(text) => parse_positive_id(text).map(StoreId).or_else(|| {
            errors.push(FieldError::new("store", "must be a positive integer"));
            None
        }),
    };
    let status = match query.get("status").filter(|text| !text.is_empty()) {
        None => None,
        Some(text) => OrderStatus::parse(&text.to_ascii_uppercase()).or_else(|| {
            errors.push(FieldError::new("status", format!("must be one of {}", OrderStatus::CHOICES)));
            None
        }),
    };
    if errors.is_empty() { Ok(OrderFilter { store_id, status }) } else { Err(Error::Validation(errors)) }
}
