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

/// Autocomplete: up to 10 titles (prefix of the first word, then of any word, then typos).
#[utoipa::path(get, path = "/api/search/suggest/", tag = "search",
    params(SuggestParams),
    responses(
        (status = 200, description = "Matching titles", body = Suggestions),
        (status = 400, description = "`q` missing or shorter than 3 characters", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Unavailable),
    ))]
async fn suggest_titles(State(state): State<AppState>, params: QueryParams) -> Result<Response> {
    let query = SuggestQuery::parse(params.get("q")).map_err(|error| Error::field("q", error.to_string()))?;
    let body = state.suggest.answer(&query).await?;
    Ok(json_response(body))
}

/// The body is JSON serialised once and then served from the cache as bytes.
fn json_response(body: Bytes) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
