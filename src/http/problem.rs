//! The one place errors become HTTP: each [`Error`] (and each [`HttpError`], the faults
//! only a request's bytes can have) gets its status code and an RFC 9457
//! `application/problem+json` body. Infrastructure errors become a bare 500 whose cause chain
//! is logged once, never shown.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::FieldError;
use crate::error::{ConstraintKind, Error, Shortfall};

/// The status the contract gives each error.
pub fn status_of(error: &Error) -> StatusCode {
    match error {
        Error::Validation(_) => StatusCode::BAD_REQUEST,
        Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Conflict(_) => StatusCode::CONFLICT,
        Error::Constraint(violation) => match violation.kind {
            ConstraintKind::Invalid => StatusCode::BAD_REQUEST,
            ConstraintKind::Duplicate | ConstraintKind::Reference => StatusCode::CONFLICT,
        },
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::ReservationNotActive { .. } | Error::NotEnoughStock(_) => StatusCode::CONFLICT,
        Error::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
        Error::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Unavailable(_) | Error::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
        Error::Sqlite(_)
        | Error::Pool(_)
        | Error::Commit(_)
        | Error::RolledBack
        | Error::WriterGone
        | Error::Task(_)
        | Error::Json(_)
        | Error::Index(_)
        | Error::PasswordHash(_)
        | Error::Invariant(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// What a route or extractor can fail with: a core [`Error`], or a fault of the HTTP request
/// itself that only this layer can see, so the core error type stays free of HTTP. (A wrong
/// method is answered by the router; `errors_as_problems` reshapes its 405.)
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// Anything the layers below report.
    #[error(transparent)]
    Core(#[from] Error),

    /// The request is unusable as a whole (400): an unreadable body, malformed JSON or query
    /// string, a form from a stale page.
    #[error("{0}")]
    BadRequest(String),

    /// The body exceeds the request size limit (413).
    #[error("the request body is too large")]
    PayloadTooLarge,

    /// The body is not `application/json` (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::Core(error) => status_of(error),
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        };
        match self {
            Self::Core(error) => error.into_response(),
            other => Problem::new(status, other.to_string()).into_response(),
        }
    }
}

/// The error and every cause under it, for the one log line of a 500.
fn cause_chain(error: &Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The RFC 9457 body the contract prescribes.
#[derive(Debug, Serialize)]
pub struct Problem {
    /// A URI naming the problem type; always `about:blank` (the status says it all).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The status's reason phrase (`Bad Request`, …).
    pub title: String,
    /// The HTTP status code, repeated in the body.
    pub status: u16,
    /// What went wrong with this request, for a person.
    pub detail: String,
    /// Every invalid field, when the request had any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// A refused hold's short lines: its `errors` (never present with field errors).
    #[serde(rename = "errors", skip_serializing_if = "Vec::is_empty")]
    pub shortfalls: Vec<Shortfall>,
    /// An order naming a reservation that is not `ACTIVE`: the reservation's status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation_status: Option<&'static str>,
}

impl Problem {
    /// A problem of `status` saying `detail`, with no field errors.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            shortfalls: Vec::new(),
            reservation_status: None,
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
        let status = status_of(&self);
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            // Logged here, once, with its causes; the client only learns that it was our fault.
            tracing::error!(error = %cause_chain(&self), "request failed");
            return Problem::new(status, "an internal error occurred; it has been logged").into_response();
        }
        let challenge = matches!(self, Error::Unauthorized(_));
        let retry = match &self {
            Error::Storage(_) => Some(HeaderValue::from_static(STORAGE_RETRY_AFTER_SECS)),
            Error::TooManyRequests { retry_after } | Error::RateLimited { retry_after } => {
                Some(retry_after_header(*retry_after))
            }
            // Busy or not ready yet: worth a retry as soon as the load shedding's 503 is.
            Error::Unavailable(_) => Some(HeaderValue::from_static("1")),
            _ => None,
        };
        let mut problem = Problem::new(status, self.to_string());
        match self {
            Error::Validation(errors) => problem.errors = errors,
            Error::NotEnoughStock(shortfalls) => problem.shortfalls = shortfalls,
            Error::ReservationNotActive { status, .. } => problem.reservation_status = Some(status),
            _ => {}
        }
        let mut response = problem.into_response();
        if challenge {
            // RFC 9110: a 401 names the scheme that would be accepted.
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(retry) = retry {
            // Not logged per request: the writer logs each storage episode once (db::health).
            response.headers_mut().insert(header::RETRY_AFTER, retry);
        }
        response
    }
}

/// `Retry-After` for a wait: whole seconds, rounded up so a client that obeys it is let in.
pub fn retry_after_header(wait: std::time::Duration) -> HeaderValue {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    HeaderValue::from(seconds.max(1))
}

/// `Retry-After` of a storage fault: long enough not to hammer a full volume, short enough that
/// clients come back soon after it is fixed.
const STORAGE_RETRY_AFTER_SECS: &str = "10";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_500_logs_the_whole_cause_chain() {
        let error = Error::from(rusqlite::Error::InvalidQuery);
        assert_eq!(status_of(&error), StatusCode::INTERNAL_SERVER_ERROR);
        let chain = cause_chain(&error);
        assert!(chain.starts_with("database error: "), "{chain}");
        assert!(chain.len() > "database error: ".len(), "{chain}");
    }
}
