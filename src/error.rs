//! The one error type of the request path, and its `application/problem+json` rendering.
//!
//! Use [`Error`] anywhere a request can fail; use `anyhow` only at start-up and in the CLI.
//! Client errors carry what the client needs to fix the request. Infrastructure errors
//! (SQLite, I/O, a dead writer) become a bare 500 whose cause is logged once, never shown,
//! except storage faults (a full or failing data volume): a 503 saying what to fix.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::db::fault::StorageFault;
use crate::domain::FieldError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more fields of the request are invalid (400, listing each field).
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),

    /// The request is unusable as a whole (400), e.g. malformed JSON.
    #[error("{0}")]
    BadRequest(String),

    /// No valid credentials: a missing, wrong or expired admin token, or a failed login (401).
    #[error("{0}")]
    Unauthorized(String),

    /// The change conflicts with what the data holds, e.g. deleting a category that products
    /// still use (409).
    #[error("{0}")]
    Conflict(String),

    /// The named resource does not exist (404).
    #[error("{0}")]
    NotFound(String),

    /// The route exists but not for this method (405).
    #[error("method not allowed")]
    MethodNotAllowed,

    /// The body exceeds the request size limit (413).
    #[error("the request body is too large")]
    PayloadTooLarge,

    /// The body is not `application/json` (415).
    #[error("{0}")]
    UnsupportedMediaType(String),

    /// An `Idempotency-Key` was reused with a different request body (422).
    #[error("this Idempotency-Key was already used with a different request body")]
    IdempotencyKeyReused,

    /// The service is shutting down or not ready (503).
    #[error("{0}")]
    Unavailable(String),

    /// The data volume cannot take writes (full, failing, read-only): 503 with `Retry-After`
    /// and what to do about it. Every `rusqlite::Error` that is one becomes this on `?`.
    #[error("{0}")]
    Storage(StorageFault),

    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),

    #[error("connection pool error: {0}")]
    Pool(#[from] r2d2::Error),

    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unavailable(_) | Self::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Sqlite(_) | Self::Pool(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A single-field validation error.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    fn is_infrastructure(&self) -> bool {
        self.status_code().is_server_error() && !matches!(self, Self::Unavailable(_) | Self::Storage(_))
    }
}

/// The RFC 9457 body the contract prescribes.
#[derive(Debug, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).expect("a Problem always serialises");
        let mut response = (status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status_code();
        if self.is_infrastructure() {
            // Logged here, once; the client only learns that it was our fault.
            tracing::error!(error = %self, "request failed");
            return Problem::new(status, "an internal error occurred; it has been logged").into_response();
        }
        let challenge = matches!(self, Self::Unauthorized(_));
        let retry = matches!(self, Self::Storage(_));
        let mut problem = Problem::new(status, self.to_string());
        if let Self::Validation(errors) = self {
            problem.errors = errors;
        }
        let mut response = problem.into_response();
        if challenge {
            // RFC 9110: a 401 names the scheme that would be accepted.
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if retry {
            // Not logged per request: the writer logs each storage episode once (db::health).
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(STORAGE_RETRY_AFTER_SECS));
        }
        response
    }
}

/// `Retry-After` of a storage fault: long enough not to hammer a full volume, short enough that
/// clients come back soon after it is fixed.
const STORAGE_RETRY_AFTER_SECS: &str = "10";

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        match StorageFault::classify(&error) {
            Some(fault) => Self::Storage(fault),
            None => Self::Sqlite(error),
        }
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(error: tokio::task::JoinError) -> Self {
        Self::Internal(format!("blocking task failed: {error}"))
    }
}
