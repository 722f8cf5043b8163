//! Admin CRUD for categories, products and stores. Reads use the read pool; every change is
//! one write on the single writer (named in `db::catalog`), answered after the search index,
//! stock view and autocomplete have it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};

use super::{AdminSession, actor, path_id};
use crate::app::AppState;
use crate::db::admin_listing::{self as listing, CategoryRow, ProductRow, StoreRow};
use crate::domain::catalog as input;
use crate::domain::{CategoryId, ProductId, StoreId};
use crate::error::Result;
use crate::http::pagination::{PageLinks, Paginated};
use crate::http::{JsonBody, QueryParams};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/categories/", get(list_categories).post(create_category))
        .route("/api/admin/categories/{id}/", get(get_category).put(update_category).delete(delete_category))
        .route("/api/admin/products/", get(list_products).post(create_product))
        .route("/api/admin/products/{id}/", get(get_product).put(update_product).delete(delete_product))
        .route("/api/admin/stores/", get(list_stores).post(create_store))
        .route("/api/admin/stores/{id}/", get(get_store).put(update_store).delete(delete_store))
}

fn category_id(text: &str) -> Result<CategoryId> {
    path_id(text, "category", CategoryId)
}

fn product_id(text: &str) -> Result<ProductId> {
    path_id(text, "product", ProductId)
}

fn store_id(text: &str) -> Result<StoreId> {
    path_id(text, "store", StoreId)
}

async fn list_categories(
    _: AdminSession,
    State(state): State<AppState>,
    query: QueryParams,
    links: PageLinks,
) -> Result<Json<Paginated<CategoryRow>>> {
    let page = query.page_request()?;
    let rows = state.reads.run(move |conn| listing::categories(conn, page)).await?;
    Ok(Json(Paginated::new(rows, page, &links)?))
}

async fn get_category(
    _: AdminSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<CategoryRow>> {
    let id = category_id(&id)?;
    Ok(Json(state.reads.run(move |conn| listing::category(conn, id)).await?))
}

async fn create_category(
    session: AdminSession,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<CategoryRow>)> {
    let input = input::category(&body)?;
    let id = state.writer.save_category_as(actor(&session), None, input).await?;
    Ok((StatusCode::CREATED, Json(state.reads.run(move |conn| listing::category(conn, id)).await?)))
}

async fn update_category(
    session: AdminSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<CategoryRow>> {
    let id = category_id(&id)?;
    let input = input::category(&body)?;
    state.writer.save_category_as(actor(&session), Some(id), input).await?;
    Ok(Json(state.reads.run(move |conn| listing::category(conn, id)).await?))
}

async fn delete_category(
    session: AdminSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let id = category_id(&id)?;
    state.writer.delete_category_as(actor(&session), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?q=` narrows to titles containing it.
async fn list_products(
    _: AdminSession,
    State(state): State<AppState>,
    query: QueryParams,
    links: PageLinks,
) -> Result<Json<Paginated<ProductRow>>> {
    let page = query.page_request()?;
    let q = query.get("q").map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned);
    let rows = state.reads.run(move |conn| listing::products(conn, q.as_deref(), page)).await?;
    Ok(Json(Paginated::new(rows, page, &links)?))
}

async fn get_product(
    _: AdminSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ProductRow>> {
    let id = product_id(&id)?;
    Ok(Json(state.reads.run(move |conn| listing::product(conn, id)).await?))
}

async fn create_product(
    session: AdminSession,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<ProductRow>)> {
    let fields = input::product(&body)?;
    let id = state.writer.save_product_as(actor(&session), None, fields).await?;
    Ok((StatusCode::CREATED, Json(state.reads.run(move |conn| listing::product(conn, id)).await?)))
}

async fn update_product(
    session: AdminSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<ProductRow>> {
    let id = product_id(&id)?;
    let fields = input::product(&body)?;
    state.writer.save_product_as(actor(&session), Some(id), fields).await?;
    Ok(Json(state.reads.run(move |conn| listing::product(conn, id)).await?))
}

async fn delete_product(
    session: AdminSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let id = product_id(&id)?;
    state.writer.delete_product_as(actor(&session), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_stores(
    _: AdminSession,
    State(state): State<AppState>,
    query: QueryParams,
    links: PageLinks,
) -> Result<Json<Paginated<StoreRow>>> {
    let page = query.page_request()?;
    let rows = state.reads.run(move |conn| listing::stores(conn, page)).await?;
    Ok(Json(Paginated::new(rows, page, &links)?))
}

async fn get_store(_: AdminSession, State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<StoreRow>> {
    let id = store_id(&id)?;
    Ok(Json(state.reads.run(move |conn| listing::store(conn, id)).await?))
}

async fn create_store(
    session: AdminSession,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<StoreRow>)> {
    let input = input::store(&body)?;
    let id = state.writer.save_store_as(actor(&session), None, input).await?;
    Ok((StatusCode::CREATED, Json(state.reads.run(move |conn| listing::store(conn, id)).await?)))
}

async fn update_store(
    session: AdminSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<StoreRow>> {
    let id = store_id(&id)?;
    let input = input::store(&body)?;
    state.writer.save_store_as(actor(&session), Some(id), input).await?;
    Ok(Json(state.reads.run(move |conn| listing::store(conn, id)).await?))
}

async fn delete_store(
    session: AdminSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let id = store_id(&id)?;
    state.writer.delete_store_as(actor(&session), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
