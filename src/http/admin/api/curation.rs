//! Search administration: synonym sets and search rules (`/api/admin/synonyms/`,
//! `/api/admin/search-rules/`). Each change is one write on the single writer with its history
//! entry, then search reloads the sets and rules before the answer goes out, so the very next
//! search uses them.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use crate::access::Caller;
use crate::app::AppState;
use crate::db::admin::curation::{self, search_rule_not_found, synonym_set_not_found};
use crate::db::store::listings::PageOf;
use crate::domain::curation::{SearchRule, SynonymSet};
use crate::error::Result;
use crate::http::openapi::admin_schemas::{AdminUnauthorized, BodyNotJson, BodyTooLarge};
use crate::http::openapi::curation_schemas::{
    SearchRuleBody, SearchRuleDoc, SearchRulePage, SynonymSetBody, SynonymSetDoc, SynonymSetPage,
};
use crate::http::openapi::schemas::{PageParams, ProblemDoc, Unavailable};
use crate::http::pagination::{PageLinks, Paginated};
use crate::http::{JsonBody, QueryParams, Route};

pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/admin/synonyms/", list_synonym_sets),
        Route::get("/api/admin/synonyms/{name}/", get_synonym_set),
        Route::put("/api/admin/synonyms/{name}/", put_synonym_set),
        Route::delete("/api/admin/synonyms/{name}/", delete_synonym_set),
        Route::get("/api/admin/search-rules/", list_search_rules),
        Route::get("/api/admin/search-rules/{name}/", get_search_rule),
        Route::put("/api/admin/search-rules/{name}/", put_search_rule),
        Route::delete("/api/admin/search-rules/{name}/", delete_search_rule),
    ]
}

/// Makes the change visible to the very next search.
pub(crate) async fn reload_search(state: &AppState) -> Result<()> {
    let search = state.search.clone();
    state.reads.run(move |conn| search.reload_curation(conn)).await
}

#[utoipa::path(get, path = "/api/admin/synonyms/", tag = "admin", security(("admin_token" = [])), params(PageParams),
    responses(
        (status = 200, description = "A page of synonym sets, by name", body = SynonymSetPage),
        (status = 400, description = "Invalid pagination", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Page past the end", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn list_synonym_sets(
    State(state): State<AppState>,
    query: QueryParams,
    links: PageLinks,
) -> Result<Json<Paginated<SynonymSet>>> {
    let page = query.page_request()?;
    let (count, rows) = state.reads.run(move |conn| curation::list_synonym_sets(conn, &page)).await?;
    Ok(Json(Paginated::new(PageOf { count, rows }, page, &links)?))
}

#[utoipa::path(get, path = "/api/admin/synonyms/{name}/", tag = "admin", security(("admin_token" = [])),
    params(("name" = String, Path, description = "Set name")),
    responses(
        (status = 200, description = "The set", body = SynonymSetDoc),
        (status = 404, description = "Unknown set", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn get_synonym_set(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<SynonymSet>> {
    let wanted = name.clone();
    let set = state.reads.run(move |conn| curation::find_synonym_set(conn, &wanted)).await?;
    Ok(Json(set.ok_or_else(|| synonym_set_not_found(&name))?))
}

#[utoipa::path(put, path = "/api/admin/synonyms/{name}/", tag = "admin", security(("admin_token" = [])),
    params(("name" = String, Path, description = "Set name: 1..=64 of a-z, 0-9, _ and -")), request_body = SynonymSetBody,
    responses(
        (status = 200, description = "The set as saved (recorded in the history); searches use it at once", body = SynonymSetDoc),
        (status = 400, description = "Invalid name or entries, or 10,000 sets exist", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = BodyNotJson),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn put_synonym_set(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<SynonymSet>> {
    let set = SynonymSet::parse(&name, &body)?;
    state.writer.save_synonym_set_as(caller.actor(), set.clone()).await?;
    reload_search(&state).await?;
    Ok(Json(set))
}

#[utoipa::path(delete, path = "/api/admin/synonyms/{name}/", tag = "admin", security(("admin_token" = [])),
    params(("name" = String, Path, description = "Set name")),
    responses(
        (status = 204, description = "Deleted (recorded in the history)"),
        (status = 404, description = "Unknown (or already deleted) set", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn delete_synonym_set(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode> {
    state.writer.delete_synonym_set_as(caller.actor(), name).await?;
    reload_search(&state).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/admin/search-rules/", tag = "admin", security(("admin_token" = [])), params(PageParams),
    responses(
        (status = 200, description = "A page of search rules, by name", body = SearchRulePage),
        (status = 400, description = "Invalid pagination", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Page past the end", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn list_search_rules(
    State(state): State<AppState>,
    query: QueryParams,
    links: PageLinks,
) -> Result<Json<Paginated<SearchRule>>> {
    let page = query.page_request()?;
    let (count, rows) = state.reads.run(move |conn| curation::list_search_rules(conn, &page)).await?;
    Ok(Json(Paginated::new(PageOf { count, rows }, page, &links)?))
}

#[utoipa::path(get, path = "/api/admin/search-rules/{name}/", tag = "admin", security(("admin_token" = [])),
    params(("name" = String, Path, description = "Rule name")),
    responses(
        (status = 200, description = "The rule", body = SearchRuleDoc),
        (status = 404, description = "Unknown rule", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn get_search_rule(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<SearchRule>> {
    let wanted = name.clone();
    let rule = state.reads.run(move |conn| curation::find_search_rule(conn, &wanted)).await?;
    Ok(Json(rule.ok_or_else(|| search_rule_not_found(&name))?))
}

#[utoipa::path(put, path = "/api/admin/search-rules/{name}/", tag = "admin", security(("admin_token" = [])),
    params(("name" = String, Path, description = "Rule name: 1..=64 of a-z, 0-9, _ and -")), request_body = SearchRuleBody,
    responses(
        (status = 200, description = "The rule as saved (recorded in the history); searches use it at once", body = SearchRuleDoc),
        (status = 400, description = "Invalid fields, unknown products, or active_from after active_until", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = BodyNotJson),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn put_search_rule(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<SearchRule>> {
    let rule = SearchRule::parse(&name, &body)?;
    state.writer.save_search_rule_as(caller.actor(), rule.clone()).await?;
    reload_search(&state).await?;
    Ok(Json(rule))
}

#[utoipa::path(delete, path = "/api/admin/search-rules/{name}/", tag = "admin", security(("admin_token" = [])),
    params(("name" = String, Path, description = "Rule name")),
    responses(
        (status = 204, description = "Deleted (recorded in the history)"),
        (status = 404, description = "Unknown (or already deleted) rule", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 401, response = AdminUnauthorized),
        (status = 503, response = Unavailable),
    ))]
pub(crate) async fn delete_search_rule(
    caller: Caller,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode> {
    state.writer.delete_search_rule_as(caller.actor(), name).await?;
    reload_search(&state).await?;
    Ok(StatusCode::NO_CONTENT)
}
