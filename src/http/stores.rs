//! `GET /stores/<id>/orders/` and `GET /stores/<id>/inventory/`.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};

use super::extract::QueryParams;
use super::pagination::{PageLinks, Paginated};
use crate::app::AppState;
use crate::db::catalog::store_exists;
use crate::db::listings::{InventoryFilter, InventoryRow, StoreOrderRow, store_inventory, store_orders};
use crate::domain::{OrderStatus, StoreId, parse_positive_id};
use crate::error::{Error, Result};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/stores/{store_id}/orders/", get(list_store_orders))
        .route("/stores/{store_id}/inventory/", get(list_store_inventory))
}

async fn list_store_orders(
    State(state): State<AppState>,
    Path(store_id): Path<String>,
    query: QueryParams,
    links: PageLinks,
) -> Result<Json<Paginated<StoreOrderRow>>> {
    let store_id = parse_store_id(&store_id)?;
    let page = query.page_request()?;
    let status = match query.get("status").filter(|status| !status.is_empty()) {
        None => None,
        Some(text) => Some(
            OrderStatus::parse(&text.to_ascii_uppercase())
                .ok_or_else(|| Error::field("status", "must be one of PENDING, CONFIRMED, REJECTED"))?,
        ),
    };
    let rows = state
        .reads
        .run(move |conn| {
            ensure_store_exists(conn, store_id)?;
            store_orders(conn, store_id, status, page)
        })
        .await?;
    Ok(Json(Paginated::new(rows, page, &links)?))
}

async fn list_store_inventory(
    State(state): State<AppState>,
    Path(store_id): Path<String>,
    query: QueryParams,
    links: PageLinks,
) -> Result<Json<Paginated<InventoryRow>>> {
    let store_id = parse_store_id(&store_id)?;
    let page = query.page_request()?;
    let filter = InventoryFilter {
        title_contains: query.get("q").map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned),
        in_stock: query.boolean("in_stock")?,
    };
    let rows = state
        .reads
        .run(move |conn| {
            ensure_store_exists(conn, store_id)?;
            store_inventory(conn, store_id, &filter, page)
        })
        .await?;
    Ok(Json(Paginated::new(rows, page, &links)?))
}

/// A store id from the path; anything that is not a positive integer names no store (404).
pub fn parse_store_id(text: &str) -> Result<StoreId> {
    parse_positive_id(text).map(StoreId).ok_or_else(|| Error::NotFound(format!("store {text} does not exist")))
}

pub fn ensure_store_exists(conn: &rusqlite::Connection, store_id: StoreId) -> Result<()> {
    if store_exists(conn, store_id)? {
        Ok(())
    } else {
        Err(Error::NotFound(format!("store {store_id} does not exist")))
    }
}
