//! `POST /reservations/`, `GET /reservations/<id>/` and `DELETE /reservations/<id>/`: checkout
//! holds (contract, Reservations).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Route;
use super::extract::{IdempotencyKeyHeader, JsonBody, PathId};
use super::openapi::schemas::{NewReservationRequest, ProblemDoc, ReservationDoc, Unavailable};
use crate::access::Caller;
use crate::app::AppState;
use crate::db::records::ReservationBody;
use crate::db::store::reservations::{self, load, reservation_store};
use crate::domain::access::StoreScope;
use crate::domain::{NewReservation, ReservationId};
use crate::error::{Error, Result};

pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::post("/reservations/", create_reservation),
        Route::get("/reservations/{reservation_id}/", get_reservation),
        Route::delete("/reservations/{reservation_id}/", release_reservation),
    ]
}

/// Validates the request, then lets the writer grant every line or none in one transaction.
#[utoipa::path(post, path = "/reservations/", tag = "reservations", request_body = NewReservationRequest,
    params(("Idempotency-Key" = Option<String>, Header, max_length = 255,
        pattern = r"^[\x20-\x7E]*[\x21-\x7E][\x20-\x7E]*$",
        description = "1-255 printable ASCII characters; a retry with the same key and body replays the \
                       first 201, another body is 422 (a 409 held nothing and is not remembered)")),
    responses(
        (status = 201, description = "Held: available stock lowered until it is used, released or expires", body = ReservationDoc),
        (status = 400, description = "Invalid body, unknown product or invalid Idempotency-Key", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 403, description = "The API key may not name this store", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 404, description = "Unknown store", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "A line lacks available stock; `errors` lists requested/available; nothing held", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 413, description = "Body over 64 KiB", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 415, description = "Body not JSON", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 422, description = "Idempotency-Key reused with another body", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Unavailable),
    ))]
async fn create_reservation(
    caller: Caller,
    State(state): State<AppState>,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    JsonBody(body): JsonBody,
) -> Result<Response> {
    let request = NewReservation::parse(&body).map_err(Error::Validation)?;
    caller.require_store(request.store_id)?;
    let key = match caller.idempotency_scope() {
        Some(scope) => key.map(|key| key.scoped_to(scope.0)),
        None => key,
    };
    let granted = state.writer.create_reservation(request, key).await?;
    Ok((StatusCode::CREATED, [(header::CONTENT_TYPE, "application/json")], granted.json).into_response())
}

/// A reservation, `EXPIRED` from its `expires_at` on whether or not the sweep has stored it.
#[utoipa::path(get, path = "/reservations/{reservation_id}/", tag = "reservations",
    params(("reservation_id" = i64, Path, description = "Reservation id")),
    responses(
        (status = 200, description = "The reservation", body = ReservationDoc),
        (status = 404, description = "Unknown reservation (or another store's, for a store-scoped key)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Unavailable),
    ))]
async fn get_reservation(
    caller: Caller,
    State(state): State<AppState>,
    PathId(id): PathId<ReservationId>,
) -> Result<Json<ReservationBody>> {
    let body = state
        .reads
        .run(move |conn| load(conn, id))
        .await?
        .filter(|body| caller.sees_store(body.store_id))
        .ok_or_else(|| reservations::not_found(id))?;
    Ok(Json(body.as_of(state.writer.clock().now())))
}

/// Releases an active reservation; a released or expired one is answered unchanged.
#[utoipa::path(delete, path = "/reservations/{reservation_id}/", tag = "reservations",
    params(("reservation_id" = i64, Path, description = "Reservation id")),
    responses(
        (status = 200, description = "Released now (its stock available again), or already released or expired", body = ReservationDoc),
        (status = 404, description = "Unknown reservation (or another store's, for a store-scoped key)", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 409, description = "An order used it", body = ProblemDoc, content_type = "application/problem+json"),
        (status = 503, response = Unavailable),
    ))]
async fn release_reservation(
    caller: Caller,
    State(state): State<AppState>,
    PathId(id): PathId<ReservationId>,
) -> Result<Json<ReservationBody>> {
    if let StoreScope::Only(_) = caller.stores() {
        // A store-scoped key: another store's reservation does not exist for it (404, not 403).
        let store = state.reads.run(move |conn| reservation_store(conn, id)).await?;
        if !store.is_some_and(|store| caller.sees_store(store)) {
            return Err(reservations::not_found(id));
        }
    }
    Ok(Json(state.writer.release_reservation(id).await?))
}
