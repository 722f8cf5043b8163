//! `GET /stores/<id>/orders/` and `GET /stores/<id>/inventory/`.

use axum::Json;
use axum::extract::State;

use super::Route;
use super::extract::{PathId, QueryParams};
use super::openapi::schemas::{
    self as doc, InventoryPage, PageParams, ProblemDoc, StoreOrdersFilter, StoreOrdersPage, Unavailable,
};
use super::pagination::{PageLinks, Paginated};
use crate::access::Caller;
use crate::app::AppState;
use crate::db::store::catalog::store_exists;
use crate::db::store::listings::{InventoryFilter, InventoryRow, StoreOrderRow, store_orders};
use crate::domain::text::query_text;
use crate::domain::{OrderStatus, StoreId};
use crate::error::{Error, Result};

pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::get("/stores/{store_id}/orders/", list_store_orders),
        Route::get("/stores/{store_id}/inventory/", list_store_inventory),
    ]
}

/// A store's orders, newest first.
#[utoipa::path(get, path = "/stores/{store_id}/orders/", tag = "stores",
    params(("store_id" = i64, Path, description = "Store id"), StoreOrdersFilter, PageParams),
    responses(
        (status = 200, description = "A page of orders", body = StoreOrdersPage),
        (status = 400, description = "Invalid status or pagination", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "The API key may not name this store", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Unknown store or page past the end", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Unavailable),
    ))]
async fn list_store_orders(
    caller: Caller,
    State(state): State<AppState>,
    query: QueryParams,
    links: PageLinks,
    PathId(store_id): PathId<StoreId>,
) -> Result<Json<Paginated<StoreOrderRow>>> {
    let page = query.page_request()?;
    let status = match query.get("status").filter(|status| !status.is_empty()) {
        None => None,
        Some(text) => Some(
            OrderStatus::parse(&text.to_ascii_uppercase())
                .ok_or_else(|| Error::field("status", format!("must be one of {}", OrderStatus::CHOICES)))?,
        ),
    };
    caller.require_store(store_id)?;
    let rows = state
        .reads
        .run(move |conn| {
            ensure_store_exists(conn, store_id)?;
            store_orders(conn, store_id, status, page)
        })
        .await?;
    Ok(Json(Paginated::new(rows, page, &links)?))
}

/// A store's inventory by title (case-insensitive), then product id.
#[utoipa::path(get, path = "/stores/{store_id}/inventory/", tag = "stores",
    params(("store_id" = i64, Path, description = "Store id"), doc::InventoryFilter, PageParams),
    responses(
        (status = 200, description = "A page of inventory rows", body = InventoryPage),
        (status = 400, description = "Invalid in_stock, low_stock or pagination", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "The API key may not name this store", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Unknown store or page past the end", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Unavailable),
    ))]
async fn list_store_inventory(
    caller: Caller,
    State(state): State<AppState>,
    query: QueryParams,
    links: PageLinks,
    PathId(store_id): PathId<StoreId>,
) -> Result<Json<Paginated<InventoryRow>>> {
    let page = query.page_request()?;
    let filter = InventoryFilter {
        title_contains: query_text("q", query.get("q"))?,
        in_stock: query.boolean("in_stock")?,
        low_stock: query.boolean("low_stock")?,
    };
    caller.require_store(store_id)?;
    let search = state.search.clone();
    let rows = state
        .reads
        .run(move |conn| {
            ensure_store_exists(conn, store_id)?;
            search.store_inventory(conn, store_id, &filter, page)
        })
        .await?;
    Ok(Json(Paginated::new(rows, page, &links)?))
}

/// `Ok` when the store exists, else the 404 a store-scoped route answers.
pub fn ensure_store_exists(conn: &rusqlite::Connection, store_id: StoreId) -> Result<()> {
    if store_exists(conn, store_id)? { Ok(()) } else { Err(Error::store_not_found(store_id)) }
}
