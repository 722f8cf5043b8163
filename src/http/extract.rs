//! Extractors that turn raw requests into domain input, failing in the contract's
//! problem+json shape instead of axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::Value;

use crate::domain::{FieldError, IdempotencyKey, PageRequest};
use crate::error::Error;
use crate::http::problem::HttpError;

/// A JSON request body, parsed into a `serde_json::Value` so that field-level validation can
/// name every bad field (serde's derive would stop at the first).
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &S) -> Result<Self, HttpError> {
        if !is_json(request.headers()) {
            return Err(HttpError::UnsupportedMediaType("the request body must be application/json".to_owned()));
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                HttpError::PayloadTooLarge
            } else {
                HttpError::BadRequest(format!("the request body could not be read: {rejection}"))
            }
        })?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|error| HttpError::BadRequest(format!("the request body is not valid JSON: {error}")))
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()) else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The query string as ordered name/value pairs, percent-decoded.
#[derive(Debug, Clone, Default)]
pub struct QueryParams(pub Vec<(String, String)>);

impl QueryParams {
    /// The first value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    /// The pagination parameters.
    pub fn page_request(&self) -> Result<PageRequest, Error> {
        PageRequest::parse(self.get("page"), self.get("page_size")).map_err(Error::Validation)
    }

    /// An optional `true`/`false` parameter (also `1`/`0`, any case, as DRF's BooleanFilter).
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, Error> {
        match self.get(name).map(str::to_ascii_lowercase).as_deref() {
            None | Some("") => Ok(None),
            Some("true" | "1") => Ok(Some(true)),
            Some("false" | "0") => Ok(Some(false)),
            Some(_) => Err(Error::field(name, "must be true or false")),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, HttpError> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(QueryParams)
            .map_err(|error| HttpError::BadRequest(format!("the query string is malformed: {error}")))
    }
}

/// The optional `Idempotency-Key` header.
pub(super) struct IdempotencyKeyHeader(pub Option<IdempotencyKey>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKeyHeader {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Error> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(Self(None));
        };
        value.to_str().ok().and_then(IdempotencyKey::parse).map(|key| Self(Some(key))).ok_or_else(|| {
            Error::Validation(vec![FieldError::new("Idempotency-Key", "must be 1 to 255 printable ASCII characters")])
        })
    }
}
