//! Extractors that turn raw requests into domain input, failing in the contract's
//! problem+json shape instead of axum's plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use serde_json::Value;

use crate::db::records::ApiKeyId;
use crate::domain::{
    CategoryId, FieldError, IdempotencyKey, OrderId, PageRequest, ProductId, ReservationId, StoreId, parse_positive_id,
};
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

/// An id type a path can name: the noun of its 404 and how it wraps the number.
pub(crate) trait PathIdKind: Sized + Send {
    /// What the id names, as the 404 says it (`product 12 does not exist`).
    const NOUN: &'static str;
    /// The id type holding `id`.
    fn wrap(id: i64) -> Self;
    /// The 404 of a path naming nothing as `text`.
    fn not_found(text: &str) -> Error {
        Error::NotFound(format!("{} {text} does not exist", Self::NOUN))
    }
}

macro_rules! path_id_kind {
    ($type:ty, $noun:literal) => {
        impl PathIdKind for $type {
            const NOUN: &'static str = $noun;
            fn wrap(id: i64) -> Self {
                Self(id)
            }
        }
    };
}
path_id_kind!(ProductId, "product");
path_id_kind!(OrderId, "order");
path_id_kind!(ReservationId, "reservation");
path_id_kind!(CategoryId, "category");
path_id_kind!(ApiKeyId, "API key");

impl PathIdKind for StoreId {
    const NOUN: &'static str = "store";
    fn wrap(id: i64) -> Self {
        Self(id)
    }
    fn not_found(text: &str) -> Error {
        Error::store_not_found(text)
    }
}

/// A positive id from a route's one path parameter, as the id type `T`; anything that is not
/// a positive integer names nothing, so it is the 404 of an unknown `T`, never a 400.
pub(crate) struct PathId<T>(pub(crate) T);

impl<T: PathIdKind> PathId<T> {
    /// `text`, one segment of a path, as a `T` (for routes with more than one id).
    pub(crate) fn parse(text: &str) -> Result<T, Error> {
        parse_positive_id(text).map(T::wrap).ok_or_else(|| T::not_found(text))
    }
}

impl<S: Send + Sync, T: PathIdKind> FromRequestParts<S> for PathId<T> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, HttpError> {
        let axum::extract::Path(text) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| HttpError::BadRequest(rejection.body_text()))?;
        Ok(Self(Self::parse(&text)?))
    }
}

#[cfg(test)]
mod path_id_tests {
    use super::*;

    #[test]
    fn only_a_positive_integer_names_something_and_anything_else_is_a_404_naming_the_noun() {
        assert_eq!(PathId::<ProductId>::parse("12").ok(), Some(ProductId(12)));
        for text in ["0", "-3", "+3", "abc", "", "1.5", "99999999999999999999"] {
            let Err(Error::NotFound(message)) = PathId::<StoreId>::parse(text) else {
                panic!("{text:?} must be a 404");
            };
            assert_eq!(message, format!("store {text} does not exist"));
        }
    }
}
