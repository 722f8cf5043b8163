//! `POST /orders/`, `GET /orders/<id>/` and `POST /orders/<id>/cancel/`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Route;
use super::extract::{IdempotencyKeyHeader, JsonBody, PathId, PathIdKind};
use super::openapi::schemas::{NewOrderRequest, OrderDoc, ProblemDoc, Unavailable};
use crate::access::Caller;
use crate::app::AppState;
use crate::db::records::OrderBody;
use crate::db::store::orders::{load_order, order_store};
use crate::domain::access::StoreScope;
use crate::domain::{NewOrder, OrderId, OrderStatus};
use crate::error::{Error, Result};
use crate::metrics;

pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::post("/orders/", create_order),
        Route::get("/orders/{order_id}/", get_order),
        Route::post("/orders/{order_id}/cancel/", cancel_order),
    ]
}

/// Validates everything up front, then lets the writer decide the order in one transaction.
#[utoipa::path(post, path = "/orders/", tag = "orders", request_body = NewOrderRequest,
    params(("Idempotency-Key" = Option<String>, Header, max_length = 255,
        pattern = r"^[\x20-\x7E]*[\x21-\x7E][\x20-\x7E]*$",
        description = "1-255 printable ASCII characters (spaces around it are not part of it); a retry \
                       with the same key and body replays the first response, another body is 422")),
    responses(
        (status = 201, description = "Confirmed: stock deducted, confirmation queued", body = OrderDoc),
        (status = 409, description = "Rejected: a line is short; `errors` lists requested/available", body = OrderDoc),
        (status = 400, description = "Invalid body, unknown product or invalid Idempotency-Key", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Unknown store", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, description = "Body not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key reused with another body", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Unavailable),
    ))]
async fn create_order(
    caller: Caller,
    State(state): State<AppState>,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    JsonBody(body): JsonBody,
) -> Result<Response> {
    let order = NewOrder::parse(&body).map_err(Error::Validation)?;
    caller.require_store(order.store_id)?;
    let key = match caller.idempotency_scope() {
        Some(scope) => key.map(|key| key.scoped_to(scope.0)),
        None => key,
    };
    let placed = state.writer.place_order_by(order, key, caller.stock_actor()).await?;
    metrics::order_answered(if placed.replayed { "replayed" } else { placed.status.as_str() });
    // The contract: 201 for a confirmed order, 409 for a rejected one (replays alike).
    let status = match placed.status {
        OrderStatus::Confirmed => StatusCode::CREATED,
        OrderStatus::Rejected => StatusCode::CONFLICT,
        OrderStatus::Pending | OrderStatus::Cancelled => {
            return Err(Error::Invariant(format!("a placed order is never {}", placed.status.as_str())));
        }
    };
    // Serialised here, on a tokio worker, not on the writer thread (see `PlacedBody`).
    Ok((status, [(header::CONTENT_TYPE, "application/json")], placed.into_json()?).into_response())
}

/// An order with its confirmation job's state.
#[utoipa::path(get, path = "/orders/{order_id}/", tag = "orders",
    params(("order_id" = i64, Path, description = "Order id")),
    responses(
        (status = 200, description = "The order", body = OrderDoc),
        (status = 404, description = "Unknown order", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Unavailable),
    ))]
async fn get_order(caller: Caller, State(state): State<AppState>, Path(order_id): Path<String>) -> Result<Response> {
    let id: OrderId = PathId::parse(&order_id)?;
    let order = state
        .reads
        .run(move |conn| load_order(conn, id))
        .await?
        .filter(|order| caller.sees_store(order.store_id))
        .ok_or_else(|| order_not_found(&order_id))?;
    Ok(Json(order).into_response())
}

/// Cancels a confirmed order through the writer; a repeat answers the same body.
#[utoipa::path(post, path = "/orders/{order_id}/cancel/", tag = "orders",
    params(("order_id" = i64, Path, description = "Order id")),
    responses(
        (status = 200, description = "Cancelled (now or before): stock returned, cancellation queued", body = OrderDoc),
        (status = 404, description = "Unknown order", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "The order is not confirmed (rejected)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Unavailable),
    ))]
async fn cancel_order(
    caller: Caller,
    State(state): State<AppState>,
    PathId(order_id): PathId<OrderId>,
) -> Result<Json<OrderBody>> {
    if let StoreScope::Only(_) = caller.stores() {
        // A store-scoped key: another store's order does not exist for it (404, not 403).
        let store = state.reads.run(move |conn| order_store(conn, order_id)).await?;
        if !store.is_some_and(|store| caller.sees_store(store)) {
            return Err(order_not_found(&order_id.to_string()));
        }
    }
    let order = state.writer.cancel_order_by(order_id, caller.stock_actor()).await?;
    Ok(Json(order))
}

fn order_not_found(text: &str) -> Error {
    OrderId::not_found(text)
}
