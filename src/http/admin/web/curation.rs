//! Search curation pages: synonym sets and search rules, each with a list, a new form (which
//! takes a prefilled `?q=`, so a no-result query can be turned into a set or a rule in one
//! click), a change form with the object's history, and a delete confirmation. The same parsers
//! and writes as `/api/admin/synonyms/` and `/api/admin/search-rules/`; search uses a change
//! from the very next request.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde_json::{Value, json};

use super::Result;
use super::layout::{self, FieldErrors, csrf_field, field};
use super::products::HISTORY_SHOWN;
use super::session::WebSession;
use super::{FormFields, redirect, signed_in_page};
use crate::app::AppState;
use crate::db::admin::curation;
use crate::db::admin::history::{LogEntry, ObjectType, history};
use crate::domain::curation::{SearchRule, SynonymSet};
use crate::domain::{PageRequest, Timestamp};
use crate::error::Error;
use crate::http::QueryParams;

const SYNONYMS: &str = "/admin/synonyms/";
const RULES: &str = "/admin/search-rules/";
/// Sets and rules listed on one page.
const SHOWN: &str = "100";

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/synonyms/", get(list_sets))
        .route("/admin/synonyms/new/", get(new_set).post(save_set))
        // The search insights link here without the trailing slash.
        .route("/admin/synonyms/new", get(new_set))
        .route("/admin/synonyms/{name}/", get(edit_set).post(save_set))
        .route("/admin/synonyms/{name}/delete/", get(confirm_delete_set).post(delete_set))
        .route("/admin/search-rules/", get(list_rules))
        .route("/admin/search-rules/new/", get(new_rule).post(save_rule))
        .route("/admin/search-rules/new", get(new_rule))
        .route("/admin/search-rules/{name}/", get(edit_rule).post(save_rule))
        .route("/admin/search-rules/{name}/delete/", get(confirm_delete_rule).post(delete_rule))
}

async fn reload_search(state: &AppState) -> Result<()> {
    let search = state.search.clone();
    Ok(state.reads.run(move |conn| search.reload_curation(conn)).await?)
}

fn page_of_all() -> Result<PageRequest> {
    Ok(PageRequest::parse(None, Some(SHOWN)).map_err(Error::Validation)?)
}

// Synonym sets.

async fn list_sets(session: WebSession, State(state): State<AppState>, query: QueryParams) -> Result<Markup> {
    let page = page_of_all()?;
    let (count, sets) = state.reads.run(move |conn| curation::list_synonym_sets(conn, &page)).await?;
    let notice = query.get("done").map(|name| format!("Synonym set {name} deleted."));
    let body = html! {
        (layout::notice(notice.as_deref(), ""))
        p.muted { (count) " synonym sets (the first " (SHOWN) " by name). A multi-way set makes each entry find the others; a set with a root makes the root find the entries only. Searches use a change at once." }
        a.button href="/admin/synonyms/new/" id="new-set" { "New synonym set" }
        div.table-wrap { table id="synonym-sets" {
            thead { tr { th { "name" } th { "root" } th { "synonyms" } } }
            tbody { @for set in &sets {
                tr {
                    td { a href={ (SYNONYMS) (set.name.as_str()) "/" } { (set.name.as_str()) } }
                    td { (set.root.as_deref().unwrap_or("—")) }
                    td { (set.synonyms.join(", ")) }
                }
            } }
        } }
    };
    Ok(signed_in_page(&session, "Synonyms", SYNONYMS, &body))
}

async fn new_set(session: WebSession, query: QueryParams) -> Result<Markup> {
    let mut form = HashMap::new();
    if let Some(q) = query.get("q") {
        form.insert("synonyms".to_owned(), q.trim().to_owned());
        form.insert("name".to_owned(), slug(q));
    }
    Ok(set_form(&session, None, &form, &FieldErrors::new(), &[], None))
}

async fn edit_set(session: WebSession, State(state): State<AppState>, Path(name): Path<String>) -> Result<Markup> {
    let wanted = name.clone();
    let (set, log) = state
        .reads
        .run(move |conn| {
            let set =
                curation::find_synonym_set(conn, &wanted)?.ok_or_else(|| curation::synonym_set_not_found(&wanted))?;
            let log = match curation::synonym_set_id(conn, &wanted)? {
                Some(id) => history(conn, ObjectType::SynonymSet, id, HISTORY_SHOWN)?,
                None => Vec::new(),
            };
            Ok((set, log))
        })
        .await?;
    let form = HashMap::from([
        ("name".to_owned(), set.name.as_str().to_owned()),
        ("root".to_owned(), set.root.clone().unwrap_or_default()),
        ("synonyms".to_owned(), set.synonyms.join("\n")),
    ]);
    Ok(set_form(&session, Some(&name), &form, &FieldErrors::new(), &log, None))
}

fn set_form(
    session: &WebSession,
    existing: Option<&str>,
    form: &HashMap<String, String>,
    errors: &FieldErrors,
    log: &[LogEntry],
    notice: Option<&str>,
) -> Markup {
    let (username, csrf) = session.viewer();
    let viewer = layout::Viewer { username: &username, csrf: &csrf };
    let value = |name: &str| form.get(name).cloned().unwrap_or_default();
    let action = existing.map_or_else(|| "/admin/synonyms/new/".to_owned(), |name| format!("{SYNONYMS}{name}/"));
    let body = html! {
        (layout::notice(notice, ""))
        form.card method="post" action=(action) novalidate {
            (csrf_field(&viewer))
            @if existing.is_some() { input type="hidden" name="name" value=(value("name")); p { "Name: " code { (value("name")) } } }
            @else { (field("name", "Name (a-z, 0-9, _ and -)", errors, &html! { input type="text" name="name" id="name" value=(value("name")) required maxlength="64"; })) }
            (field("root", "Root (one-way sets only: it finds the synonyms, not the reverse; empty: multi-way)", errors, &html! { input type="text" name="root" id="root" value=(value("root")); }))
            (field("synonyms", "Synonyms, one per line (1 to 3 words each)", errors, &html! { textarea name="synonyms" id="synonyms" rows="6" { (value("synonyms")) } }))
            @for (field_name, message) in errors.iter().filter(|(name, _)| name.starts_with("synonyms[")) {
                p.error role="alert" { (field_name) ": " (message) }
            }
            div.actions {
                button type="submit" id="save-set" { "Save" }
                @if let Some(name) = existing { a.button.danger href={ (SYNONYMS) (name) "/delete/" } id="delete-set" { "Delete" } }
            }
        }
        @if existing.is_some() { (layout::history(log)) }
    };
    let title = existing.map_or_else(|| "New synonym set".to_owned(), |name| format!("Synonym set {name}"));
    signed_in_page(session, &title, SYNONYMS, &body)
}

async fn save_set(
    session: WebSession,
    State(state): State<AppState>,
    path: Option<Path<String>>,
    form: FormFields,
) -> Result<Response> {
    let fields = session.accept(form)?;
    let existing = path.map(|Path(name)| name);
    let name = existing.clone().unwrap_or_else(|| text(&fields, "name"));
    let root = Some(text(&fields, "root")).filter(|root| !root.is_empty());
    let body = json!({"root": root, "synonyms": lines(&fields, "synonyms")});
    let set = match SynonymSet::parse(&name, &body) {
        Ok(set) => set,
        Err(error) => {
            let errors = layout::as_field_errors(error)?;
            let page = set_form(&session, existing.as_deref(), &fields, &errors, &[], None);
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    if let Err(error) = state.writer.save_synonym_set_as(session.actor(), set.clone()).await {
        let errors = layout::as_field_errors(error)?;
        let page = set_form(&session, existing.as_deref(), &fields, &errors, &[], None);
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    reload_search(&state).await?;
    Ok(redirect(&format!("{SYNONYMS}{}/", set.name.as_str())))
}

async fn confirm_delete_set(
    session: WebSession,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Markup> {
    let wanted = name.clone();
    state
        .reads
        .run(move |conn| {
            curation::find_synonym_set(conn, &wanted)?.ok_or_else(|| curation::synonym_set_not_found(&wanted))
        })
        .await?;
    Ok(confirm(&session, SYNONYMS, "synonym set", &name))
}

async fn delete_set(
    session: WebSession,
    State(state): State<AppState>,
    Path(name): Path<String>,
    form: FormFields,
) -> Result<Response> {
    session.accept(form)?;
    state.writer.delete_synonym_set_as(session.actor(), name.clone()).await?;
    reload_search(&state).await?;
    Ok(redirect(&format!("{SYNONYMS}?done={name}")))
}

// Search rules.

async fn list_rules(session: WebSession, State(state): State<AppState>, query: QueryParams) -> Result<Markup> {
    let page = page_of_all()?;
    let (count, rules) = state.reads.run(move |conn| curation::list_search_rules(conn, &page)).await?;
    let notice = query.get("done").map(|name| format!("Search rule {name} deleted."));
    let window = |rule: &SearchRule| {
        let at = |at: Option<Timestamp>| at.map_or_else(|| "…".to_owned(), Timestamp::to_rfc3339);
        if rule.active_from.is_none() && rule.active_until.is_none() {
            "always".to_owned()
        } else {
            format!("{} – {}", at(rule.active_from), at(rule.active_until))
        }
    };
    let body = html! {
        (layout::notice(notice.as_deref(), ""))
        p.muted { (count) " search rules (the first " (SHOWN) " by name), applied in name order. Pins take their places under relevance only; hides apply to every sort." }
        a.button href="/admin/search-rules/new/" id="new-rule" { "New search rule" }
        div.table-wrap { table id="search-rules" {
            thead { tr { th { "name" } th { "query" } th { "match" } th.num { "pins" } th.num { "hides" } th { "active" } } }
            tbody { @for rule in &rules {
                tr {
                    td { a href={ (RULES) (rule.name.as_str()) "/" } { (rule.name.as_str()) } }
                    td { (rule.query) }
                    td { (rule.match_kind.as_str()) }
                    td.num { (rule.pin.len()) }
                    td.num { (rule.hide.len()) }
                    td { (window(rule)) }
                }
            } }
        } }
    };
    Ok(signed_in_page(&session, "Search rules", RULES, &body))
}

async fn new_rule(session: WebSession, query: QueryParams) -> Result<Markup> {
    let mut form = HashMap::new();
    if let Some(q) = query.get("q") {
        form.insert("query".to_owned(), q.trim().to_owned());
        form.insert("name".to_owned(), slug(q));
    }
    Ok(rule_form(&session, None, &form, &FieldErrors::new(), &[]))
}

async fn edit_rule(session: WebSession, State(state): State<AppState>, Path(name): Path<String>) -> Result<Markup> {
    let wanted = name.clone();
    let (rule, log) = state
        .reads
        .run(move |conn| {
            let rule =
                curation::find_search_rule(conn, &wanted)?.ok_or_else(|| curation::search_rule_not_found(&wanted))?;
            let log = match curation::search_rule_id(conn, &wanted)? {
                Some(id) => history(conn, ObjectType::SearchRule, id, HISTORY_SHOWN)?,
                None => Vec::new(),
            };
            Ok((rule, log))
        })
        .await?;
    let pins: Vec<String> = rule.pin.iter().map(|pin| format!("{} {}", pin.product_id.0, pin.position)).collect();
    let hides: Vec<String> = rule.hide.iter().map(|id| id.0.to_string()).collect();
    let form = HashMap::from([
        ("name".to_owned(), rule.name.as_str().to_owned()),
        ("query".to_owned(), rule.query.clone()),
        ("match".to_owned(), rule.match_kind.as_str().to_owned()),
        ("pin".to_owned(), pins.join("\n")),
        ("hide".to_owned(), hides.join(", ")),
        ("active_from".to_owned(), rule.active_from.map(Timestamp::to_rfc3339).unwrap_or_default()),
        ("active_until".to_owned(), rule.active_until.map(Timestamp::to_rfc3339).unwrap_or_default()),
    ]);
    Ok(rule_form(&session, Some(&name), &form, &FieldErrors::new(), &log))
}

fn rule_form(
    session: &WebSession,
    existing: Option<&str>,
    form: &HashMap<String, String>,
    errors: &FieldErrors,
    log: &[LogEntry],
) -> Markup {
    let (username, csrf) = session.viewer();
    let viewer = layout::Viewer { username: &username, csrf: &csrf };
    let value = |name: &str| form.get(name).cloned().unwrap_or_default();
    let contains = value("match") == "contains";
    let action = existing.map_or_else(|| "/admin/search-rules/new/".to_owned(), |name| format!("{RULES}{name}/"));
    let body = html! {
        form.card method="post" action=(action) novalidate {
            (csrf_field(&viewer))
            @if existing.is_some() { input type="hidden" name="name" value=(value("name")); p { "Name: " code { (value("name")) } } }
            @else { (field("name", "Name (a-z, 0-9, _ and -)", errors, &html! { input type="text" name="name" id="name" value=(value("name")) required maxlength="64"; })) }
            (field("query", "Query", errors, &html! { input type="text" name="query" id="query" value=(value("query")) required maxlength="200"; }))
            (field("match", "Match", errors, &html! {
                select name="match" id="match" {
                    option value="exact" selected[!contains] { "exact: the whole query" }
                    option value="contains" selected[contains] { "contains: the query's words, in a row, anywhere in the search" }
                }
            }))
            (field("pin", "Pins, one per line: product id, then its 1-based position (e.g. 12 1)", errors, &html! { textarea name="pin" id="pin" rows="4" { (value("pin")) } }))
            (field("hide", "Hidden product ids, comma-separated", errors, &html! { input type="text" name="hide" id="hide" value=(value("hide")); }))
            (field("active_from", "Active from (RFC 3339; empty: now)", errors, &html! { input type="text" name="active_from" id="active_from" value=(value("active_from")); }))
            (field("active_until", "Active until (RFC 3339; empty: no end)", errors, &html! { input type="text" name="active_until" id="active_until" value=(value("active_until")); }))
            @for (field_name, message) in errors.iter().filter(|(name, _)| name.starts_with("pin[") || name.starts_with("hide[")) {
                p.error role="alert" { (field_name) ": " (message) }
            }
            div.actions {
                button type="submit" id="save-rule" { "Save" }
                @if let Some(name) = existing { a.button.danger href={ (RULES) (name) "/delete/" } id="delete-rule" { "Delete" } }
            }
        }
        @if existing.is_some() { (layout::history(log)) }
    };
    let title = existing.map_or_else(|| "New search rule".to_owned(), |name| format!("Search rule {name}"));
    signed_in_page(session, &title, RULES, &body)
}

async fn save_rule(
    session: WebSession,
    State(state): State<AppState>,
    path: Option<Path<String>>,
    form: FormFields,
) -> Result<Response> {
    let fields = session.accept(form)?;
    let existing = path.map(|Path(name)| name);
    let name = existing.clone().unwrap_or_else(|| text(&fields, "name"));
    let optional = |field: &str| Some(text(&fields, field)).filter(|value| !value.is_empty());
    let pins: Vec<Value> = lines(&fields, "pin")
        .iter()
        .map(|line| {
            let mut parts = line.split([' ', ',', '@']).filter(|part| !part.is_empty());
            json!({"product_id": number(parts.next().unwrap_or("")), "position": number(parts.next().unwrap_or("1"))})
        })
        .collect();
    let hides: Vec<Value> = text(&fields, "hide").split([',', ' ']).filter(|id| !id.is_empty()).map(number).collect();
    let body = json!({"query": text(&fields, "query"), "match": text(&fields, "match"), "pin": pins, "hide": hides,
                      "active_from": optional("active_from"), "active_until": optional("active_until")});
    let saved = match SearchRule::parse(&name, &body) {
        Ok(rule) => state.writer.save_search_rule_as(session.actor(), rule).await.map(|_| ()),
        Err(error) => Err(error),
    };
    if let Err(error) = saved {
        let errors = layout::as_field_errors(error)?;
        let page = rule_form(&session, existing.as_deref(), &fields, &errors, &[]);
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    reload_search(&state).await?;
    Ok(redirect(&format!("{RULES}{name}/")))
}

async fn confirm_delete_rule(
    session: WebSession,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Markup> {
    let wanted = name.clone();
    state
        .reads
        .run(move |conn| {
            curation::find_search_rule(conn, &wanted)?.ok_or_else(|| curation::search_rule_not_found(&wanted))
        })
        .await?;
    Ok(confirm(&session, RULES, "search rule", &name))
}

async fn delete_rule(
    session: WebSession,
    State(state): State<AppState>,
    Path(name): Path<String>,
    form: FormFields,
) -> Result<Response> {
    session.accept(form)?;
    state.writer.delete_search_rule_as(session.actor(), name.clone()).await?;
    reload_search(&state).await?;
    Ok(redirect(&format!("{RULES}?done={name}")))
}

// Shared.

fn confirm(session: &WebSession, section: &str, what: &str, name: &str) -> Markup {
    let (username, csrf) = session.viewer();
    let viewer = layout::Viewer { username: &username, csrf: &csrf };
    let path = format!("{section}{name}/");
    let question = html! { "Delete the " (what) " " strong { (name) } "? Searches stop using it at once." };
    let body = layout::delete_confirmation(&viewer, &path, &question, None);
    signed_in_page(session, &format!("Delete {what} {name}?"), section, &body)
}

fn text(fields: &HashMap<String, String>, name: &str) -> String {
    fields.get(name).map(|value| value.trim().to_owned()).unwrap_or_default()
}

/// A textarea's non-blank lines, trimmed.
fn lines(fields: &HashMap<String, String>, name: &str) -> Vec<String> {
    text(fields, name).lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_owned).collect()
}

/// A form's number, or its text (which the parser then names as invalid).
fn number(text: &str) -> Value {
    text.trim().parse::<i64>().map_or_else(|_| Value::from(text.trim()), Value::from)
}

/// A name suggested from a query: its letters and digits, words joined by `-`.
fn slug(q: &str) -> String {
    let words: Vec<String> = q
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    words.join("-").chars().take(64).collect()
}
