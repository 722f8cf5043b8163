//! Admin CRUD for categories, products and stores. Reads use the read pool; every change is
//! one write on the single writer (named in `db::writer::writes`), answered after the search index,
//! stock view and autocomplete have it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::access::Caller;
use crate::app::AppState;
use crate::db::admin::listing::{self as listing, CategoryRow, ProductRow, StoreRow};
use crate::domain::catalog as input;
use crate::domain::text::query_text;
use crate::domain::{CategoryId, ProductId, StoreId};
use crate::error::Result;
use crate::http::extract::PathId;
use crate::http::openapi::admin_schemas::{
    AdminCategory, AdminPage, AdminProduct, AdminProductsFilter, AdminStore, AdminUnauthorized, BodyNotJson,
    BodyTooLarge, CategoryBody, ProductBody, StoreBody,
};
use crate::http::openapi::schemas::{PageParams, ProblemDoc, Unavailable};
use crate::http::pagination::{PageLinks, Paginated};
use crate::http::{JsonBody, QueryParams, Route};

pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/admin/categories/", list_categories),
        Route::post("/api/admin/categories/", create_category),
        Route::get("/api/admin/categories/{id}/", get_category),
        Route::put("/api/admin/categories/{id}/", update_category),
        Route::delete("/api/admin/categories/{id}/", delete_category),
        Route::get("/api/admin/products/", list_products),
        Route::post("/api/admin/products/", create_product),
        Route::get("/api/admin/products/{id}/", get_product),
        Route::put("/api/admin/products/{id}/", update_product),
        Route::delete("/api/admin/products/{id}/", delete_product),
        Route::get("/api/admin/stores/", list_stores),
        Route::post("/api/admin/stores/", create_store),
        Route::get("/api/admin/stores/{id}/", get_store),
        Route::put("/api/admin/stores/{id}/", update_store),
        Route::delete("/api/admin/stores/{id}/", delete_store),
    ]
}

#[utoipa::path(get, path = "/api/admin/categories/", tag = "admin", security(("admin_token" = [])), params(PageParams),
    responses(
        (status = 200, description = "A page of categories, by id", body = AdminPage<AdminCategory>),
        (status = 400, description = "Invalid pagination", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Page past the end", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn list_categories(
    State(state): State<AppState>,
    query: QueryParams,
    links: PageLinks,
) -> Result<Json<Paginated<CategoryRow>>> {
    let page = query.page_request()?;
    let rows = state.reads.run(move |conn| listing::categories(conn, page)).await?;
    Ok(Json(Paginated::new(rows, page, &links)?))
}

#[utoipa::path(get, path = "/api/admin/categories/{id}/", tag = "admin", security(("admin_token" = [])), params(("id" = i64, Path, description = "Category id")),
    responses(
        (status = 200, description = "The category", body = AdminCategory),
        (status = 404, description = "Unknown category", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn get_category(
    State(state): State<AppState>,
    PathId(id): PathId<CategoryId>,
) -> Result<Json<CategoryRow>> {
    Ok(Json(state.reads.run(move |conn| listing::category(conn, id)).await?))
}

#[utoipa::path(post, path = "/api/admin/categories/", tag = "admin", security(("admin_token" = [])), request_body = CategoryBody,
    responses(
        (status = 201, description = "Created (recorded in the history)", body = AdminCategory),
        (status = 400, description = "Invalid body, or the name is taken", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = BodyNotJson),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn create_category(
    caller: Caller,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<CategoryRow>)> {
    let input = input::category(&body)?;
    let id = state.writer.save_category_as(caller.actor(), None, input).await?;
    Ok((StatusCode::CREATED, Json(state.reads.run(move |conn| listing::category(conn, id)).await?)))
}

#[utoipa::path(put, path = "/api/admin/categories/{id}/", tag = "admin", security(("admin_token" = [])), params(("id" = i64, Path, description = "Category id")), request_body = CategoryBody,
    responses(
        (status = 200, description = "Replaced (recorded in the history)", body = AdminCategory),
        (status = 400, description = "Invalid body, or the name is taken", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Unknown category", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = BodyNotJson),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn update_category(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<CategoryRow>> {
    let id: CategoryId = PathId::parse(&id)?;
    let input = input::category(&body)?;
    state.writer.save_category_as(caller.actor(), Some(id), input).await?;
    Ok(Json(state.reads.run(move |conn| listing::category(conn, id)).await?))
}

#[utoipa::path(delete, path = "/api/admin/categories/{id}/", tag = "admin", security(("admin_token" = [])), params(("id" = i64, Path, description = "Category id")),
    responses(
        (status = 204, description = "Deleted (recorded in the history)"),
        (status = 404, description = "Unknown category", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Not deleted: products use it", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn delete_category(
    caller: Caller,
    State(state): State<AppState>,
    PathId(id): PathId<CategoryId>,
) -> Result<StatusCode> {
    state.writer.delete_category_as(caller.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?q=` narrows to titles containing it.
#[utoipa::path(get, path = "/api/admin/products/", tag = "admin", security(("admin_token" = [])), params(AdminProductsFilter, PageParams),
    responses(
        (status = 200, description = "A page of products, by id", body = AdminPage<AdminProduct>),
        (status = 400, description = "Invalid pagination", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Page past the end", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn list_products(
    State(state): State<AppState>,
    query: QueryParams,
    links: PageLinks,
) -> Result<Json<Paginated<ProductRow>>> {
    let page = query.page_request()?;
    let q = query_text("q", query.get("q"))?;
    let rows = state.reads.run(move |conn| listing::products(conn, q.as_deref(), page)).await?;
    Ok(Json(Paginated::new(rows, page, &links)?))
}

#[utoipa::path(get, path = "/api/admin/products/{id}/", tag = "admin", security(("admin_token" = [])), params(("id" = i64, Path, description = "Product id")),
    responses(
        (status = 200, description = "The product", body = AdminProduct),
        (status = 404, description = "Unknown product", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn get_product(
    State(state): State<AppState>,
    PathId(id): PathId<ProductId>,
) -> Result<Json<ProductRow>> {
    Ok(Json(state.reads.run(move |conn| listing::product(conn, id)).await?))
}

#[utoipa::path(post, path = "/api/admin/products/", tag = "admin", security(("admin_token" = [])), request_body = ProductBody,
    responses(
        (status = 201, description = "Created (recorded in the history)", body = AdminProduct),
        (status = 400, description = "Invalid body, or no such category", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = BodyNotJson),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn create_product(
    caller: Caller,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<ProductRow>)> {
    let fields = input::product(&body)?;
    let id = state.writer.save_product_as(caller.actor(), None, fields).await?;
    Ok((StatusCode::CREATED, Json(state.reads.run(move |conn| listing::product(conn, id)).await?)))
}

#[utoipa::path(put, path = "/api/admin/products/{id}/", tag = "admin", security(("admin_token" = [])), params(("id" = i64, Path, description = "Product id")), request_body = ProductBody,
    responses(
        (status = 200, description = "Replaced (recorded in the history)", body = AdminProduct),
        (status = 400, description = "Invalid body, or no such category", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Unknown product", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = BodyNotJson),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn update_product(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<ProductRow>> {
    let id: ProductId = PathId::parse(&id)?;
    let fields = input::product(&body)?;
    state.writer.save_product_as(caller.actor(), Some(id), fields).await?;
    Ok(Json(state.reads.run(move |conn| listing::product(conn, id)).await?))
}

#[utoipa::path(delete, path = "/api/admin/products/{id}/", tag = "admin", security(("admin_token" = [])), params(("id" = i64, Path, description = "Product id")),
    responses(
        (status = 204, description = "Deleted (recorded in the history)"),
        (status = 404, description = "Unknown product", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Not deleted: orders name it", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn delete_product(
    caller: Caller,
    State(state): State<AppState>,
    PathId(id): PathId<ProductId>,
) -> Result<StatusCode> {
    state.writer.delete_product_as(caller.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/admin/stores/", tag = "admin", security(("admin_token" = [])), params(PageParams),
    responses(
        (status = 200, description = "A page of stores, by id", body = AdminPage<AdminStore>),
        (status = 400, description = "Invalid pagination", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Page past the end", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn list_stores(
    State(state): State<AppState>,
    query: QueryParams,
    links: PageLinks,
) -> Result<Json<Paginated<StoreRow>>> {
    let page = query.page_request()?;
    let rows = state.reads.run(move |conn| listing::stores(conn, page)).await?;
    Ok(Json(Paginated::new(rows, page, &links)?))
}

#[utoipa::path(get, path = "/api/admin/stores/{id}/", tag = "admin", security(("admin_token" = [])), params(("id" = i64, Path, description = "Store id")),
    responses(
        (status = 200, description = "The store", body = AdminStore),
        (status = 404, description = "Unknown store", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn get_store(State(state): State<AppState>, PathId(id): PathId<StoreId>) -> Result<Json<StoreRow>> {
    Ok(Json(state.reads.run(move |conn| listing::store(conn, id)).await?))
}

#[utoipa::path(post, path = "/api/admin/stores/", tag = "admin", security(("admin_token" = [])), request_body = StoreBody,
    responses(
        (status = 201, description = "Created (recorded in the history)", body = AdminStore),
        (status = 400, description = "Invalid body", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = BodyNotJson),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn create_store(
    caller: Caller,
    State(state): State<AppState>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<StoreRow>)> {
    let input = input::store(&body)?;
    let id = state.writer.save_store_as(caller.actor(), None, input).await?;
    Ok((StatusCode::CREATED, Json(state.reads.run(move |conn| listing::store(conn, id)).await?)))
}

#[utoipa::path(put, path = "/api/admin/stores/{id}/", tag = "admin", security(("admin_token" = [])), params(("id" = i64, Path, description = "Store id")), request_body = StoreBody,
    responses(
        (status = 200, description = "Replaced (recorded in the history)", body = AdminStore),
        (status = 400, description = "Invalid body", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Unknown store", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = BodyNotJson),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn update_store(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<StoreRow>> {
    let id: StoreId = PathId::parse(&id)?;
    let input = input::store(&body)?;
    state.writer.save_store_as(caller.actor(), Some(id), input).await?;
    Ok(Json(state.reads.run(move |conn| listing::store(conn, id)).await?))
}

#[utoipa::path(delete, path = "/api/admin/stores/{id}/", tag = "admin", security(("admin_token" = [])), params(("id" = i64, Path, description = "Store id")),
    responses(
        (status = 204, description = "Deleted (recorded in the history)"),
        (status = 404, description = "Unknown store", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "Not deleted: it has orders or inventory", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn delete_store(
    caller: Caller,
    State(state): State<AppState>,
    PathId(id): PathId<StoreId>,
) -> Result<StatusCode> {
    state.writer.delete_store_as(caller.actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
