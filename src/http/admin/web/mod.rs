//! The admin pages under `/admin/`: a page per model (lists with search, filters, sortable
//! columns and pages; change forms; delete confirmations; change history), server-rendered
//! with maud, working without JavaScript. Every form is POST → 303 redirect → GET; an invalid
//! form comes back with each error beside its field and status 400.
//!
//! # Layout
//! - [`layout`]: the frame, the embedded style sheet, the list and form pieces.
//! - [`products`], [`catalog`] (categories and stores), [`inventory`], [`orders`], [`jobs`],
//!   [`accounts`], [`keys`] (API keys), [`search`] (search insights and preview), [`curation`]
//!   (synonym sets and search rules), [`stock`] (bulk stock from a CSV file): one file per section.
//! - [`login`]: the login form (a double-submit CSRF token, attempts limited per account and
//!   client address); [`session`]: the cookie session and the CSRF form token.

mod accounts;
mod catalog;
mod cookies;
mod curation;
mod inventory;
mod jobs;
mod keys;
mod layout;
mod login;
mod orders;
mod products;
mod search;
mod session;
mod stock;

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{Markup, html};
use serde_json::{Map, Value};

use self::cookies::Cookies;
use self::layout::{ListUrl, Viewer};
use self::session::{LOGIN_PATH, WebSession};
use super::auth;
use crate::app::AppState;
use crate::db::admin::history::Actor;
use crate::domain::admin_list::Params;
use crate::http::QueryParams;
use crate::http::problem::HttpError;

type FormFields = Form<HashMap<String, String>>;
/// What a page handler answers: HTTP-level errors (a stale form) besides the core ones.
type Result<T, E = HttpError> = std::result::Result<T, E>;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { Redirect::permanent("/admin/") }))
        .route("/admin/", get(dashboard))
        .route("/admin/login/", get(login::form).post(login::log_in))
        .route("/admin/logout/", post(log_out))
        .merge(products::router())
        .merge(catalog::router())
        .merge(inventory::router())
        .merge(orders::router())
        .merge(jobs::router())
        .merge(accounts::router())
        .merge(keys::router())
        .merge(curation::router())
        .merge(search::router())
        .layer(axum::middleware::map_response(security_headers))
}

/// The pages whose forms may carry up to 2 MiB (the bulk stock upload): the caller layers
/// them with that limit instead of the usual one.
pub(super) fn large_body_router() -> Router<AppState> {
    stock::router().layer(axum::middleware::map_response(security_headers))
}

/// The headers every admin page carries: what it may load and run (nothing but its own style
/// sheet), no framing (clickjacking), no content sniffing, no referrer beyond this origin,
/// and no copy in any cache (the pages show orders, accounts and CSRF tokens).
async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(layout::content_security_policy()));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

impl Params for QueryParams {
    fn param(&self, name: &str) -> Option<&str> {
        self.get(name)
    }
}

impl WebSession {
    fn viewer(&self) -> (String, String) {
        (self.0.username.clone(), self.csrf_token())
    }

    fn actor(&self) -> Actor {
        super::actor(&self.0)
    }

    /// Checks the form's CSRF token and returns its other fields.
    fn accept(&self, Form(fields): FormFields) -> Result<HashMap<String, String>> {
        self.check_csrf(fields.get("csrf").map(String::as_str))?;
        Ok(fields)
    }
}

/// A page for a signed-in admin.
fn signed_in_page(session: &WebSession, title: &str, section: &str, body: &Markup) -> Markup {
    let (username, csrf) = session.viewer();
    layout::page(title, section, Some(&Viewer { username: &username, csrf: &csrf }), body)
}

/// The list's URL as requested, for sort and page links.
fn list_url(path: &str, query: &QueryParams) -> ListUrl {
    ListUrl { path: path.to_owned(), params: query.0.clone() }
}

fn redirect(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Form fields as the JSON the API parsers take: integers where the text is one (never for
/// the free-text fields, whose digits are text).
fn form_as_json(fields: &HashMap<String, String>) -> Value {
    const TEXT_FIELDS: [&str; 6] = ["title", "description", "price", "name", "location", "username"];
    let object: Map<String, Value> = fields
        .iter()
        .filter(|(name, _)| name.as_str() != "csrf")
        .map(|(name, text)| {
            let value = match text.trim().parse::<i64>() {
                Ok(number) if !TEXT_FIELDS.contains(&name.as_str()) => Value::from(number),
                _ => Value::from(text.as_str()),
            };
            (name.clone(), value)
        })
        .collect();
    Value::Object(object)
}

async fn log_out(
    session: WebSession,
    cookies: Cookies,
    State(state): State<AppState>,
    form: FormFields,
) -> Result<Response> {
    session.accept(form)?;
    auth::logout(&state, session.0.token).await?;
    let mut response = redirect(LOGIN_PATH);
    response.headers_mut().insert(header::SET_COOKIE, cookies.cleared_session());
    Ok(response)
}

/// Sections with their sizes (bounded counts) and the failed jobs that need someone.
async fn dashboard(session: WebSession, State(state): State<AppState>) -> Result<Markup> {
    let counts = state.reads.run(crate::db::admin::listing::dashboard_counts).await?;
    Ok(signed_in_page(
        &session,
        "Dashboard",
        "/admin/",
        &html! {
            div.tiles {
                @for (path, label, count) in &counts {
                    a.card href=(path) { strong { (count) } (label) }
                }
            }
            form.toolbar method="get" action="/admin/products/" role="search" {
                label for="q" { "Find a product by title" input type="search" name="q" id="q"; }
                button type="submit" id="products-search" { "Search" }
            }
        },
    ))
}
