//! `GET /healthz` (the process serves) and `GET /readyz` (the database answers, commits
//! succeed, the search index has every committed catalog change, every job worker runs; on a
//! read replica, its views keep up with what Litestream brings), naming the derived views
//! still being built.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::Route;
use super::openapi::schemas::{Readiness, Status, Unavailable};
use crate::app::AppState;
use crate::db::health::ping;
use crate::error::{Error, Result};

pub(super) fn routes() -> Vec<Route> {
    vec![Route::get("/healthz", healthz), Route::get("/readyz", readyz)]
}

/// The process serves.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Serving", body = Status)))]
pub(super) async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The database answers, commits succeed (a full or failing data volume is 503 until a commit
/// succeeds again), the index has every committed change; `building` names the derived views
/// (autocomplete map, browse orders, title order) still being built.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready, with the node's role (and a replica's lag)", body = Readiness),
        (status = 503, response = Unavailable),
    ))]
pub(super) async fn readyz(State(state): State<AppState>) -> Result<Json<Value>> {
    state.reads.run(ping).await.map_err(|error| Error::Unavailable(format!("the database is not ready: {error}")))?;
    if let Some(fault) = state.writer.storage_fault().await {
        return Err(Error::Unavailable(fault.detail().to_owned()));
    }
    if !state.search.is_in_sync() {
        return Err(Error::Unavailable("the search index is behind the database; restart to rebuild it".to_owned()));
    }
    if !state.jobs.workers_running() {
        let (running, configured) = state.jobs.worker_counts();
        return Err(Error::Unavailable(format!("{running} of {configured} job workers are running")));
    }
    // Views still being built do not hold readiness back: their equivalent paths answer
    // meanwhile (listings from SQL; suggest waits for its map).
    let mut building = Vec::new();
    if !state.suggest.is_ready() {
        building.push("autocomplete");
    }
    building.extend(state.search.building());
    match &state.replica {
        None => Ok(Json(json!({"status": "ok", "role": "primary", "building": building}))),
        Some(replica) => {
            replica.readiness().map_err(Error::Unavailable)?;
            let lag_ms = u64::try_from(replica.lag().as_millis()).unwrap_or(u64::MAX);
            Ok(Json(json!({"status": "ok", "role": "replica", "lag_ms": lag_ms, "building": building})))
        }
    }
}
