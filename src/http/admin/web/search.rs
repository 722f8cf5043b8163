//! The search pages: **Search insights** (the most searched and the no-result queries of the
//! last 1, 7, 30 or 90 days, each no-result query with links that open a new synonym set or
//! search rule prefilled with it, and the searches per day as an inline SVG chart) and
//! **Search preview** (a query box showing what a shopper gets: the results, the `match`
//! object and each result's explanation). Both are plain GET pages: no form posts, no script.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use maud::{Markup, html};

use super::Result;
use super::layout::{ListUrl, pager};
use super::session::WebSession;
use super::{list_url, signed_in_page};
use crate::app::AppState;
use crate::db::admin::search_analytics::{AnalyticsKind, DayCount, QueryStats};
use crate::domain::PageRequest;
use crate::domain::admin_list::ADMIN_PAGE_SIZE;
use crate::domain::text::query_text;
use crate::error::Error;
use crate::http::QueryParams;
use crate::http::admin::api::analytics::{analytics_filter, queries_page, searches_per_day};
use crate::search::explain::Explain;
use crate::search::{SearchRequest, SortOrder};

const INSIGHTS: &str = "/admin/search-insights/";
const PREVIEW: &str = "/admin/search-preview/";
/// The windows the insights page offers.
const WINDOWS: [i64; 4] = [1, 7, 30, 90];

pub(super) fn router() -> Router<AppState> {
    Router::new().route(INSIGHTS, get(insights)).route(PREVIEW, get(preview))
}

async fn insights(session: WebSession, State(state): State<AppState>, query: QueryParams) -> Result<Markup> {
    let url = list_url(INSIGHTS, &query);
    let (_, days) = analytics_filter(&query)?;
    let page_of = |name: &str| -> Result<PageRequest> {
        let page = PageRequest::parse(query.get(name).filter(|text| !text.is_empty()), None)
            .map_err(|_| Error::field(name, "must be a positive integer"))?;
        Ok(PageRequest { page_size: ADMIN_PAGE_SIZE, ..page })
    };
    let (top_page, missing_page) = (page_of("page")?, page_of("no_results_page")?);
    let top = queries_page(&state, AnalyticsKind::Popular, days, top_page).await?;
    let missing = queries_page(&state, AnalyticsKind::NoResults, days, missing_page).await?;
    let per_day = searches_per_day(&state, days).await?;
    let body = html! {
        nav.toolbar aria-label="Days" {
            span.muted { "Last" }
            @for window in WINDOWS {
                a.button.secondary[window != days] href=(url.with("days", Some(&window.to_string())))
                    aria-current=[(window == days).then_some("page")] id={ "days-" (window) } {
                    (window) @if window == 1 { " day" } @else { " days" }
                }
            }
        }
        h2 { "Searches per day" }
        (chart(&per_day))
        h2 { "Top queries" }
        (queries_table("top-queries", &top.rows, false))
        @if top.rows.is_empty() { p.muted { "No search counted in these days." } }
        (pager(&url, top_page, top.count, top.rows.len()))
        h2 { "Queries that found nothing" }
        p.muted { "Their last search found no product. Teach the engine what they mean with a synonym set, or pin products for them with a search rule." }
        (queries_table("no-result-queries", &missing.rows, true))
        @if missing.rows.is_empty() { p.muted { "Every query found something." } }
        (other_pager(&url, missing_page, missing.count, missing.rows.len()))
    };
    Ok(signed_in_page(&session, "Search insights", INSIGHTS, &body))
}

/// The pager of the no-result list, on its own page parameter (`no_results_page`), so the
/// top list keeps its page.
fn other_pager(url: &ListUrl, page: PageRequest, count: i64, shown: usize) -> Markup {
    let has_next = page.offset() + i64::try_from(shown).unwrap_or(0) < count;
    let to_page = |number: u32| {
        let mut params: Vec<(String, String)> =
            url.params.iter().filter(|(name, _)| name != "no_results_page").cloned().collect();
        params.push(("no_results_page".to_owned(), number.to_string()));
        format!("{}?{}", url.path, serde_urlencoded::to_string(&params).unwrap_or_default())
    };
    html! {
        nav.pager aria-label="Pages of queries that found nothing" {
            span id="no-results-count" { (count) " found · page " (page.page) }
            @if page.page > 1 { a href=(to_page(page.page - 1)) id="no-results-previous" rel="prev" { "← Previous" } }
            @if has_next { a href=(to_page(page.page + 1)) id="no-results-next" rel="next" { "Next →" } }
        }
    }
}

fn queries_table(id: &str, rows: &[QueryStats], with_fixes: bool) -> Markup {
    html! {
        div.table-wrap { table id=(id) {
            thead { tr {
                th { "query" } th.num { "searches" } th.num { "found nothing" } th.num { "last count" } th { "last seen" }
                @if with_fixes { th { "fix" } }
            } }
            tbody { @for row in rows {
                tr {
                    td { a href={ (PREVIEW) "?q=" (encode(&row.q)) } { (row.q) } }
                    td.num { (row.searches) }
                    td.num { (row.no_result_searches) }
                    td.num { (row.last_count) }
                    td { (row.last_seen.to_rfc3339()) }
                    @if with_fixes { td {
                        a href={ "/admin/synonyms/new?q=" (encode(&row.q)) } { "New synonym set" }
                        " · "
                        a href={ "/admin/search-rules/new?q=" (encode(&row.q)) } { "New rule" }
                    } }
                }
            } }
        } }
    }
}

/// `text` as one query-string value.
fn encode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)]).map(|pair| pair[1..].to_owned()).unwrap_or_default()
}

/// Chart geometry, in the SVG's own units (it scales to the page's width).
const CHART_WIDTH: i64 = 720;
const CHART_HEIGHT: i64 = 180;
const AXIS: i64 = 40;
const BOTTOM: i64 = 24;

/// Searches per day as bars (the part that found nothing darker), drawn server-side as an
/// inline SVG: presentation attributes only (the page's style policy allows no `style`).
fn chart(days: &[DayCount]) -> Markup {
    let most = days.iter().map(|day| day.searches).max().unwrap_or(0).max(1);
    let total: i64 = days.iter().map(|day| day.searches).sum();
    let slots = i64::try_from(days.len()).unwrap_or(1).max(1);
    let plot_width = CHART_WIDTH - AXIS - 8;
    let plot_height = CHART_HEIGHT - BOTTOM - 8;
    let slot = plot_width / slots;
    let bar = (slot * 4 / 5).max(1);
    let height_of = |value: i64| value * plot_height / most;
    let label = format!("Searches per day: {total} in {} days, at most {most} a day", days.len());
    html! {
        figure.card id="searches-per-day" {
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (CHART_WIDTH) " " (CHART_HEIGHT) }
                width="100%" role="img" aria-label=(label) {
                title { (label) }
                line x1=(AXIS) y1=(8 + plot_height) x2=(CHART_WIDTH - 8) y2=(8 + plot_height) stroke="#b9c1cf" {}
                text x=(AXIS - 6) y="16" text-anchor="end" font-size="11" fill="#5b6478" { (most) }
                text x=(AXIS - 6) y=(8 + plot_height) text-anchor="end" font-size="11" fill="#5b6478" { "0" }
                @for (at, day) in days.iter().enumerate() {
                    @let x = AXIS + i64::try_from(at).unwrap_or(0) * slot + (slot - bar) / 2;
                    @let all = height_of(day.searches);
                    @let nothing = height_of(day.no_result_searches);
                    g {
                        title { (date(day.day)) ": " (day.searches) " searches, " (day.no_result_searches) " found nothing" }
                        rect x=(x) y=(8 + plot_height - all) width=(bar) height=(all) fill="#3b5bdb" {}
                        rect x=(x) y=(8 + plot_height - nothing) width=(bar) height=(nothing) fill="#c92a2a" {}
                    }
                }
                @if let (Some(first), Some(last)) = (days.first(), days.last()) {
                    text x=(AXIS) y=(CHART_HEIGHT - 6) font-size="11" fill="#5b6478" { (date(first.day)) }
                    text x=(CHART_WIDTH - 8) y=(CHART_HEIGHT - 6) text-anchor="end" font-size="11" fill="#5b6478" { (date(last.day)) }
                }
            }
            figcaption.muted { (total) " searches · blue: found something, red: found nothing" }
        }
    }
}

/// A day number as `2026-12-08`.
fn date(day: i64) -> String {
    let at = crate::domain::Timestamp::from_micros(day.saturating_mul(86_400_000_000));
    at.to_rfc3339().chars().take(10).collect()
}

async fn preview(session: WebSession, State(state): State<AppState>, query: QueryParams) -> Result<Markup> {
    let q = query_text("q", query.get("q")).map_err(|error| Error::Validation(vec![error]))?;
    let body = match &q {
        None => {
            html! { (preview_form("")) p.muted { "Type what a shopper would: the page shows what they get, and why." } }
        }
        Some(text) => {
            // Searched as a shopper's would be, with every explanation; never counted in the
            // search analytics (the index is asked directly, not through the public route).
            let request = SearchRequest {
                q: Some(text.clone()),
                sort: SortOrder::Relevance,
                explain: true,
                page: PageRequest { page: 1, page_size: ADMIN_PAGE_SIZE },
                ..SearchRequest::default()
            };
            let results = state.search.search_queued(request).await?;
            let match_json = results
                .match_info
                .as_ref()
                .map(|info| serde_json::to_string_pretty(info).unwrap_or_default())
                .unwrap_or_else(|| "null".to_owned());
            html! {
                (preview_form(text))
                h2 { "What matched" }
                p id="preview-count" { strong { (results.count) } " products found" }
                pre.card id="preview-match" { code { (match_json) } }
                div.table-wrap { table id="preview-results" {
                    thead { tr { th.num { "#" } th { "product" } th { "category" } th.num { "price" } th.num { "score" } th { "why" } } }
                    tbody { @for (at, row) in results.rows.iter().enumerate() {
                        tr id={ "result-" (row.id.0) } {
                            td.num { (at + 1) }
                            td { a href={ "/admin/products/" (row.id.0) "/" } { (row.title) } }
                            td { (row.category) }
                            td.num { (row.price.to_string()) }
                            td.num { (row.score.map(|score| format!("{score:.2}")).unwrap_or_default()) }
                            td { (explanation(row.explain.as_ref())) }
                        }
                    } }
                } }
                @if results.rows.is_empty() { p.muted { "A shopper gets no product for this query." } }
            }
        }
    };
    Ok(signed_in_page(&session, "Search preview", PREVIEW, &body))
}

fn preview_form(q: &str) -> Markup {
    html! {
        form.toolbar method="get" action=(PREVIEW) role="search" {
            label for="q" { "Query" input type="search" name="q" id="q" value=(q); }
            button type="submit" id="preview-search" { "Search" }
        }
    }
}

fn explanation(explain: Option<&Explain>) -> Markup {
    let Some(explain) = explain else { return html! {} };
    html! {
        ul.explain {
            @if explain.pinned { li { span.badge { "pinned" } } }
            @for word in &explain.words {
                li {
                    code { (word.word) } " → " code { (word.term) } " "
                    span.badge { (word.how) } " in " (word.field)
                    @if word.typos > 0 { " · " (word.typos) @if word.typos == 1 { " typo" } @else { " typos" } }
                }
            }
            li.muted { "BM25 " (format!("{:.2}", explain.bm25)) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_draws_one_bar_pair_per_day_scaled_to_the_busiest() {
        let days: Vec<DayCount> = (0..7)
            .map(|day| DayCount {
                day: 20_000 + day,
                searches: day * 10,
                no_result_searches: day,
                uncapped_searches: 0,
            })
            .collect();
        let svg = chart(&days).into_string();
        assert_eq!(svg.matches("<rect").count(), 14);
        assert!(svg.contains("2024-10-04"), "the first day is labelled: {svg}");
        assert!(svg.contains(&format!("height=\"{}\"", CHART_HEIGHT - BOTTOM - 8)), "the busiest day is full height");
        assert!(!svg.contains("style="), "no inline style: the page's policy would block it");
    }

    #[test]
    fn a_query_is_encoded_for_a_link() {
        assert_eq!(encode("red scarf & co"), "red+scarf+%26+co");
    }
}
