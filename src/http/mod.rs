//! The HTTP surface: one router per resource, merged here, and the layers every request
//! passes through (tracing, timeout, body limit, problem+json for every error).

pub mod access;
pub mod admin;
mod extract;
mod health;
mod keys;
mod layers;
mod metrics;
pub mod openapi;
mod orders;
pub mod pagination;
mod primary_redirect;
pub mod problem;
mod reservations;
mod search;
mod serve;
mod stores;
mod suggest;

pub use extract::{JsonBody, QueryParams};
pub use serve::{LocalAddr, serve};
pub use stores::ensure_store_exists;

use std::future::Future;

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{self, MethodRouter};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use self::problem::Problem;
use crate::app::AppState;
use crate::config::HttpOptions;

/// Request bodies larger than this are refused with 413 (contract).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The body limit of a bulk stock update (the JSON route and the admin upload form).
pub const MAX_BULK_BODY_BYTES: usize = 2 * 1024 * 1024;
/// One route the app serves. Each resource file lists its routes; the router is built from
/// [`routes`] and the OpenAPI test reads the same list, so a route cannot be served without
/// that test checking it is documented.
#[derive(Clone)]
pub struct Route {
    /// The HTTP method it answers.
    pub method: Method,
    /// axum's template, e.g. `/orders/{order_id}/` (the OpenAPI template too).
    pub path: &'static str,
    handler: MethodRouter<AppState>,
}

impl Route {
    /// A `GET` route.
    pub fn get<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Self {
        Self { method: Method::GET, path, handler: routing::get(handler) }
    }

    /// A `POST` route.
    pub fn post<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Self {
        Self { method: Method::POST, path, handler: routing::post(handler) }
    }

    /// A `PUT` route.
    pub fn put<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Self {
        Self { method: Method::PUT, path, handler: routing::put(handler) }
    }

    /// A `PATCH` route.
    pub fn patch<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Self {
        Self { method: Method::PATCH, path, handler: routing::patch(handler) }
    }

    /// A `DELETE` route.
    pub fn delete<H: Handler<T, AppState>, T: 'static>(path: &'static str, handler: H) -> Self {
        Self { method: Method::DELETE, path, handler: routing::delete(handler) }
    }
}

/// The API: behind the concurrency limit.
fn api_routes() -> Vec<Route> {
    [orders::routes(), reservations::routes(), stores::routes(), search::routes(), suggest::routes()].concat()
}

/// What an operator needs while the API is overloaded: never shed.
fn operations_routes() -> Vec<Route> {
    let mut routes = health::routes();
    routes.push(Route::get("/metrics", metrics::render_metrics));
    routes.push(Route::get("/openapi.json", openapi::serve_openapi));
    routes.push(Route::get("/docs/", openapi::serve_docs));
    routes
}

/// Every route the app serves (the admin page's HTML routes aside: they are no part of the
/// JSON API the OpenAPI document describes).
pub fn routes() -> Vec<Route> {
    [api_routes(), admin::api_routes(), admin::large_body_api_routes(), keys::routes(), operations_routes()].concat()
}

/// The routes, each behind its access rule ([`access::RULES`]): a route without one is a bug
/// caught at start-up (and by every test that builds the router), never a route left open.
fn build(routes: Vec<Route>, state: &AppState) -> Router<AppState> {
    // axum merges two methods on one path; the same method twice panics at start-up.
    routes.into_iter().fold(Router::new(), |router, route| {
        let Some(rule) = access::rule_for(&route.method, route.path) else {
            panic!("{} {} has no access rule in http::access::RULES", route.method, route.path);
        };
        let enforced = std::sync::Arc::new(access::Enforced { state: state.clone(), gate: rule.gate });
        // `route_layer`: only matched methods pass the gate, so routing's 404/405 come first.
        let handler = route.handler.route_layer(axum::middleware::from_fn_with_state(enforced, access::enforce));
        router.route(route.path, handler)
    })
}

/// The whole application router. Layers, from the outside in: request id and tracing span;
/// CORS (when configured); gzip; request metrics (inside the router, to see the matched route);
/// problem+json for every error; timeout; body limit; then, on the API routes only, load
/// shedding.
pub fn router(state: AppState, options: &HttpOptions) -> Router {
    let api = layers::with_load_shedding(build(api_routes(), &state), options.max_concurrent_requests);
    let primary = state.replica.as_ref().map(|replica| replica.primary().clone());
    // The admin API is not behind the load shedding: an operator must get in while it sheds.
    let json = with_limits(
        api.merge(build([admin::api_routes(), keys::routes()].concat(), &state))
            .merge(build(operations_routes(), &state))
            .fallback(fallback),
        options,
        MAX_BODY_BYTES,
    )
    // Layered on their own, so their larger limit is the only one they pass.
    .merge(with_limits(build(admin::large_body_api_routes(), &state), options, MAX_BULK_BODY_BYTES))
    // Outside the limit and timeout layers, so their responses are reshaped too. The JSON
    // routes only: the admin page answers its errors as HTML with their real status.
    .layer(axum::middleware::map_response(errors_as_problems));
    // A read replica: the pages' writes go to the primary before any handler could see them
    // (the JSON routes' gate sends theirs once it has checked the credential).
    let pages = with_limits(admin::web_router(), options, MAX_BODY_BYTES).merge(with_limits(
        admin::large_body_web_router(),
        options,
        MAX_BULK_BODY_BYTES,
    ));
    let pages = match primary {
        Some(primary) => pages.layer(axum::middleware::from_fn_with_state(primary, primary_redirect::redirect_writes)),
        None => pages,
    };
    let router = json.merge(pages).with_state(state);
    // `--public-url` travels with each request to what builds links and cookies.
    let router = match &options.public_url {
        Some(public_url) => router.layer(axum::Extension(public_url.clone())),
        None => router,
    };
    let router =
        router.layer(axum::middleware::from_fn(metrics::track_requests)).layer(CompressionLayer::new().gzip(true));
    let router = match layers::cors(&options.cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    };
    layers::with_request_id_and_trace(router)
}

/// Serving is the application's lifecycle with this router; `app` does not know `http`.
impl crate::app::Application {
    /// Serves until `shutdown` completes, then shuts down in order (see [`Self::serve`]).
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        self.serve(|listener, state, http| async move {
            let router = router(state, &http);
            serve(listener, router, http.request_timeout, shutdown).await;
        })
        .await
    }
}

/// The body limit (`max_body` bytes) and the request timeout, which every route has.
fn with_limits(routes: Router<AppState>, options: &HttpOptions, max_body: usize) -> Router<AppState> {
    routes
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, options.request_timeout))
}

/// Unknown routes: a path missing its trailing slash is redirected (308 keeps the method and
/// body), anything else is a problem+json 404.
async fn fallback(request: Request) -> Response {
    let uri = request.uri();
    let path = uri.path();
    let slashable = ["/orders", "/stores", "/api/", "/docs"].iter().any(|prefix| path.starts_with(prefix));
    if slashable && !path.ends_with('/') {
        let target = match uri.query() {
            Some(query) => format!("{path}/?{query}"),
            None => format!("{path}/"),
        };
        return Redirect::permanent(&target).into_response();
    }
    Problem::new(StatusCode::NOT_FOUND, format!("no route for {path}")).into_response()
}

/// Gives every error response the contract's shape, including those produced outside our
/// handlers (axum's 405, tower-http's 413 and timeout). JSON bodies (our problems, the
/// order body of a 409) pass through untouched. Every 503 says when to retry.
async fn errors_as_problems(response: Response) -> Response {
    let mut response = reshape_as_problem(response);
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        // Load shedding sets its own; a timeout or a readiness 503 is worth a retry as soon.
        response.headers_mut().entry(header::RETRY_AFTER).or_insert(HeaderValue::from_static(layers::RETRY_AFTER_SECS));
    }
    response
}

fn reshape_as_problem(response: Response) -> Response {
    let status = response.status();
    let is_json =
        response.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).is_some_and(|value| {
            value.starts_with("application/json") || value.starts_with("application/problem+json")
        });
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let detail = match status {
        StatusCode::METHOD_NOT_ALLOWED => "this route does not accept that method".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "request bodies are limited to {MAX_BODY_BYTES} bytes ({MAX_BULK_BODY_BYTES} for bulk stock updates)"
        ),
        StatusCode::SERVICE_UNAVAILABLE => "the request took too long or the service is unavailable".to_owned(),
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    let allow: Option<HeaderValue> = response.headers().get(header::ALLOW).cloned();
    let mut problem = Problem::new(status, detail).into_response();
    if let Some(allow) = allow {
        problem.headers_mut().insert(header::ALLOW, allow);
    }
    problem
}
