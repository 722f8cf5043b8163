//! The HTTP surface: one router per resource, merged here, and the layers every request
//! passes through (tracing, timeout, body limit, problem+json for every error).

mod extract;
mod health;
mod orders;
pub mod pagination;
mod search;
mod stores;
mod suggest;

pub use extract::{JsonBody, QueryParams};
pub use stores::{ensure_store_exists, parse_store_id};

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::app::AppState;
use crate::error::Problem;

/// Request bodies larger than this are refused with 413 (contract).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// A request still running after this is answered 503 rather than left hanging.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole application router.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(orders::router())
        .merge(stores::router())
        .merge(search::router())
        .merge(health::router())
        .merge(suggest::router())
        .merge(crate::admin::router())
        .fallback(fallback)
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, REQUEST_TIMEOUT))
        // Outside the limit and timeout layers, so their responses are reshaped too.
        .layer(axum::middleware::map_response(errors_as_problems))
        .layer(TraceLayer::new_for_http())
}

/// Unknown routes: a path missing its trailing slash is redirected (308 keeps the method and
/// body), anything else is a problem+json 404.
async fn fallback(request: Request) -> Response {
    let uri = request.uri();
    let path = uri.path();
    let slashable = ["/orders", "/stores", "/api/"].iter().any(|prefix| path.starts_with(prefix));
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
/// order body of a 409) pass through untouched.
async fn errors_as_problems(response: Response) -> Response {
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
        StatusCode::PAYLOAD_TOO_LARGE => format!("request bodies are limited to {MAX_BODY_BYTES} bytes"),
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
