//! `GET /api/search/suggest/?q=...`: autocomplete titles, cached.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::Route;
use super::extract::QueryParams;
use super::openapi::schemas::{ProblemDoc, SuggestParams, Suggestions, Unavailable};
use crate::app::AppState;
use crate::error::{Error, Result};
use crate::suggest::SuggestQuery;

pub(super) fn routes() -> Vec<Route> {
    vec![Route::get("/api/search/suggest/", suggest_titles)]
}

/// Autocomplete: up to 10 titles (prefix of the first word, then of any word, then typos);
/// with `queries=true`, also up to 5 popular past searches that found something.
#[utoipa::path(get, path = "/api/search/suggest/", tag = "search",
    params(SuggestParams),
    responses(
        (status = 200, description = "Matching titles", body = Suggestions),
        (status = 400, description = "`q` missing or shorter than 3 characters, or `queries` not a boolean", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Unavailable),
    ))]
async fn suggest_titles(State(state): State<AppState>, params: QueryParams) -> Result<Response> {
    let query = SuggestQuery::parse(params.get("q")).map_err(|error| Error::field("q", error.to_string()))?;
    let with_queries = params.boolean("queries")?.unwrap_or(false);
    let body = state.suggest.answer(&query).await?;
    if !with_queries {
        return Ok(json_response(body));
    }
    // The titles come from their cache; the past queries from the analytics' snapshot of the
    // last flush, looked up per request (a range of a sorted list), so an answer with
    // `queries` is never one cached without them nor one older than the last flush.
    let queries = state.analytics.suggested_queries(query.normalised());
    Ok(json_response(with_past_queries(&body, &queries)?))
}

/// The cached `{"results": [...]}` with `"queries": [...]` added.
fn with_past_queries(body: &[u8], queries: &[String]) -> Result<Bytes> {
    let invariant = |error: serde_json::Error| Error::Invariant(format!("a cached suggestion: {error}"));
    let mut answer: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body).map_err(invariant)?;
    answer.insert("queries".to_owned(), serde_json::json!(queries));
    Ok(Bytes::from(serde_json::to_vec(&answer).map_err(invariant)?))
}

/// The body is JSON serialised once and then served from the cache as bytes.
fn json_response(body: Bytes) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
