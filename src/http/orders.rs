//! `POST /orders/` and `GET /orders/<id>/`.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::extract::{IdempotencyKeyHeader, JsonBody};
use crate::app::AppState;
use crate::db::orders::load_order;
use crate::domain::{NewOrder, OrderId, parse_positive_id};
use crate::error::{Error, Result};

pub fn router() -> Router<AppState> {
    Router::new().route("/orders/", post(create_order)).route("/orders/{order_id}/", get(get_order))
}

/// Validates everything up front, then lets the writer decide the order in one transaction.
async fn create_order(
    State(state): State<AppState>,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    JsonBody(body): JsonBody,
) -> Result<Response> {
    let order = NewOrder::parse(&body).map_err(Error::Validation)?;
    let placed = state.writer.place_order(order, key).await?;
    let status = StatusCode::from_u16(placed.status).map_err(|error| Error::Internal(error.to_string()))?;
    Ok((status, [(header::CONTENT_TYPE, "application/json")], placed.body).into_response())
}

async fn get_order(State(state): State<AppState>, Path(order_id): Path<String>) -> Result<Response> {
    let not_found = || Error::NotFound(format!("order {order_id} does not exist"));
    let id = OrderId(parse_positive_id(&order_id).ok_or_else(not_found)?);
    let order = state.reads.run(move |conn| load_order(conn, id)).await?.ok_or_else(not_found)?;
    Ok(Json(order).into_response())
}
