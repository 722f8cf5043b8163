//! `GET /api/admin/search-analytics/`: the searched queries of the last days, most searched
//! first, with what the server counted but has not flushed yet (contract, "Search analytics").

use axum::Json;
use axum::extract::State;

use crate::analytics::KEPT_DAYS;
use crate::app::AppState;
use crate::db::admin::search_analytics::{self, AnalyticsKind, DayCount, QueryStats, day_of};
use crate::db::store::listings::PageOf;
use crate::domain::{FieldError, PageRequest, Timestamp};
use crate::error::{Error, Result};
use crate::http::openapi::admin_schemas::{AdminPage, AdminUnauthorized, SearchAnalyticsParams, SearchQueryStats};
use crate::http::openapi::schemas::{PageParams, ProblemDoc, Unavailable};
use crate::http::pagination::{PageLinks, Paginated};
use crate::http::{QueryParams, Route};

pub(super) fn routes() -> Vec<Route> {
    vec![Route::get("/api/admin/search-analytics/", search_analytics)]
}

/// Days shown when `days` is absent.
const DEFAULT_DAYS: i64 = 7;

/// `kind=popular` (every query) or `no_results` (only those whose last search found nothing)
/// over `days` (1..=90: today, UTC, and the days before), most searched first, then by `q`.
#[utoipa::path(get, path = "/api/admin/search-analytics/", tag = "admin", security(("admin_token" = [])),
    params(SearchAnalyticsParams, PageParams),
    responses(
        (status = 200, description = "A page of searched queries, most searched first", body = AdminPage<SearchQueryStats>),
        (status = 400, description = "Invalid kind, days or pagination", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Page past the end", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn search_analytics(
    State(state): State<AppState>,
    query: QueryParams,
    links: PageLinks,
) -> Result<Json<Paginated<QueryStats>>> {
    let page = query.page_request()?;
    let (kind, days) = analytics_filter(&query)?;
    let rows = queries_page(&state, kind, days, page).await?;
    Ok(Json(Paginated::new(rows, page, &links)?))
}

/// `kind` and `days`, each defaulted when absent or empty.
pub(crate) fn analytics_filter(query: &QueryParams) -> Result<(AnalyticsKind, i64)> {
    let mut errors = Vec::new();
    let present = |name| query.get(name).map(str::trim).filter(|text| !text.is_empty());
    let kind = match present("kind") {
        None => AnalyticsKind::Popular,
        Some(text) => AnalyticsKind::parse(text).unwrap_or_else(|| {
            errors.push(FieldError::new("kind", "must be popular or no_results"));
            AnalyticsKind::Popular
        }),
    };
    let days = match present("days") {
        None => DEFAULT_DAYS,
        Some(text) => digits(text).filter(|days| (1..=KEPT_DAYS).contains(days)).unwrap_or_else(|| {
            errors.push(FieldError::new("days", format!("must be an integer from 1 to {KEPT_DAYS}")));
            DEFAULT_DAYS
        }),
    };
    if errors.is_empty() { Ok((kind, days)) } else { Err(Error::Validation(errors)) }
}

/// A number written in ASCII digits only (no sign).
fn digits(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// The first day of the last `days` days (today included), UTC.
fn first_day(days: i64) -> i64 {
    day_of(Timestamp::now()) - (days - 1)
}

/// A page of the queries of the last `days` days, the unflushed counts added.
pub(crate) async fn queries_page(
    state: &AppState,
    kind: AnalyticsKind,
    days: i64,
    page: PageRequest,
) -> Result<PageOf<QueryStats>> {
    let _consistent = state.analytics.consistent_view().await;
    let pending = state.analytics.pending();
    let from_day = first_day(days);
    state.reads.run(move |conn| search_analytics::list(conn, kind, from_day, &pending, page)).await
}

/// Searches per day over the last `days` days, oldest first, one entry per day (zero for a
/// day without searches), the unflushed counts added.
pub(crate) async fn searches_per_day(state: &AppState, days: i64) -> Result<Vec<DayCount>> {
    let from_day = first_day(days);
    let _consistent = state.analytics.consistent_view().await;
    let pending = state.analytics.pending_days();
    let stored = state.reads.run(move |conn| search_analytics::days_from(conn, from_day)).await?;
    let mut per_day: Vec<DayCount> =
        (from_day..from_day + days).map(|day| DayCount { day, ..DayCount::default() }).collect();
    for count in stored.iter().chain(&pending) {
        if let Some(slot) = usize::try_from(count.day - from_day).ok().and_then(|at| per_day.get_mut(at)) {
            slot.searches += count.searches;
            slot.no_result_searches += count.no_result_searches;
            slot.uncapped_searches += count.uncapped_searches;
        }
    }
    Ok(per_day)
}
