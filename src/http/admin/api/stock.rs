//! Admin inventory changes (set, adjust, restock), the order list across stores, and
//! cancelling an order.

use axum::extract::{Path, State};
use axum::routing::{get, post, put};
use axum::{Json, Router};

use super::{AdminSession, actor, path_id};
use crate::app::AppState;
use crate::db::admin_listing::{self as listing, OrderFilter, OrderRow, StockRow};
use crate::db::orders::OrderBody;
use crate::domain::catalog::{self as input, StockUpdate};
use crate::domain::{FieldError, OrderStatus, ProductId, StoreId, parse_positive_id};
use crate::error::{Error, Result};
use crate::http::pagination::{PageLinks, Paginated};
use crate::http::{JsonBody, QueryParams, order_id_from_path};

const INVENTORY: &str = "/api/admin/stores/{store_id}/inventory/{product_id}/";

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route(INVENTORY, put(set_stock))
        .route(&format!("{INVENTORY}adjust/"), post(adjust_stock))
        .route(&format!("{INVENTORY}restock/"), post(restock))
        .route("/api/admin/orders/", get(list_orders))
        .route("/api/admin/orders/{order_id}/cancel/", post(cancel_order))
}

/// The same write and answer as the public `POST /orders/<id>/cancel/`, recorded in the admin
/// history.
async fn cancel_order(
    session: AdminSession,
    State(state): State<AppState>,
    Path(order_id): Path<String>,
) -> Result<Json<OrderBody>> {
    Ok(Json(state.writer.cancel_order_as(actor(&session), order_id_from_path(&order_id)?).await?))
}

async fn set_stock(
    session: AdminSession,
    State(state): State<AppState>,
    Path(ids): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Json<StockRow>> {
    apply(&session, &state, &ids, input::set_quantity(&body)?).await
}

async fn adjust_stock(
    session: AdminSession,
    State(state): State<AppState>,
    Path(ids): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Json<StockRow>> {
    apply(&session, &state, &ids, input::adjust(&body)?).await
}

async fn restock(
    session: AdminSession,
    State(state): State<AppState>,
    Path(ids): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Json<StockRow>> {
    apply(&session, &state, &ids, input::restock(&body)?).await
}

async fn apply(
    session: &AdminSession,
    state: &AppState,
    (store, product): &(String, String),
    update: StockUpdate,
) -> Result<Json<StockRow>> {
    let store_id = path_id(store, "store", StoreId)?;
    let product_id = path_id(product, "product", ProductId)?;
    let quantity = state.writer.update_stock_as(actor(session), store_id, product_id, update).await?;
    Ok(Json(StockRow { store_id, product_id, quantity }))
}

/// `?store=<id>` and `?status=PENDING|CONFIRMED|REJECTED|CANCELLED` narrow the list.
async fn list_orders(
    _: AdminSession,
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
