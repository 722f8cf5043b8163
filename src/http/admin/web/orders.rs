//! Orders: the list across stores filtered by store, status and date range (newest first,
//! pages), and an order's detail: its lines, its confirmation's state, and the place the
//! order lifecycle (issue 16) adds its events and its cancel button to.

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use maud::{Markup, html};

use super::Result;
use super::layout::pager;
use super::session::WebSession;
use super::{list_url, signed_in_page};
use crate::app::AppState;
use crate::db::admin_listing::{self as listing, StoreRow};
use crate::db::admin_pages;
use crate::db::orders::{OrderBody, load_order};
use crate::domain::admin_list;
use crate::domain::{OrderId, OrderStatus, PageRequest};
use crate::error::Error;
use crate::http::QueryParams;
use crate::http::problem::HttpError;

const SECTION: &str = "/admin/orders/";
const STATUSES: [OrderStatus; 3] = [OrderStatus::Pending, OrderStatus::Confirmed, OrderStatus::Rejected];

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/admin/orders/", get(list_orders)).route("/admin/orders/{id}/", get(order_page))
}

async fn list_orders(session: WebSession, State(state): State<AppState>, query: QueryParams) -> Result<Markup> {
    let url = list_url(SECTION, &query);
    let list = admin_list::order_list(&query).map_err(|error| HttpError::BadRequest(error.to_string()))?;
    let listed = list.clone();
    let (orders, stores) = state
        .reads
        .run(move |conn| {
            let stores = listing::stores(conn, PageRequest { page: 1, page_size: u32::MAX / 2 })?.rows;
            Ok((admin_pages::orders(conn, &listed)?, stores))
        })
        .await?;
    let body = html! {
        form.toolbar method="get" action=(SECTION) role="search" {
            label for="store" { "Store" (store_select(&stores, list.store.map(|id| id.0))) }
            label for="status" { "Status"
                select name="status" id="status" {
                    option value="" { "any" }
                    @for status in STATUSES {
                        option value=(status.as_str()) selected[list.status == Some(status)] { (status.as_str()) }
                    }
                }
            }
            label for="from" { "From" input type="date" name="from" id="from" value=(url.get("from")); }
            label for="to" { "To" input type="date" name="to" id="to" value=(url.get("to")); }
            button type="submit" id="orders-filter" { "Filter" }
        }
        div.table-wrap { table id="orders" {
            thead { tr { th.num { "id" } th { "store" } th { "status" } th.num { "items" } th { "placed (newest first)" } } }
            tbody { @for order in &orders.rows {
                tr {
                    td.num { a href={ "/admin/orders/" (order.id) "/" } { (order.id) } }
                    td { (store_name(&stores, order.store_id.0)) }
                    td { span.badge.(order.status.as_str()) { (order.status.as_str()) } }
                    td.num { (order.total_quantity) }
                    td { (order.created_at.to_rfc3339()) }
                }
            } }
        } }
        @if orders.rows.is_empty() { p.muted { "No order matches." } }
        (pager(&url, list.page, orders.count, orders.rows.len()))
    };
    Ok(signed_in_page(&session, "Orders", SECTION, body))
}

fn store_select(stores: &[StoreRow], selected: Option<i64>) -> Markup {
    html! {
        select name="store" id="store" {
            option value="" { "any" }
            @for store in stores { option value=(store.id) selected[selected == Some(store.id.0)] { (store.name) } }
        }
    }
}

fn store_name(stores: &[StoreRow], id: i64) -> String {
    stores.iter().find(|store| store.id.0 == id).map_or_else(|| format!("store {id}"), |store| store.name.clone())
}

async fn order_page(session: WebSession, State(state): State<AppState>, Path(id): Path<String>) -> Result<Markup> {
    let id = crate::http::admin::path_id(&id, "order", OrderId)?;
    let (order, store) = state
        .reads
        .run(move |conn| {
            let order = load_order(conn, id)?.ok_or_else(|| Error::NotFound(format!("order {id} does not exist")))?;
            let store = listing::store(conn, order.store_id)?;
            Ok((order, store))
        })
        .await?;
    Ok(signed_in_page(&session, &format!("Order {id}"), SECTION, detail(&order, &store)))
}

fn detail(order: &OrderBody, store: &StoreRow) -> Markup {
    html! {
        div.card id="order-summary" {
            p { "Status " span.badge.(order.status.as_str()) id="status" { (order.status.as_str()) }
                " · store " a href={ "/admin/stores/" (store.id) "/" } { (store.name) }
                " · placed " (order.created_at.to_rfc3339()) " · " (order.total_quantity) " items" }
            p id="confirmation" { "Confirmation: "
                @match &order.confirmation {
                    Some(confirmation) => {
                        span.badge.(confirmation.status) { (confirmation.status) }
                        " after " (confirmation.attempts) " attempt(s)"
                        @if let Some(sent) = confirmation.sent_at { ", sent " (sent.to_rfc3339()) }
                    },
                    None => span.muted { "none queued (rejected orders are not confirmed)" },
                }
            }
            // Issue 16 (order lifecycle) puts the cancel button here.
            div.actions id="order-actions" {}
        }
        h2 { "Lines" }
        div.table-wrap { table id="lines" {
            thead { tr { th.num { "product" } th { "title" } th.num { "quantity" } } }
            tbody { @for item in &order.items {
                tr {
                    td.num { (item.product_id) }
                    td { a href={ "/admin/products/" (item.product_id) "/" } { (item.title) } }
                    td.num { (item.quantity_requested) }
                }
            } }
        } }
        // Issue 16 (order lifecycle) lists the order's events in this section.
        section id="order-events" {}
    }
}
