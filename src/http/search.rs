//! `GET /api/search/products/`: parses the query string into a [`SearchRequest`] and runs
//! it through the search queue, on a search thread (tantivy and SQLite both block).

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use super::Route;
use super::extract::QueryParams;
use super::openapi::schemas::{self as doc, PageParams, ProblemDoc, SearchParams, Unavailable};
use super::pagination::{PageLinks, Paginated};
use crate::access::Caller;
use crate::app::AppState;
use crate::db::store::listings::PageOf;
use crate::domain::text::query_text;
use crate::domain::{CategoryId, Money, StoreId, parse_positive_id};
use crate::error::{Error, Result};
use crate::search::rows::{Facets, MatchInfo};
use crate::search::{CategoryFilter, PriceRange, SearchRequest, SearchRow, SortOrder};

pub(super) fn routes() -> Vec<Route> {
    vec![Route::get("/api/search/products/", search_products)]
}

/// The pagination envelope plus the facets of the whole match set.
#[derive(Debug, Serialize)]
struct SearchPage {
    #[serde(flatten)]
    page: Paginated<SearchRow>,
    facets: Facets,
    /// Only with words in `q`.
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    match_info: Option<MatchInfo>,
}

/// Relevance-ranked, filtered, faceted product search.
#[utoipa::path(get, path = "/api/search/products/", tag = "search",
    params(SearchParams, PageParams),
    responses(
        (status = 200, description = "A page of products and the facets of all matches", body = doc::SearchPage),
        (status = 400, description = "Invalid parameter: a bad value, a control character in `q` or `category`, or a page ending beyond the first 10,000 results", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Unknown store or page past the end", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Unavailable),
    ))]
async fn search_products(
    caller: Caller,
    State(state): State<AppState>,
    query: QueryParams,
    links: PageLinks,
) -> Result<Json<SearchPage>> {
    let request = parse_search_request(&query)?;
    // Not part of the request: it changes nothing in the answer (nor its cache key).
    let counted = query.boolean("analytics")?.unwrap_or(true);
    if let Some(store_id) = request.store_id {
        caller.require_store(store_id)?;
    }
    let page = request.page;
    let counted_q = (counted && page.page == 1).then(|| request.q.clone()).flatten();
    let results = state.search.search_queued(request).await?;
    let rows = PageOf { count: results.count, rows: results.rows.clone() };
    let page = Paginated::new(rows, page, &links)?;
    // Only an answered page 1 counts (contract, "Search analytics"); a few map updates.
    if let Some(q) = counted_q {
        state.analytics.record(&q, results.count);
    }
    Ok(Json(SearchPage { page, facets: results.facets.clone(), match_info: results.match_info.clone() }))
}

/// Every parameter of the contract; an empty value counts as absent (as DRF filters do).
fn parse_search_request(query: &QueryParams) -> Result<SearchRequest> {
    let present = |name| query.get(name).map(str::trim).filter(|value| !value.is_empty());
    // Query words and a category's name are one line of text (contract, Conventions).
    let q = query_text("q", query.get("q"))?;
    let sort = match present("sort") {
        None => SortOrder::default_for(q.is_some()),
        Some(text) => SortOrder::parse(text)
            .ok_or_else(|| Error::field("sort", "must be one of relevance, price, -price, newest"))?,
    };
    let price = PriceRange::new(money(present("min_price"), "min_price")?, money(present("max_price"), "max_price")?)
        .ok_or_else(|| Error::field("min_price", "must not be greater than max_price"))?;
    let store_id = present("store_id")
        .map(|text| {
            parse_positive_id(text).map(StoreId).ok_or_else(|| Error::field("store_id", "must be a positive integer"))
        })
        .transpose()?;
    let category = query_text("category", query.get("category"))?.map(|text| match parse_positive_id(&text) {
        Some(id) => CategoryFilter::Id(CategoryId(id)),
        None => CategoryFilter::Name(text),
    });
    Ok(SearchRequest {
        q,
        category,
        price,
        store_id,
        in_stock: query.boolean("in_stock")?,
        sort,
        stock_first: query.boolean("stock_first")?.unwrap_or(false),
        highlight: query.boolean("highlight")?.unwrap_or(false),
        explain: query.boolean("explain")?.unwrap_or(false),
        page: query.page_request()?,
    })
}

fn money(text: Option<&str>, field: &str) -> Result<Option<Money>> {
    text.map(|text| {
        Money::parse(text).ok_or_else(|| Error::field(field, "must be a non-negative decimal with at most two places"))
    })
    .transpose()
}
