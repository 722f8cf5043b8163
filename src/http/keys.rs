//! `/api/keys/`: create (the secret shown once), list, read, edit and revoke API keys. Every
//! change goes through the writer, is recorded in the admin history, and reloads the server's
//! key ring before the answer, so a revoked key is refused from the very next request.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::Route;
use super::extract::{JsonBody, PathId, QueryParams};
use super::openapi::access_schemas::{ApiKeyBody, ApiKeyDoc, ApiKeyPage, ApiKeyPatchBody, NewApiKeyDoc};
use super::openapi::admin_schemas::{BodyNotJson, BodyTooLarge};
use super::openapi::schemas::{PageParams, ProblemDoc, Unavailable};
use super::pagination::{PageLinks, Paginated};
use crate::access::Caller;
use crate::app::AppState;
use crate::db::admin::api_keys::{self, ApiKeyId, ApiKeyRecord, key_not_found};
use crate::db::store::listings::PageOf;
use crate::domain::Timestamp;
use crate::domain::access::{ApiKeyPatch, NewApiKey};
use crate::error::{Error, Result};

pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::get("/api/keys/", list_keys),
        Route::post("/api/keys/", create_key),
        Route::get("/api/keys/{id}/", get_key),
        Route::patch("/api/keys/{id}/", update_key),
        Route::delete("/api/keys/{id}/", revoke_key),
    ]
}

/// Creates a key no wider than the caller: the answer is the only time its secret is shown.
#[utoipa::path(post, path = "/api/keys/", tag = "keys", request_body = ApiKeyBody,
    responses(
        (status = 201, description = "Created; `key` is the secret, shown only here", body = NewApiKeyDoc),
        (status = 400, description = "Invalid fields", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "Wider than the calling key", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = BodyNotJson),
        (status = 503, response = Unavailable),
    ))]
async fn create_key(caller: Caller, State(state): State<AppState>, JsonBody(body): JsonBody) -> Result<Response> {
    let key = NewApiKey::parse(&body, Timestamp::now())?;
    if let Caller::Key(own) = &caller
        && (!own.record.actions.covers(&key.actions) || !own.record.stores.covers(&key.stores))
    {
        return Err(Error::Forbidden(
            "an API key may only create keys whose actions and stores lie within its own".to_owned(),
        ));
    }
    let (record, secret) = state.writer.create_api_key(caller.actor(), key).await?;
    state.access.reload(&state.reads).await?;
    let mut body = serde_json::to_value(&record)?;
    if let Value::Object(members) = &mut body {
        members.insert("key".to_owned(), Value::from(secret.as_str()));
    }
    Ok(no_store((StatusCode::CREATED, Json(body)).into_response()))
}

/// Every key, newest first (never a secret).
#[utoipa::path(get, path = "/api/keys/", tag = "keys", params(PageParams),
    responses(
        (status = 200, description = "A page of keys, newest first", body = ApiKeyPage),
        (status = 400, description = "Invalid pagination", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Page past the end", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Unavailable),
    ))]
async fn list_keys(
    State(state): State<AppState>,
    query: QueryParams,
    links: PageLinks,
) -> Result<Json<Paginated<ApiKeyRecord>>> {
    let page = query.page_request()?;
    let (count, rows) = state.reads.run(move |conn| api_keys::list_keys(conn, &page)).await?;
    Ok(Json(Paginated::new(PageOf { count, rows }, page, &links)?))
}

/// One key.
#[utoipa::path(get, path = "/api/keys/{id}/", tag = "keys", params(("id" = i64, Path, description = "Key id")),
    responses(
        (status = 200, description = "The key", body = ApiKeyDoc),
        (status = 404, description = "Unknown key", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Unavailable),
    ))]
async fn get_key(State(state): State<AppState>, PathId(id): PathId<ApiKeyId>) -> Result<Json<ApiKeyRecord>> {
    let key = state.reads.run(move |conn| api_keys::find_key(conn, id)).await?.ok_or_else(|| key_not_found(id))?;
    Ok(Json(key))
}

/// Changes a key's name, description, expiry or rate limit (a JSON merge patch; its actions
/// and stores never change).
#[utoipa::path(patch, path = "/api/keys/{id}/", tag = "keys", params(("id" = i64, Path, description = "Key id")),
    request_body(content = ApiKeyPatchBody, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The key as changed", body = ApiKeyDoc),
        (status = 400, description = "Invalid fields, or `actions`/`store_ids` present", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "The key is wider than the calling key", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Unknown key", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, response = BodyTooLarge),
        (status = 415, response = BodyNotJson),
        (status = 503, response = Unavailable),
    ))]
async fn update_key(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<ApiKeyRecord>> {
    let id: ApiKeyId = PathId::parse(&id)?;
    let patch = ApiKeyPatch::parse(&body, Timestamp::now())?;
    ensure_within_caller(&caller, &state, id).await?;
    let key = state.writer.update_api_key(caller.actor(), id, patch).await?;
    state.access.reload(&state.reads).await?;
    Ok(Json(key))
}

/// Revokes a key: refused from the very next request; a repeat is `404`.
#[utoipa::path(delete, path = "/api/keys/{id}/", tag = "keys", params(("id" = i64, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "The key is wider than the calling key", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Unknown (or already revoked) key", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Unavailable),
    ))]
async fn revoke_key(caller: Caller, State(state): State<AppState>, PathId(id): PathId<ApiKeyId>) -> Result<StatusCode> {
    ensure_within_caller(&caller, &state, id).await?;
    state.writer.revoke_api_key(caller.actor(), id).await?;
    state.access.reload(&state.reads).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A key may edit or revoke only keys it could have created (none wider than itself).
async fn ensure_within_caller(caller: &Caller, state: &AppState, id: ApiKeyId) -> Result<()> {
    let Caller::Key(own) = caller else { return Ok(()) };
    let target = state.reads.run(move |conn| api_keys::find_key(conn, id)).await?.ok_or_else(|| key_not_found(id))?;
    if own.record.actions.covers(&target.actions) && own.record.stores.covers(&target.stores) {
        Ok(())
    } else {
        Err(Error::Forbidden("an API key may only manage keys whose actions and stores lie within its own".to_owned()))
    }
}

/// An answer holding a secret is never stored by a cache.
fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
