//! The tower layers around the routes that are configurable or need more than one line:
//! load shedding, CORS, and the request id with its tracing span. `mod.rs` says in which order
//! they wrap the routes.

use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{BoxError, Router};
use std::time::Duration;
use tower::ServiceBuilder;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::load_shed::LoadShedLayer;
use tower::load_shed::error::Overloaded;
use tower_http::classify::ServerErrorsFailureClass;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

use super::problem::Problem;
use crate::telemetry::{self, REQUEST_ID_HEADER};

/// Seconds a refused client is told to wait: requests here take milliseconds, so a slot is
/// free again almost at once.
pub(super) const RETRY_AFTER_SECS: &str = "1";

/// At most `max_concurrent` requests through `routes` at once (one semaphore shared by every
/// route, though `Router::layer` wraps each route separately); one more is answered 503 at
/// once rather than queued, so an overload costs clients a retry, not a timeout, and memory
/// stays bounded.
pub(super) fn with_load_shedding<S: Clone + Send + Sync + 'static>(
    routes: Router<S>,
    max_concurrent: usize,
) -> Router<S> {
    routes.layer(
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(overloaded))
            .layer(LoadShedLayer::new())
            .layer(GlobalConcurrencyLimitLayer::new(max_concurrent)),
    )
}

/// The answer when no slot is free: problem+json 503 with `Retry-After`.
async fn overloaded(error: BoxError) -> Response {
    let (status, detail) = if error.is::<Overloaded>() {
        (StatusCode::SERVICE_UNAVAILABLE, "the service is at its limit of concurrent requests; retry shortly")
    } else {
        // The layers here fail only with `Overloaded`; anything else is our bug, logged.
        tracing::error!(%error, "unexpected error in the load-shedding layers");
        (StatusCode::INTERNAL_SERVER_ERROR, "an internal error occurred; it has been logged")
    };
    let mut response = Problem::new(status, detail).into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
    response
}

/// CORS for the configured origins, or `None` (no CORS headers at all) when there are none.
pub(super) fn cors(origins: &[HeaderValue]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow_origin = if origins.iter().any(|origin| origin == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().cloned())
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow_origin)
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
            .allow_headers([
                header::CONTENT_TYPE,
                header::AUTHORIZATION,
                HeaderName::from_static("idempotency-key"),
                HeaderName::from_static(REQUEST_ID_HEADER),
            ])
            .expose_headers([HeaderName::from_static(REQUEST_ID_HEADER), header::RETRY_AFTER]),
    )
}

/// Outermost layers: give the request an `x-request-id` when it has none, run it in a span
/// carrying that id, and return the id on the response.
pub(super) fn with_request_id_and_trace(router: Router) -> Router {
    let header = HeaderName::from_static(REQUEST_ID_HEADER);
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::new(header.clone(), MakeRequestUuid))
            .layer(TraceLayer::new_for_http().make_span_with(telemetry::request_span::<Body>).on_failure(log_failure))
            .layer(PropagateRequestIdLayer::new(header)),
    )
}

/// Logs a failed response, except a `503`: those come in storms (a full data volume, an
/// overload) whose cause is logged once elsewhere (`db::health`) or counted (`/metrics`),
/// and one line per refused request would bury it.
// tower-http's `on_failure` hands the class over by value.
#[allow(clippy::needless_pass_by_value)]
fn log_failure(class: ServerErrorsFailureClass, latency: Duration, _span: &Span) {
    if matches!(class, ServerErrorsFailureClass::StatusCode(StatusCode::SERVICE_UNAVAILABLE)) {
        tracing::debug!(%class, ?latency, "response failed");
    } else {
        tracing::error!(%class, ?latency, "response failed");
    }
}
