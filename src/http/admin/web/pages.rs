//! The page's HTML, rendered with maud: no templates on disk, no scripts, no external assets
//! (the style sheet is inline), so the binary is the whole admin.

use maud::{DOCTYPE, Markup, html};

use crate::db::admin_listing::{CategoryRow, OrderRow, ProductRow, StoreRow};
use crate::db::jobs::JobRow;
use crate::db::listings::PageOf;
use crate::domain::OrderStatus;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
form.inline{display:inline}.error{color:#b00}nav form{display:inline}input,select,textarea{margin:.2rem}";

fn layout(title: &str, signed_in_as: Option<(&str, &str)>, body: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (title) " · Aforro admin" }
                style { (STYLE) }
            }
            body {
                nav {
                    a href="/admin/" { "Aforro admin" }
                    @if let Some((username, csrf)) = signed_in_as {
                        " · signed in as " strong { (username) } " "
                        form method="post" action="/admin/logout/" {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { "Log out" }
                        }
                    }
                }
                h1 { (title) }
                (body)
            }
        }
    }
}

/// The login form; `csrf` is the double-submit token also set as the login cookie.
pub(super) fn login(csrf: &str, error: Option<&str>) -> Markup {
    layout(
        "Log in",
        None,
        &html! {
            @if let Some(error) = error { p.error id="error" { (error) } }
            form method="post" action="/admin/login/" {
                input type="hidden" name="csrf" value=(csrf);
                label { "Username " input type="text" name="username" id="username" autocomplete="username" required; }
                br;
                label { "Password " input type="password" name="password" id="password" autocomplete="current-password" required; }
                br;
                button type="submit" id="login" { "Log in" }
            }
        },
    )
}

/// What the dashboard shows.
pub(super) struct Dashboard<'a> {
    pub username: &'a str,
    pub csrf: &'a str,
    pub query: &'a str,
    pub products: &'a PageOf<ProductRow>,
    pub orders: &'a [OrderRow],
    /// The newest events (jobs), whatever their state.
    pub events: &'a [JobRow],
    pub failed_jobs: &'a [JobRow],
    pub notice: Option<&'a str>,
}

pub(super) fn dashboard(page: &Dashboard<'_>) -> Markup {
    layout(
        "Dashboard",
        Some((page.username, page.csrf)),
        &html! {
            @if let Some(notice) = page.notice { p id="notice" { (notice) } }
            h2 { "Products" }
            form method="get" action="/admin/" {
                input type="search" name="q" id="q" value=(page.query) placeholder="title contains…";
                button type="submit" id="products-search" { "Search" }
            }
            p { (page.products.count) " products" @if !page.query.is_empty() { " matching “" (page.query) "”" } }
            table id="products" {
                tr { th { "id" } th { "title" } th { "category" } th { "price" } }
                @for product in &page.products.rows {
                    tr {
                        td { (product.id) }
                        td { a href={ "/admin/products/" (product.id) "/" } { (product.title) } }
                        td { (product.category) }
                        td { (product.price) }
                    }
                }
            }
            h2 { "Recent orders" }
            table id="orders" {
                tr { th { "id" } th { "store" } th { "status" } th { "items" } th { "created" } th {} }
                @for order in page.orders {
                    tr id={ "order-" (order.id) } {
                        td { (order.id) } td { (order.store_id) } td.status { (order.status.as_str()) }
                        td { (order.total_quantity) } td { (order.created_at.to_rfc3339()) }
                        td {
                            @if order.status == OrderStatus::Confirmed {
                                (post_button(&format!("/admin/orders/{}/cancel/", order.id), page.csrf, "Cancel"))
                            }
                        }
                    }
                }
            }
            h2 { "Recent events" }
            @if page.events.is_empty() { p { "None." } } @else {
                table id="events" {
                    tr { th { "job" } th { "event" } th { "id" } th { "order" } th { "state" } th { "attempts" } }
                    @for job in page.events {
                        tr {
                            td { (job.id) } td { (job.kind) } td { (job.event_id.as_deref().unwrap_or("")) }
                            td { @if let Some(order) = job.order_id { (order) } }
                            td { (job.state) } td { (job.attempts) }
                        }
                    }
                }
            }
            h2 { "Failed deliveries" }
            @if page.failed_jobs.is_empty() { p { "None." } } @else {
                table id="failed-jobs" {
                    tr { th { "job" } th { "event" } th { "order" } th { "attempts" } th { "last error" } th {} }
                    @for job in page.failed_jobs {
                        tr id={ "job-" (job.id) } {
                            td { (job.id) } td { (job.kind) }
                            td { @if let Some(order) = job.order_id { (order) } }
                            td { (job.attempts) } td { (job.last_error.as_deref().unwrap_or("")) }
                            td { (post_button(&format!("/admin/jobs/{}/retry/", job.id), page.csrf, "Retry")) }
                        }
                    }
                }
            }
        },
    )
}

/// A one-button form that POSTs to `action` with the CSRF token.
fn post_button(action: &str, csrf: &str, label: &str) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { (label) }
        }
    }
}

/// What the product page shows.
pub(super) struct ProductPage<'a> {
    pub username: &'a str,
    pub csrf: &'a str,
    pub product: &'a ProductRow,
    pub categories: &'a [CategoryRow],
    /// Every store and its stock of the product (`None`: not carried).
    pub stock: &'a [(StoreRow, Option<i64>)],
    pub notice: Option<&'a str>,
}

pub(super) fn product(page: &ProductPage<'_>) -> Markup {
    let product = page.product;
    layout(
        &format!("Product {}", product.id),
        Some((page.username, page.csrf)),
        &html! {
            @if let Some(notice) = page.notice { p id="notice" { (notice) } }
            form method="post" action={ "/admin/products/" (product.id) "/" } {
                input type="hidden" name="csrf" value=(page.csrf);
                label { "Title " input type="text" name="title" value=(product.title) required; } br;
                label { "Description " textarea name="description" { (product.description) } } br;
                label { "Price " input type="text" name="price" value=(product.price) required; } br;
                label { "Category "
                    select name="category_id" {
                        @for category in page.categories {
                            option value=(category.id) selected[category.id == product.category_id] { (category.name) }
                        }
                    }
                } br;
                button type="submit" id="save" { "Save" }
            }
            h2 { "Stock" }
            table id="stock" {
                tr { th { "store" } th { "quantity" } th { "restock" } }
                @for (store, quantity) in page.stock {
                    tr id={ "store-" (store.id) } {
                        td { (store.name) }
                        td.quantity { @match quantity { Some(quantity) => (quantity), None => "not carried" } }
                        td {
                            form.inline method="post" action={ "/admin/products/" (product.id) "/restock/" } {
                                input type="hidden" name="csrf" value=(page.csrf);
                                input type="hidden" name="store_id" value=(store.id);
                                input type="number" name="quantity" min="1" value="10" required;
                                button type="submit" { "Restock" }
                            }
                        }
                    }
                }
            }
        },
    )
}
