//! `GET /healthz` (the process serves) and `GET /readyz` (the database answers, the search
//! index has every committed catalog change, the autocomplete map is built, every job worker
//! runs).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::Route;
use super::openapi::schemas::{ProblemDoc, Status};
use crate::app::AppState;
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

/// The database answers, the index has every committed change, the autocomplete map is built.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Status),
        (status = 503, description = "Not ready; `detail` says why", body = ProblemDoc, content_type = "application/problem+json"),
    ))]
pub(super) async fn readyz(State(state): State<AppState>) -> Result<Json<Value>> {
    state
        .reads
        .run(|conn| Ok(conn.query_row("SELECT 1", [], |row| row.get::<_, i64>(0))?))
        .await
        .map_err(|error| Error::Unavailable(format!("the database is not ready: {error}")))?;
    if !state.search.is_in_sync() {
        return Err(Error::Unavailable("the search index is behind the database; restart to rebuild it".to_owned()));
    }
    if !state.suggest.is_ready() {
        return Err(Error::Unavailable("the autocomplete map is still being built".to_owned()));
    }
    if !state.jobs.workers_running() {
        let (running, configured) = state.jobs.worker_counts();
        return Err(Error::Unavailable(format!("{running} of {configured} job workers are running")));
    }
    Ok(Json(json!({"status": "ready"})))
}
