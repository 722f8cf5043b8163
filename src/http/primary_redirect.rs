//! On a read replica every write belongs to the primary: a request with any method but
//! `GET`, `HEAD` or `OPTIONS` is answered `307 Temporary Redirect` to the same path and query
//! on `--primary-url` (307 keeps the method and body, so a client that follows it places the
//! order there). Nothing behind this layer ever tries to write the replica's database.

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::replica::PrimaryUrl;

pub(super) async fn redirect_writes(State(primary): State<PrimaryUrl>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let path_and_query = request.uri().path_and_query().map_or("/", |target| target.as_str());
    Redirect::temporary(&primary.location_of(path_and_query)).into_response()
}
