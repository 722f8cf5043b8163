//! The admin page under `/admin/`: log in, find and edit products, restock, see recent orders
//! (and cancel one), recent events and failed deliveries (and retry one). Server-rendered
//! forms, no scripts.

mod login;
mod pages;
mod session;

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::Markup;
use serde_json::{Map, Value};

use self::session::{LOGIN_PATH, WebSession, cleared_cookie};
use super::auth;
use crate::app::AppState;
use crate::db::admin_listing::{self as listing, OrderFilter};
use crate::db::jobs::{self, JobState};
use crate::domain::catalog::{self as input, StockUpdate};
use crate::domain::{PageRequest, ProductId, StoreId};
use crate::error::{Error, Result};
use crate::http::problem::HttpError;

/// Orders and failed jobs shown on the dashboard.
const RECENT_ROWS: u32 = 20;
/// Products per dashboard page.
const PRODUCTS_SHOWN: u32 = 50;

type FormFields = Form<HashMap<String, String>>;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::permanent("/admin/") }))
        .route("/admin/", get(dashboard))
        .route("/admin/login/", get(login::form).post(login::log_in))
        .route("/admin/logout/", post(log_out))
        .route("/admin/products/{id}/", get(product_page).post(save_product))
        .route("/admin/products/{id}/restock/", post(restock))
        .route("/admin/orders/{id}/cancel/", post(cancel_order))
        .route("/admin/jobs/{id}/retry/", post(retry_job))
}

async fn log_out(
    session: WebSession,
    State(state): State<AppState>,
    Form(fields): FormFields,
) -> Result<Response, HttpError> {
    session.check_csrf(fields.get("csrf").map(String::as_str))?;
    auth::logout(&state, session.0.token).await?;
    let mut response = Redirect::to(LOGIN_PATH).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cleared_cookie());
    Ok(response)
}

async fn dashboard(
    session: WebSession,
    State(state): State<AppState>,
    query: crate::http::QueryParams,
) -> Result<Markup> {
    let q = query.get("q").map(str::trim).unwrap_or("").to_owned();
    render_dashboard(&session, &state, q, None).await
}

async fn render_dashboard(session: &WebSession, state: &AppState, q: String, notice: Option<&str>) -> Result<Markup> {
    let search = q.clone();
    let (products, orders, events, failed_jobs) = state
        .reads
        .run(move |conn| {
            let products_page = PageRequest { page: 1, page_size: PRODUCTS_SHOWN };
            let products =
                listing::products(conn, Some(&search).filter(|q| !q.is_empty()).map(String::as_str), products_page)?;
            let orders_page = PageRequest { page: 1, page_size: RECENT_ROWS };
            let orders = listing::orders(conn, OrderFilter::default(), orders_page)?.rows;
            let recent = usize::try_from(RECENT_ROWS).unwrap_or(usize::MAX);
            Ok((
                products,
                orders,
                jobs::list_jobs(conn, None, recent)?,
                jobs::list_jobs(conn, Some(JobState::Failed), recent)?,
            ))
        })
        .await?;
    let csrf = session.csrf_token();
    Ok(pages::dashboard(&pages::Dashboard {
        username: &session.0.username,
        csrf: &csrf,
        query: &q,
        products: &products,
        orders: &orders,
        events: &events,
        failed_jobs: &failed_jobs,
        notice,
    }))
}

/// Cancels an order through the same write as `POST /orders/<id>/cancel/`.
async fn cancel_order(
    session: WebSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(fields): FormFields,
) -> Result<Markup, HttpError> {
    session.check_csrf(fields.get("csrf").map(String::as_str))?;
    let order = state.writer.cancel_order(crate::http::order_id_from_path(&id)?).await?;
    let notice =
        format!("Order {} is {}; its stock is back in store {}.", order.id, order.status.as_str(), order.store_id);
    Ok(render_dashboard(&session, &state, String::new(), Some(&notice)).await?)
}

/// Puts a failed delivery back in the queue with fresh attempts.
async fn retry_job(
    session: WebSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(fields): FormFields,
) -> Result<Markup, HttpError> {
    session.check_csrf(fields.get("csrf").map(String::as_str))?;
    let job_id = super::path_id(&id, "failed job", |id| id)?;
    if !state.writer.retry_failed_job(job_id).await? {
        return Err(Error::NotFound(format!("failed job {job_id} does not exist")).into());
    }
    let notice = format!("Job {job_id} is queued again.");
    Ok(render_dashboard(&session, &state, String::new(), Some(&notice)).await?)
}

async fn product_page(session: WebSession, state: State<AppState>, Path(id): Path<String>) -> Result<Markup> {
    render_product(&session, &state, product_id(&id)?, None).await
}

async fn render_product(session: &WebSession, state: &AppState, id: ProductId, notice: Option<&str>) -> Result<Markup> {
    let (product, categories, stock) = state
        .reads
        .run(move |conn| {
            Ok((listing::product(conn, id)?, listing::all_categories(conn)?, listing::product_stock(conn, id)?))
        })
        .await?;
    let csrf = session.csrf_token();
    Ok(pages::product(&pages::ProductPage {
        username: &session.0.username,
        csrf: &csrf,
        product: &product,
        categories: &categories,
        stock: &stock,
        notice,
    }))
}

/// The edit form, through the same parser and the same write as `PUT /api/admin/products/<id>/`.
async fn save_product(
    session: WebSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(fields): FormFields,
) -> Result<Response, HttpError> {
    session.check_csrf(fields.get("csrf").map(String::as_str))?;
    let id = product_id(&id)?;
    let saved = match input::product(&form_as_json(&fields)) {
        Ok(product) => state.writer.save_product(Some(id), product).await,
        Err(error) => Err(error),
    };
    match saved {
        Ok(_) => Ok(Redirect::to(&format!("/admin/products/{id}/")).into_response()),
        // The form again with what to fix, answered 400; the stored product is unchanged.
        Err(Error::Validation(errors)) => {
            let reasons: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
            let notice = format!("Not saved. {}", reasons.join("; "));
            let page = render_product(&session, &state, id, Some(&notice)).await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(other) => Err(other.into()),
    }
}

async fn restock(
    session: WebSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(fields): FormFields,
) -> Result<Markup, HttpError> {
    session.check_csrf(fields.get("csrf").map(String::as_str))?;
    let product_id = product_id(&id)?;
    let body = form_as_json(&fields);
    let update = input::restock(&body)?;
    let (StockUpdate::Adjust(quantity) | StockUpdate::Set(quantity)) = update;
    let store_id = body
        .get("store_id")
        .and_then(Value::as_i64)
        .filter(|id| *id > 0)
        .map(StoreId)
        .ok_or_else(|| Error::field("store_id", "must be a store id"))?;
    let now = state.writer.update_stock(store_id, product_id, update).await?;
    let notice = format!("Restocked {quantity} at store {store_id}: it now holds {now}.");
    Ok(render_product(&session, &state, product_id, Some(&notice)).await?)
}

fn product_id(text: &str) -> Result<ProductId> {
    super::path_id(text, "product", ProductId)
}

/// Form fields as the JSON the API parsers take: integers where the text is one.
fn form_as_json(fields: &HashMap<String, String>) -> Value {
    let object: Map<String, Value> = fields
        .iter()
        .filter(|(name, _)| name.as_str() != "csrf")
        .map(|(name, text)| {
            let value = match text.trim().parse::<i64>() {
                Ok(number) if name != "title" && name != "description" && name != "price" => Value::from(number),
                _ => Value::from(text.as_str()),
            };
            (name.clone(), value)
        })
        .collect();
    Value::Object(object)
}
