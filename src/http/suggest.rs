//! `GET /api/search/suggest/?q=...`: autocomplete titles, cached.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::extract::QueryParams;
use crate::app::AppState;
use crate::error::{Error, Result};
use crate::suggest::SuggestQuery;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/search/suggest/", get(suggest_titles))
}

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
