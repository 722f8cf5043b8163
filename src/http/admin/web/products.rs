//! Products: the list (title search, category filter, sort by id, title or price, pages),
//! the create and change form with the product's stock in every store and its history, the
//! delete confirmation, and restocking.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};

use super::Result;
use super::layout::{
    self, FieldErrors, ListUrl, as_field_errors, csrf_field, field, pager, sort_header, uncounted_pager,
};
use super::session::WebSession;
use super::{FormFields, form_as_json, list_url, redirect, signed_in_page};
use crate::app::AppState;
use crate::db::admin::history::{self, ObjectType};
use crate::db::admin::listing::{self as listing, CategoryRow, ProductRow};
use crate::db::store::listings::PageOf;
use crate::domain::admin_list::{self, ProductList, ProductSort};
use crate::domain::catalog::{self as input, StockUpdate};
use crate::domain::{ProductId, StoreId};
use crate::error::Error;
use crate::http::QueryParams;
use crate::http::extract::PathId;
use crate::http::problem::HttpError;

const SECTION: &str = "/admin/products/";
/// History entries shown on an object's page.
pub(super) const HISTORY_SHOWN: i64 = 50;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/products/", get(list_products))
        .route("/admin/products/new/", get(new_product).post(create_product))
        .route("/admin/products/{id}/", get(product_page).post(save_product))
        .route("/admin/products/{id}/delete/", get(confirm_delete).post(delete_product))
        .route("/admin/products/{id}/restock/", post(restock))
}

pub(super) fn product_id(text: &str) -> crate::error::Result<ProductId> {
    PathId::parse(text)
}

async fn list_products(session: WebSession, State(state): State<AppState>, query: QueryParams) -> Result<Response> {
    let url = list_url(SECTION, &query);
    let list = match admin_list::product_list(&query) {
        Ok(list) => list,
        Err(Error::Validation(errors)) => {
            let message: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
            return Err(HttpError::BadRequest(message.join("; ")));
        }
        Err(other) => return Err(other.into()),
    };
    let (search, listed) = (state.search.clone(), list.clone());
    let (products, categories) = state
        .reads
        .run(move |conn| Ok((search.admin_products(conn, &listed)?, listing::all_categories(conn)?)))
        .await?;
    Ok(signed_in_page(&session, "Products", SECTION, &list_page(&url, &list, &products, &categories)).into_response())
}

fn list_page(
    url: &ListUrl,
    list: &ProductList,
    (products, counted): &(PageOf<ProductRow>, bool),
    categories: &[CategoryRow],
) -> Markup {
    html! {
        form.toolbar method="get" action=(SECTION) role="search" {
            label for="q" { "Title contains" input type="search" name="q" id="q" value=(url.get("q")); }
            label for="category" { "Category"
                select name="category" id="category" {
                    option value="" { "any" }
                    @for category in categories {
                        option value=(category.id) selected[list.category == Some(category.id)] { (category.name) }
                    }
                }
            }
            input type="hidden" name="sort" value=(list.sort.to_param());
            button type="submit" id="products-search" { "Filter" }
            a.button.secondary href="/admin/products/new/" id="add" { "Add product" }
        }
        div.table-wrap { table id="products" {
            thead { tr {
                (sort_header(url, list.sort, ProductSort::Id, "id", true))
                (sort_header(url, list.sort, ProductSort::Title, "title", false))
                th { "category" }
                (sort_header(url, list.sort, ProductSort::Price, "price", true))
            } }
            tbody { @for product in &products.rows {
                tr {
                    td.num { (product.id) }
                    td { a href={ "/admin/products/" (product.id) "/" } { (product.title) } }
                    td { (product.category) }
                    td.num { (product.price) }
                }
            } }
        } }
        @if products.rows.is_empty() { p.muted { "No product matches." } }
        @if *counted {
            (pager(url, list.page, products.count, products.rows.len()))
        } @else {
            (uncounted_pager(url, list.page, products.count, products.rows.len()))
        }
        p.muted { "Sortable by id, title and price: the orders an index serves at any catalog size." }
    }
}

/// The form's values: the stored product, or what was submitted when it comes back invalid.
struct ProductForm {
    title: String,
    description: String,
    price: String,
    category_id: String,
}

impl ProductForm {
    fn of(product: &ProductRow) -> Self {
        Self {
            title: product.title.clone(),
            description: product.description.clone(),
            price: product.price.to_string(),
            category_id: product.category_id.to_string(),
        }
    }

    fn submitted(fields: &std::collections::HashMap<String, String>) -> Self {
        let get = |name: &str| fields.get(name).cloned().unwrap_or_default();
        Self {
            title: get("title"),
            description: get("description"),
            price: get("price"),
            category_id: get("category_id"),
        }
    }
}

fn product_form(
    action: &str,
    form: &ProductForm,
    categories: &[CategoryRow],
    errors: &FieldErrors,
    csrf: &Markup,
) -> Markup {
    html! {
        form.card method="post" action=(action) novalidate {
            (csrf)
            (field("title", "Title", errors, &html! { input type="text" name="title" id="title" value=(form.title) required maxlength="200"; }))
            (field("description", "Description", errors, &html! { textarea name="description" id="description" rows="8" { (form.description) } }))
            (field("price", "Price", errors, &html! { input type="text" name="price" id="price" value=(form.price) inputmode="decimal" required; }))
            (field("category_id", "Category", errors, &html! {
                select name="category_id" id="category_id" {
                    @for category in categories {
                        option value=(category.id) selected[category.id.to_string() == form.category_id] { (category.name) }
                    }
                }
            }))
            div.actions { button type="submit" id="save" { "Save" } }
        }
    }
}

async fn new_product(session: WebSession, State(state): State<AppState>) -> Result<Markup> {
    let categories = state.reads.run(listing::all_categories).await?;
    let empty = ProductForm {
        title: String::new(),
        description: String::new(),
        price: String::new(),
        category_id: String::new(),
    };
    Ok(new_page(&session, &empty, &categories, &FieldErrors::new()))
}

fn new_page(session: &WebSession, form: &ProductForm, categories: &[CategoryRow], errors: &FieldErrors) -> Markup {
    let csrf = html! { input type="hidden" name="csrf" value=(session.csrf_token()); };
    signed_in_page(
        session,
        "Add product",
        SECTION,
        &product_form("/admin/products/new/", form, categories, errors, &csrf),
    )
}

async fn create_product(session: WebSession, State(state): State<AppState>, form: FormFields) -> Result<Response> {
    let fields = session.accept(form)?;
    let saved = match input::product(&form_as_json(&fields)) {
        Ok(product) => state.writer.save_product_as(session.actor(), None, product).await,
        Err(error) => Err(error),
    };
    match saved {
        Ok(id) => Ok(redirect(&format!("/admin/products/{id}/"))),
        Err(error) => {
            let errors = as_field_errors(error)?;
            let categories = state.reads.run(listing::all_categories).await?;
            let page = new_page(&session, &ProductForm::submitted(&fields), &categories, &errors);
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
    }
}

async fn product_page(
    session: WebSession,
    State(state): State<AppState>,
    PathId(id): PathId<ProductId>,
) -> Result<Markup> {
    render_product(&session, &state, id, None, None, &FieldErrors::new()).await
}

/// The change page: the form (stored values, or `submitted` ones with `errors`), the stock in
/// every store, the history.
async fn render_product(
    session: &WebSession,
    state: &AppState,
    id: ProductId,
    submitted: Option<ProductForm>,
    notice: Option<&str>,
    errors: &FieldErrors,
) -> Result<Markup> {
    let (product, categories, stock, log) = state
        .reads
        .run(move |conn| {
            Ok((
                listing::product(conn, id)?,
                listing::all_categories(conn)?,
                listing::product_stock(conn, id)?,
                history::history(conn, ObjectType::Product, id.0, HISTORY_SHOWN)?,
            ))
        })
        .await?;
    let form = submitted.unwrap_or_else(|| ProductForm::of(&product));
    let csrf = session.csrf_token();
    let viewer = layout::Viewer { username: &session.0.username, csrf: &csrf };
    let action = format!("/admin/products/{id}/");
    let body = html! {
        (layout::notice(notice, if errors.is_empty() { "" } else { "bad" }))
        (product_form(&action, &form, &categories, errors, &csrf_field(&viewer)))
        div.actions { a.button.danger href={ "/admin/products/" (id) "/delete/" } id="delete" { "Delete…" } }
        h2 { "Stock by store" }
        div.table-wrap { table id="stock" {
            thead { tr { th { "store" } th.num { "quantity" } th { "restock" } } }
            tbody { @for (store, quantity) in &stock {
                tr id={ "store-" (store.id) } {
                    td { a href={ "/admin/stores/" (store.id) "/inventory/" } { (store.name) } }
                    td.num.quantity { @match quantity { Some(quantity) => (quantity), None => "not carried" } }
                    td {
                        form.inline method="post" action={ "/admin/products/" (id) "/restock/" } {
                            (csrf_field(&viewer))
                            input type="hidden" name="store_id" value=(store.id);
                            label.muted for={ "restock-" (store.id) } { "add" }
                            input type="number" name="quantity" id={ "restock-" (store.id) } min="1" value="10" required;
                            button type="submit" { "Restock" }
                        }
                    }
                }
            } }
        } }
        (layout::history(&log))
    };
    Ok(signed_in_page(session, &format!("Product {id}: {}", product.title), SECTION, &body))
}

/// The change form, through the same parser and the same write as `PUT /api/admin/products/<id>/`.
async fn save_product(
    session: WebSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response> {
    let fields = session.accept(form)?;
    let id = product_id(&id)?;
    let saved = match input::product(&form_as_json(&fields)) {
        Ok(product) => state.writer.save_product_as(session.actor(), Some(id), product).await,
        Err(error) => Err(error),
    };
    match saved {
        Ok(_) => Ok(redirect(&format!("/admin/products/{id}/"))),
        // The form again with each error beside its field, answered 400; nothing is stored.
        Err(error) => {
            let errors = as_field_errors(error)?;
            let submitted = Some(ProductForm::submitted(&fields));
            let page = render_product(
                &session,
                &state,
                id,
                submitted,
                Some("Not saved: fix the fields marked below."),
                &errors,
            )
            .await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
    }
}

async fn confirm_delete(
    session: WebSession,
    State(state): State<AppState>,
    PathId(id): PathId<ProductId>,
) -> Result<Markup> {
    let product = state.reads.run(move |conn| listing::product(conn, id)).await?;
    Ok(delete_page(&session, &product, None))
}

fn delete_page(session: &WebSession, product: &ProductRow, refusal: Option<&str>) -> Markup {
    let csrf = session.csrf_token();
    let viewer = layout::Viewer { username: &session.0.username, csrf: &csrf };
    let id = product.id;
    signed_in_page(
        session,
        &format!("Delete product {id}?"),
        SECTION,
        &layout::delete_confirmation(
            &viewer,
            &format!("/admin/products/{id}/"),
            &html! { "Delete " strong { (product.title) } " and its stock rows in every store?" },
            refusal,
        ),
    )
}

async fn delete_product(
    session: WebSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response> {
    session.accept(form)?;
    let id = product_id(&id)?;
    match state.writer.delete_product_as(session.actor(), id).await {
        Ok(()) => Ok(redirect("/admin/products/")),
        // The data forbids it (orders name the product): say why, 409, nothing deleted.
        Err(Error::Conflict(reason)) => {
            let product = state.reads.run(move |conn| listing::product(conn, id)).await?;
            let reason = format!("Not deleted: {reason}. Orders keep their lines, so a product they name stays.");
            Ok((StatusCode::CONFLICT, delete_page(&session, &product, Some(&reason))).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

async fn restock(
    session: WebSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response> {
    let fields = session.accept(form)?;
    let product_id = product_id(&id)?;
    let body = form_as_json(&fields);
    let update = match input::restock(&body) {
        Ok(update) => update,
        Err(error) => {
            let errors = as_field_errors(error)?;
            let page = render_product(
                &session,
                &state,
                product_id,
                None,
                Some("Not restocked: quantity must be at least 1."),
                &errors,
            )
            .await?;
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    let (StockUpdate::Adjust(quantity) | StockUpdate::Set(quantity) | StockUpdate::Restock(quantity)) = update;
    let store_id = body
        .get("store_id")
        .and_then(serde_json::Value::as_i64)
        .filter(|id| *id > 0)
        .map(StoreId)
        .ok_or_else(|| Error::field("store_id", "must be a store id"))?;
    let now = state.writer.update_stock_as(session.actor(), store_id, product_id, update).await?;
    let notice = format!("Restocked {quantity} at store {store_id}: it now holds {now}.");
    Ok(render_product(&session, &state, product_id, None, Some(&notice), &FieldErrors::new()).await?.into_response())
}
