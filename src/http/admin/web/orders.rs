//! Orders: the list across stores filtered by store, status and date range (newest first,
//! pages), and an order's detail: its lines, its confirmation's state, its events (docs/jobs.md),
//! its history, and the cancel button of a confirmed order (the same write as
//! `POST /orders/<id>/cancel/`, recorded in the history).

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::{get, post};
use maud::{Markup, html};

use super::Result;
use super::layout::{self, csrf_field, pager};
use super::products::HISTORY_SHOWN;
use super::session::WebSession;
use super::{FormFields, list_url, redirect, signed_in_page};
use crate::app::AppState;
use crate::db::admin::history::{self, LogEntry, ObjectType};
use crate::db::admin::listing::{self as listing, StoreRow};
use crate::db::outbox::jobs::JobRow;
use crate::db::records::{OrderBody, ReservationBody};
use crate::db::store::orders::load_order;
use crate::db::store::reservations;
use crate::domain::admin_list;
use crate::domain::{OrderId, OrderStatus, PageRequest};
use crate::error::Error;
use crate::http::QueryParams;
use crate::http::extract::PathId;
use crate::http::problem::HttpError;

const SECTION: &str = "/admin/orders/";
const STATUSES: [OrderStatus; 4] =
    [OrderStatus::Pending, OrderStatus::Confirmed, OrderStatus::Rejected, OrderStatus::Cancelled];

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/orders/", get(list_orders))
        .route("/admin/orders/{id}/", get(order_page))
        .route("/admin/orders/{id}/cancel/", post(cancel_order))
}

async fn list_orders(session: WebSession, State(state): State<AppState>, query: QueryParams) -> Result<Markup> {
    let url = list_url(SECTION, &query);
    let list = admin_list::order_list(&query).map_err(|error| HttpError::BadRequest(error.to_string()))?;
    let listed = list.clone();
    let (orders, stores) = state
        .reads
        .run(move |conn| {
            let stores = listing::stores(conn, PageRequest { page: 1, page_size: u32::MAX / 2 })?.rows;
            Ok((listing::order_list(conn, &listed)?, stores))
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
    Ok(signed_in_page(&session, "Orders", SECTION, &body))
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

/// What an order's page shows besides the order itself.
struct OrderExtras {
    store: StoreRow,
    events: Vec<JobRow>,
    log: Vec<LogEntry>,
    /// The reservation the order took (or named, for a rejected one), as of the page's read.
    reservation: Option<ReservationBody>,
}

async fn order_page(
    session: WebSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: QueryParams,
) -> Result<Markup> {
    let id = PathId::<OrderId>::parse(&id)?;
    let now = state.writer.clock().now();
    let (order, extras) = state
        .reads
        .run(move |conn| {
            let order = load_order(conn, id)?.ok_or_else(|| Error::NotFound(format!("order {id} does not exist")))?;
            let extras = OrderExtras {
                store: listing::store(conn, order.store_id)?,
                events: listing::order_events(conn, id)?,
                log: history::history(conn, ObjectType::Order, id.0, HISTORY_SHOWN)?,
                reservation: match order.reservation_id {
                    Some(reservation) => reservations::load(conn, reservation)?.map(|body| body.as_of(now)),
                    None => None,
                },
            };
            Ok((order, extras))
        })
        .await?;
    let csrf = session.csrf_token();
    let viewer = layout::Viewer { username: &session.0.username, csrf: &csrf };
    let notice = query
        .get("cancelled")
        .map(|_| format!("Order {id} is {}; its stock is back in the store.", order.status.as_str()));
    let body = html! {
        (layout::notice(notice.as_deref(), ""))
        (detail(&order, &extras, &viewer))
    };
    Ok(signed_in_page(&session, &format!("Order {id}"), SECTION, &body))
}

/// Cancels a confirmed order and returns its stock (a rejected or pending one: 409).
async fn cancel_order(
    session: WebSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response> {
    session.accept(form)?;
    let id = PathId::<OrderId>::parse(&id)?;
    state.writer.cancel_order_as(session.actor(), id).await?;
    Ok(redirect(&format!("/admin/orders/{id}/?cancelled=1")))
}

fn detail(order: &OrderBody, extras: &OrderExtras, viewer: &layout::Viewer<'_>) -> Markup {
    let store = &extras.store;
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
            @if let Some(reservation) = &extras.reservation {
                p id="reservation" { "Reservation " (reservation.id) ": "
                    span.badge.(reservation.status.as_str()) { (reservation.status.as_str()) }
                    " · held since " (reservation.created_at.to_rfc3339())
                    " · expires " (reservation.expires_at.to_rfc3339()) }
            }
            div.actions id="order-actions" {
                @if order.status == OrderStatus::Confirmed {
                    form.inline method="post" action={ "/admin/orders/" (order.id) "/cancel/" } {
                        (csrf_field(viewer))
                        button type="submit" id="cancel-order" { "Cancel order (restocks)" }
                    }
                }
            }
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
        section id="order-events" {
            h2 { "Events" }
            @if extras.events.is_empty() { p.muted { "No event." } } @else {
                div.table-wrap { table id="events" {
                    thead { tr { th.num { "job" } th { "event" } th { "id" } th { "state" } th.num { "attempts" } th { "last error" } } }
                    tbody { @for job in &extras.events {
                        tr id={ "event-" (job.id) } {
                            td.num { a href={ "/admin/jobs/" (job.id) "/" } { (job.id) } }
                            td { (job.kind) }
                            td { code { (job.event_id.as_deref().unwrap_or("")) } }
                            td { span.badge.(job.state) { (job.state) } }
                            td.num { (job.attempts) " / " (job.max_attempts) }
                            td { (job.last_error.as_deref().unwrap_or("")) }
                        }
                    } }
                } }
            }
        }
        (layout::history(&extras.log))
    }
}
