//! A store's inventory: its products with search, an in-stock filter, sort by product or
//! quantity, pages, and the quantity of each row editable in place (set, recorded in the
//! product's history); each row's held units link to the reservations holding them.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};

use super::Result;
use super::layout::{self, csrf_field, pager, sort_header};
use super::products::product_id;
use super::session::WebSession;
use super::{FormFields, form_as_json, list_url, redirect, signed_in_page};
use crate::app::AppState;
use crate::db::admin::listing;
use crate::db::store::reservations;
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
        .route("/admin/stores/{id}/inventory/{product}/", post(set_quantity))
        .route("/admin/stores/{id}/inventory/{product}/reservations/", get(row_reservations))
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
        p { a href={ "/admin/stores/" (store) "/" } { "← " (store_row.name) } }
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
    let written = match input::set_quantity(&form_as_json(&fields)) {
        Ok(update) => state.writer.update_stock_as(session.actor(), store, product, update).await.map(|_| ()),
        Err(error) => Err(error),
    };
    match written {
        Ok(()) => Ok(redirect(&back)),
        Err(Error::Validation(errors)) => {
            let message = errors.first().map_or_else(String::new, |error| error.message.clone());
            let query = back.split_once('?').map_or("", |(_, query)| query);
            let params = QueryParams(serde_urlencoded::from_str(query).unwrap_or_default());
            let page = render(&session, &state, store, &params, Some((product, format!("quantity {message}")))).await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}
