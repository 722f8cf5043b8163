//! A store's inventory: its products with search, an in-stock filter, sort by product or
//! quantity, pages, and the quantity and low-stock threshold of each row editable in place
//! (recorded in the product's history); each row's held units link to the reservations holding
//! them; a row's page with its movements (the stock ledger, newest first, paged); and the
//! store's "Low stock" list (rows at or below their threshold on hand, the listing's
//! `low_stock=true`).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};

use super::Result;
use super::layout::{self, csrf_field, pager, sort_header};
use super::products::product_id;
use super::session::WebSession;
use super::{FormFields, form_as_json, list_url, redirect, signed_in_page};
use crate::app::AppState;
use crate::db::admin::listing;
use crate::db::store::listings::InventoryFilter;
use crate::db::store::{catalog, movements, reservations};
use crate::domain::admin_list::{self, InventorySort};
use crate::domain::catalog as input;
use crate::domain::{ProductId, StoreId};
use crate::error::Error;
use crate::http::QueryParams;
use crate::http::extract::PathId;
use crate::http::problem::HttpError;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/stores/{id}/inventory/", get(list_inventory))
        .route("/admin/stores/{id}/inventory/{product}/", get(row_page).post(set_quantity))
        .route("/admin/stores/{id}/inventory/{product}/reservations/", get(row_reservations))
        .route("/admin/stores/{id}/low-stock/", get(low_stock))
}

fn store_id(text: &str) -> crate::error::Result<StoreId> {
    PathId::parse(text)
}

/// A row's inline error: which product, what is wrong.
type RowError = Option<(ProductId, String)>;

async fn render(
    session: &WebSession,
    state: &AppState,
    store: StoreId,
    query: &QueryParams,
    row_error: RowError,
) -> Result<Markup> {
    let path = format!("/admin/stores/{store}/inventory/");
    let url = list_url(&path, query);
    let list = admin_list::inventory_list(query).map_err(|error| HttpError::BadRequest(error.to_string()))?;
    let (search, listed) = (state.search.clone(), list.clone());
    let (store_row, rows) = state
        .reads
        .run(move |conn| Ok((listing::store(conn, store)?, search.admin_inventory(conn, store, &listed)?)))
        .await?;
    let csrf = session.csrf_token();
    let viewer = layout::Viewer { username: &session.0.username, csrf: &csrf };
    let back = url.with("page", Some(&list.page.page.to_string()));
    let body = html! {
        p {
            a href={ "/admin/stores/" (store) "/" } { "← " (store_row.name) }
            " · " a href={ "/admin/stores/" (store) "/low-stock/" } id="low-stock" { "Low stock" }
        }
        form.toolbar method="get" action=(path) role="search" {
            label for="q" { "Title contains" input type="search" name="q" id="q" value=(url.get("q")); }
            label for="in_stock" { "Stock"
                select name="in_stock" id="in_stock" {
                    option value="" { "any" }
                    option value="true" selected[list.in_stock == Some(true)] { "in stock" }
                    option value="false" selected[list.in_stock == Some(false)] { "out of stock" }
                }
            }
            input type="hidden" name="sort" value=(list.sort.to_param());
            button type="submit" id="inventory-search" { "Filter" }
        }
        div.table-wrap { table id="inventory" {
            thead { tr {
                (sort_header(&url, list.sort, InventorySort::Product, "product", true))
                th { "title" } th { "category" } th.num { "price" }
                (sort_header(&url, list.sort, InventorySort::Quantity, "quantity", true))
                th.num { "held" } th.num { "available" }
                th { "movements" }
            } }
            tbody { @for row in &rows.rows {
                tr id={ "product-" (row.product_id) } {
                    td.num { (row.product_id) }
                    td { a href={ "/admin/products/" (row.product_id) "/" } { (row.title) } }
                    td { (row.category) }
                    td.num { (row.price) }
                    td.num {
                        form.inline method="post" action={ (path) (row.product_id) "/" } {
                            (csrf_field(&viewer))
                            input type="hidden" name="back" value=(back);
                            label.muted for={ "quantity-" (row.product_id) } { "quantity" }
                            input type="number" name="quantity" id={ "quantity-" (row.product_id) } min="0" value=(row.quantity) required;
                            label.muted for={ "threshold-" (row.product_id) } { "low at" }
                            input type="number" name="low_stock_threshold" id={ "threshold-" (row.product_id) } min="0" value=(row.low_stock_threshold) required;
                            button type="submit" { "Set" }
                        }
                        @if let Some((product, message)) = &row_error {
                            @if *product == row.product_id { p.error role="alert" id={ "quantity-" (product) "-error" } { (message) } }
                        }
                    }
                    td.num id={ "held-" (row.product_id) } {
                        @if row.held > 0 {
                            a href={ (path) (row.product_id) "/reservations/" } { (row.held) }
                        } @else { (row.held) }
                    }
                    td.num { (row.available) }
                    td { a href={ (path) (row.product_id) "/" } id={ "movements-" (row.product_id) } { "movements" } }
                }
            } }
        } }
        @if rows.rows.is_empty() { p.muted { "No inventory matches." } }
        (pager(&url, list.page, rows.count, rows.rows.len()))
        p.muted { "Sortable by product id and by quantity (lowest stock first): both served by an index." }
    };
    Ok(signed_in_page(session, &format!("Inventory of {}", store_row.name), "/admin/stores/", &body))
}

/// How many of a row's holding reservations its page shows (the soonest to expire first).
const RESERVATIONS_SHOWN: i64 = 100;

/// The active reservations holding a store's product, read-only: who holds what until when.
async fn row_reservations(
    session: WebSession,
    State(state): State<AppState>,
    Path((store, product)): Path<(String, String)>,
) -> Result<Markup> {
    let (store, product) = (store_id(&store)?, product_id(&product)?);
    let now = state.writer.clock().now();
    let (store_row, holding) = state
        .reads
        .run(move |conn| {
            Ok((listing::store(conn, store)?, reservations::holding(conn, store, product, now, RESERVATIONS_SHOWN)?))
        })
        .await?;
    let body = html! {
        p { a href={ "/admin/stores/" (store) "/inventory/" } { "← inventory of " (store_row.name) } }
        @if holding.is_empty() { p.muted id="no-reservations" { "No active reservation holds this product." } } @else {
            div.table-wrap { table id="reservations" {
                thead { tr { th.num { "reservation" } th.num { "units of this product" } th.num { "lines" } th { "created" } th { "expires" } } }
                tbody { @for reservation in &holding {
                    tr id={ "reservation-" (reservation.id) } {
                        td.num { (reservation.id) }
                        td.num { (reservation.items.iter().filter(|item| item.product_id == product).map(|item| item.quantity).sum::<i64>()) }
                        td.num { (reservation.items.len()) }
                        td { (reservation.created_at.to_rfc3339()) }
                        td { (reservation.expires_at.to_rfc3339()) }
                    }
                } }
            } }
        }
        p.muted { "Held units are on hand but not available: an order that names its reservation takes them." }
    };
    let title = format!("Reservations of product {product} in {}", store_row.name);
    Ok(signed_in_page(&session, &title, "/admin/stores/", &body))
}

async fn list_inventory(
    session: WebSession,
    State(state): State<AppState>,
    query: QueryParams,
    PathId(id): PathId<StoreId>,
) -> Result<Markup> {
    render(&session, &state, id, &query, None).await
}

/// Where to go back to: the list page the form came from, never another site.
fn back_to(fields: &std::collections::HashMap<String, String>, store: StoreId) -> String {
    let default = format!("/admin/stores/{store}/inventory/");
    fields.get("back").filter(|back| back.starts_with(&default)).cloned().unwrap_or(default)
}

async fn set_quantity(
    session: WebSession,
    State(state): State<AppState>,
    Path((store, product)): Path<(String, String)>,
    form: FormFields,
) -> Result<Response> {
    let fields = session.accept(form)?;
    let (store, product) = (store_id(&store)?, product_id(&product)?);
    let back = back_to(&fields, store);
    let written = match input::stock_edit(&form_as_json(&fields)) {
        Ok(edit) => state.writer.edit_stock_as(session.actor(), store, product, edit).await.map(|_| ()),
        Err(error) => Err(error),
    };
    match written {
        Ok(()) => Ok(redirect(&back)),
        Err(Error::Validation(errors)) => {
            let message = errors.first().map_or_else(String::new, |error| error.message.clone());
            let query = back.split_once('?').map_or("", |(_, query)| query);
            let params = QueryParams(serde_urlencoded::from_str(query).unwrap_or_default());
            let field = errors.first().map_or("quantity", |error| error.field.as_str());
            let label = if field == "low_stock_threshold" { "low-stock threshold" } else { "quantity" };
            let page = render(&session, &state, store, &params, Some((product, format!("{label} {message}")))).await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// One row of a store's inventory: its quantity and threshold, and its movements, newest
/// first, a page at a time (`?page=`).
async fn row_page(
    session: WebSession,
    State(state): State<AppState>,
    Path((store, product)): Path<(String, String)>,
    query: QueryParams,
) -> Result<Markup> {
    let (store, product) = (store_id(&store)?, product_id(&product)?);
    let page = query.page_request()?;
    let (store_row, stock, title, movements) = state
        .reads
        .run(move |conn| {
            let store_row = listing::store(conn, store)?;
            let (title, _) = catalog::product_stock_in_store(conn, store, product)?
                .ok_or_else(|| Error::NotFound(format!("product {product} does not exist")))?;
            let stock = catalog::stock_row(conn, store, product)?;
            Ok((store_row, stock, title, movements::movements(conn, store, product, page)?))
        })
        .await?;
    let (quantity, threshold) = stock.unwrap_or_default();
    let path = format!("/admin/stores/{store}/inventory/{product}/");
    let url = list_url(&path, &query);
    let body = html! {
        p {
            a href={ "/admin/stores/" (store) "/inventory/" } { "← Inventory of " (store_row.name) }
            " · " a href={ "/admin/products/" (product) "/" } { (title) }
        }
        p id="stock" { "On hand: " strong { (quantity) } " · low at or below " strong { (threshold) }
            @if quantity <= threshold { " · " span.badge.REJECTED { "low stock" } } }
        h2 { "Movements" }
        div.table-wrap { table id="movements" {
            thead { tr { th { "when (newest first)" } th.num { "change" } th.num { "after" } th { "reason" } th { "order" } th { "by" } } }
            tbody { @for movement in &movements.rows {
                tr {
                    td { (movement.created_at.to_rfc3339()) }
                    td.num { @if movement.delta > 0 { "+" } (movement.delta) }
                    td.num { (movement.quantity_after) }
                    td { (movement.reason.as_str()) }
                    td { @if let Some(order) = movement.order_id { a href={ "/admin/orders/" (order) "/" } { (order) } } }
                    td { (movement.actor.as_deref().unwrap_or("—")) }
                }
            } }
        } }
        @if movements.rows.is_empty() { p.muted { "No movement kept for this row (seeded stock has none)." } }
        (pager(&url, page, movements.count, movements.rows.len()))
    };
    Ok(signed_in_page(&session, &format!("{title} at {}", store_row.name), "/admin/stores/", &body))
}

/// A store's rows at or below their low-stock threshold, by title (the listing's
/// `low_stock=true`, from the stock view when it is ready).
async fn low_stock(
    session: WebSession,
    State(state): State<AppState>,
    query: QueryParams,
    PathId(store): PathId<StoreId>,
) -> Result<Markup> {
    let page = query.page_request()?;
    let search = state.search.clone();
    let filter = InventoryFilter { low_stock: Some(true), ..InventoryFilter::default() };
    let (store_row, rows) = state
        .reads
        .run(move |conn| Ok((listing::store(conn, store)?, search.store_inventory(conn, store, &filter, page)?)))
        .await?;
    let path = format!("/admin/stores/{store}/low-stock/");
    let url = list_url(&path, &query);
    let body = html! {
        p { a href={ "/admin/stores/" (store) "/inventory/" } { "← Inventory of " (store_row.name) } }
        div.table-wrap { table id="low-stock-rows" {
            thead { tr { th.num { "product" } th { "title" } th.num { "on hand" } th.num { "low at" } th { "movements" } } }
            tbody { @for row in &rows.rows {
                tr id={ "product-" (row.product_id) } {
                    td.num { (row.product_id) }
                    td { a href={ "/admin/products/" (row.product_id) "/" } { (row.title) } }
                    td.num { (row.quantity) }
                    td.num { (row.low_stock_threshold) }
                    td { a href={ "/admin/stores/" (store) "/inventory/" (row.product_id) "/" } { "movements" } }
                }
            } }
        } }
        @if rows.rows.is_empty() { p.muted { "Nothing is low on stock here." } }
        (pager(&url, page, rows.count, rows.rows.len()))
    };
    Ok(signed_in_page(&session, &format!("Low stock at {}", store_row.name), "/admin/stores/", &body))
}
