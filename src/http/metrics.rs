//! The HTTP side of metrics: the middleware that counts and times every request, and
//! `GET /metrics`. The recorder and the metric names are the leaf `crate::metrics`; the job
//! counts come from `db::outbox::jobs`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::db::outbox::jobs::count_by_state;
use crate::error::Result;
use crate::metrics::{self, UNMATCHED_ROUTE};

/// Middleware: counts and times every request by matched route and status. Must sit inside
/// the router (`Router::layer`) to see the [`MatchedPath`], and outside the layers that answer
/// on their own (timeout, load shedding) to count their answers too.
pub(super) async fn track_requests(request: Request, next: Next) -> Response {
    // Installs the recorder before any handler records (the first request of a process too).
    metrics::handle();
    // The matched path is an `Arc` inside: cloning it is a count, not a copy of the template.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let route = route.as_ref().map_or(UNMATCHED_ROUTE, MatchedPath::as_str);
    metrics::request_answered(method, route, response.status().as_u16(), started.elapsed());
    response
}

/// Standard methods by name; any other (clients may invent methods) as one value.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// `GET /metrics`: the registry in Prometheus text format, with this app's gauges refreshed.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition format", body = String, content_type = "text/plain")))]
pub(super) async fn render_metrics(State(state): State<AppState>) -> Result<Response> {
    let jobs = state.reads.run(count_by_state).await?;
    metrics::record_job_depths(&jobs);
    metrics::index_documents(state.search.num_docs());
    let mut response = metrics::render().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    Ok(response)
}
