//! API keys: the list (prefix, reach, expiry, limit, last use), a create form whose answer
//! shows the secret once, a change form (name, description, expiry, limit) with the key's
//! history, and revoking with a confirmation. The same parsers and writes as `/api/keys/`.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde_json::{Map, Value, json};

use super::Result;
use super::layout::{self, FieldErrors, csrf_field, field};
use super::products::HISTORY_SHOWN;
use super::session::WebSession;
use super::{FormFields, redirect, signed_in_page};
use crate::app::AppState;
use crate::db::admin::api_keys::{self, ApiKeyId, ApiKeyRecord};
use crate::db::admin::history::{ObjectType, history};
use crate::domain::access::{Action, ApiKeyPatch, NewApiKey};
use crate::domain::{PageRequest, Timestamp};
use crate::error::Error;
use crate::http::extract::PathId;

const SECTION: &str = "/admin/keys/";
/// Keys listed on the page; a shop has a handful.
const KEYS_SHOWN: &str = "100";

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/keys/", get(keys_page).post(create_key))
        .route("/admin/keys/{id}/", get(key_page).post(update_key))
        .route("/admin/keys/{id}/revoke/", get(confirm_revoke).post(revoke_key))
}

async fn keys_page(
    session: WebSession,
    State(state): State<AppState>,
    query: crate::http::QueryParams,
) -> Result<Markup> {
    let notice =
        query.get("done").filter(|done| *done == "revoked").map(|_| "The key is revoked: it is refused from now on.");
    render_list(&session, &state, notice, &FieldErrors::new(), &HashMap::new()).await
}

async fn render_list(
    session: &WebSession,
    state: &AppState,
    notice: Option<&str>,
    errors: &FieldErrors,
    form: &HashMap<String, String>,
) -> Result<Markup> {
    let page = PageRequest::parse(None, Some(KEYS_SHOWN)).map_err(Error::Validation)?;
    let (count, keys) = state.reads.run(move |conn| api_keys::list_keys(conn, &page)).await?;
    let csrf = session.csrf_token();
    let viewer = layout::Viewer { username: &session.0.username, csrf: &csrf };
    let value = |name: &str| form.get(name).cloned().unwrap_or_default();
    let body = html! {
        (layout::notice(notice, ""))
        @if !state.access.is_keyed() {
            p.notice.warn id="open-mode" { "This server runs in open mode (no master key): keys are kept but not checked until a master key is set." }
        }
        p.muted { (count) " keys. A key is shown by its first 12 characters; its secret only once, when it is made." }
        div.table-wrap { table id="keys" {
            thead { tr { th.num { "id" } th { "name" } th { "prefix" } th { "actions" } th { "stores" } th { "expires" } th { "limit" } th { "last used" } } }
            tbody { @for key in &keys {
                tr {
                    td.num { (key.id.0) }
                    td { a href={ "/admin/keys/" (key.id.0) "/" } { (key.name) } }
                    td { code { (key.prefix) } }
                    td { (key.actions.names().join(", ")) }
                    td { (stores_text(key)) }
                    td { (optional_time(key.expires_at)) }
                    td { (limit_text(key)) }
                    td { (optional_time(key.last_used_at)) }
                }
            } }
        } }
        h2 { "New key" }
        form.card method="post" action="/admin/keys/" novalidate {
            (csrf_field(&viewer))
            (field("name", "Name", errors, &html! { input type="text" name="name" id="name" value=(value("name")) required maxlength="100"; }))
            (field("description", "Description", errors, &html! { input type="text" name="description" id="description" value=(value("description")) maxlength="1000"; }))
            (field("actions", "Actions", errors, &html! {
                div.choices { @for action in Action::EVERY {
                    label.choice { input type="checkbox" name={ "action:" (action.as_str()) } checked[form.contains_key(&format!("action:{}", action.as_str()))]; " " code { (action.as_str()) } }
                } }
            }))
            (field("store_ids", "Only these stores (ids, comma-separated; empty: every store)", errors, &html! { input type="text" name="store_ids" id="store_ids" value=(value("store_ids")) inputmode="numeric"; }))
            (field("expires_at", "Expires at (RFC 3339, e.g. 2027-12-31T00:00:00Z; empty: never)", errors, &html! { input type="text" name="expires_at" id="expires_at" value=(value("expires_at")); }))
            (field("rate_limit", "Rate limit (requests per second and burst, e.g. 50/100; empty: none)", errors, &html! { input type="text" name="rate_limit" id="rate_limit" value=(value("rate_limit")); }))
            div.actions { button type="submit" id="create-key" { "Create key" } }
        }
    };
    Ok(signed_in_page(session, "API keys", SECTION, &body))
}

async fn create_key(session: WebSession, State(state): State<AppState>, form: FormFields) -> Result<Response> {
    let fields = session.accept(form)?;
    let parsed = NewApiKey::parse(&key_json(&fields, true), Timestamp::now());
    let key = match parsed {
        Ok(key) => key,
        Err(error) => {
            let errors = layout::as_field_errors(error)?;
            let page = render_list(&session, &state, None, &errors, &fields).await?;
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    let (record, secret) = state.writer.create_api_key(session.actor(), key).await?;
    state.access.reload(&state.reads).await?;
    let body = html! {
        p.notice id="notice" role="status" { "Key " strong { (record.name) } " created. Copy its secret now: it is never shown again." }
        div.card { p { code id="secret" { (secret.as_str()) } } }
        a.button href={ "/admin/keys/" (record.id.0) "/" } { "Go to the key" }
    };
    let mut response = signed_in_page(&session, "API key created", SECTION, &body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn key_page(session: WebSession, State(state): State<AppState>, Path(id): Path<String>) -> Result<Markup> {
    let id: ApiKeyId = PathId::parse(&id)?;
    render_key(&session, &state, id, None, &FieldErrors::new()).await
}

async fn render_key(
    session: &WebSession,
    state: &AppState,
    id: ApiKeyId,
    notice: Option<&str>,
    errors: &FieldErrors,
) -> Result<Markup> {
    let (key, log) = state
        .reads
        .run(move |conn| {
            let key = api_keys::find_key(conn, id)?.ok_or_else(|| api_keys::key_not_found(id))?;
            Ok((key, history(conn, ObjectType::ApiKey, id.0, HISTORY_SHOWN)?))
        })
        .await?;
    let csrf = session.csrf_token();
    let viewer = layout::Viewer { username: &session.0.username, csrf: &csrf };
    let expires = key.expires_at.map(Timestamp::to_rfc3339).unwrap_or_default();
    let limit = key.rate_limit.map(|rate| format!("{}/{}", rate.per_second, rate.burst)).unwrap_or_default();
    let body = html! {
        (layout::notice(notice, ""))
        dl.card {
            dt { "prefix" } dd { code { (key.prefix) } }
            dt { "actions" } dd { (key.actions.names().join(", ")) }
            dt { "stores" } dd { (stores_text(&key)) }
            dt { "created" } dd { (key.created_at.to_rfc3339()) }
            dt { "last used" } dd { (optional_time(key.last_used_at)) }
        }
        p.muted { "A key's actions and stores never change: create a new key and revoke this one." }
        form.card method="post" action={ "/admin/keys/" (key.id.0) "/" } novalidate {
            (csrf_field(&viewer))
            (field("name", "Name", errors, &html! { input type="text" name="name" id="name" value=(key.name) required maxlength="100"; }))
            (field("description", "Description", errors, &html! { input type="text" name="description" id="description" value=(key.description) maxlength="1000"; }))
            (field("expires_at", "Expires at (RFC 3339; empty: never)", errors, &html! { input type="text" name="expires_at" id="expires_at" value=(expires); }))
            (field("rate_limit", "Rate limit (per second/burst; empty: none)", errors, &html! { input type="text" name="rate_limit" id="rate_limit" value=(limit); }))
            div.actions {
                button type="submit" id="save-key" { "Save" }
                a.button.danger href={ "/admin/keys/" (key.id.0) "/revoke/" } id="revoke-key" { "Revoke" }
            }
        }
        (layout::history(&log))
    };
    Ok(signed_in_page(session, &format!("API key {}", key.name), SECTION, &body))
}

async fn update_key(
    session: WebSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response> {
    let id: ApiKeyId = PathId::parse(&id)?;
    let fields = session.accept(form)?;
    let patch = match ApiKeyPatch::parse(&key_json(&fields, false), Timestamp::now()) {
        Ok(patch) => patch,
        Err(error) => {
            let errors = layout::as_field_errors(error)?;
            return Ok(
                (StatusCode::BAD_REQUEST, render_key(&session, &state, id, None, &errors).await?).into_response()
            );
        }
    };
    state.writer.update_api_key(session.actor(), id, patch).await?;
    state.access.reload(&state.reads).await?;
    Ok(render_key(&session, &state, id, Some("Saved."), &FieldErrors::new()).await?.into_response())
}

async fn confirm_revoke(session: WebSession, State(state): State<AppState>, Path(id): Path<String>) -> Result<Markup> {
    let id: ApiKeyId = PathId::parse(&id)?;
    let key =
        state.reads.run(move |conn| api_keys::find_key(conn, id)).await?.ok_or_else(|| api_keys::key_not_found(id))?;
    let csrf = session.csrf_token();
    let viewer = layout::Viewer { username: &session.0.username, csrf: &csrf };
    let body = html! {
        div.card {
            p { "Revoke " strong { (key.name) } " (" code { (key.prefix) } ")? Every request with it is refused from now on. This cannot be undone." }
            form method="post" action={ "/admin/keys/" (key.id.0) "/revoke/" } {
                (csrf_field(&viewer))
                div.actions {
                    button.danger type="submit" id="confirm-revoke" { "Yes, revoke it" }
                    a.button.secondary href={ "/admin/keys/" (key.id.0) "/" } { "No, keep it" }
                }
            }
        }
    };
    Ok(signed_in_page(&session, "Revoke an API key", SECTION, &body))
}

async fn revoke_key(
    session: WebSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: FormFields,
) -> Result<Response> {
    let id: ApiKeyId = PathId::parse(&id)?;
    session.accept(form)?;
    state.writer.revoke_api_key(session.actor(), id).await?;
    state.access.reload(&state.reads).await?;
    Ok(redirect("/admin/keys/?done=revoked"))
}

/// The form as the JSON `/api/keys/` takes: checked actions as a list, the store ids as
/// numbers, `per_second/burst` as the limit object, empty optional fields as null (on a
/// change, every field is sent: the form shows them all).
fn key_json(fields: &HashMap<String, String>, creating: bool) -> Value {
    let text = |name: &str| fields.get(name).map(|value| value.trim().to_owned()).unwrap_or_default();
    let optional = |name: &str| Some(text(name)).filter(|value| !value.is_empty());
    let mut object = Map::new();
    object.insert("name".into(), Value::from(text("name")));
    object.insert("description".into(), Value::from(text("description")));
    object.insert("expires_at".into(), optional("expires_at").map_or(Value::Null, Value::from));
    let limit = optional("rate_limit").map_or(Value::Null, |limit| match limit.split_once('/') {
        Some((per_second, burst)) => json!({"per_second": number(per_second), "burst": number(burst)}),
        None => json!({"per_second": number(&limit), "burst": number(&limit)}),
    });
    object.insert("rate_limit".into(), limit);
    if creating {
        let actions: Vec<&str> = Action::EVERY
            .iter()
            .map(|action| action.as_str())
            .filter(|name| fields.contains_key(&format!("action:{name}")))
            .collect();
        object.insert("actions".into(), json!(actions));
        let stores =
            optional("store_ids").map_or(Value::Null, |list| Value::Array(list.split(',').map(number).collect()));
        object.insert("store_ids".into(), stores);
    }
    Value::Object(object)
}

/// A form's number, or its text (which the parser then names as invalid).
fn number(text: &str) -> Value {
    text.trim().parse::<i64>().map_or_else(|_| Value::from(text.trim()), Value::from)
}

fn stores_text(key: &ApiKeyRecord) -> String {
    match key.stores.to_json() {
        Value::Null => "every store".to_owned(),
        stores => stores
            .as_array()
            .map(|ids| ids.iter().map(Value::to_string).collect::<Vec<_>>().join(", "))
            .unwrap_or_default(),
    }
}

fn limit_text(key: &ApiKeyRecord) -> String {
    key.rate_limit.map_or_else(|| "—".to_owned(), |rate| format!("{}/s, burst {}", rate.per_second, rate.burst))
}

fn optional_time(at: Option<Timestamp>) -> String {
    at.map_or_else(|| "—".to_owned(), Timestamp::to_rfc3339)
}
