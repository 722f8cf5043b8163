//! The one error type of the core (domain, db, search, suggest, jobs): what went wrong, with
//! the real cause kept as its `source()`.
//!
//! Use [`Error`] anywhere a request can fail; use `anyhow` only at start-up and in the CLI.
//! Client errors carry what the client needs to fix the request. Infrastructure errors keep
//! their cause (SQLite, the pool, a task, the index) for the log; they are never shown,
//! except storage faults (a full or failing data volume), which say what to fix.
//! This file knows nothing of HTTP: `http::problem` alone turns an error into a status and
//! an `application/problem+json` body.

use std::sync::Arc;

pub use self::constraint::{ConstraintKind, ConstraintViolation};
pub use self::fault::StorageFault;

pub mod constraint;
pub mod fault;

/// The core's result: [`Error`] unless a function says otherwise.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong in the core; `http::problem` decides its status and body.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more fields of the request are invalid (400, listing each field).
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),

    /// No valid credentials: a missing, wrong or expired admin token, or a failed login (401).
    #[error("{0}")]
    Unauthorized(String),

    /// The credential is valid but may not do this: the route's action is not among its
    /// actions, or the request names a store outside its stores (403).
    #[error("{0}")]
    Forbidden(String),

    /// The credential's (or, without one, the address's) request budget is spent (429); the
    /// next request is allowed after `retry_after`.
    #[error("rate limit exceeded; retry later")]
    RateLimited {
        /// How long until the bucket holds a token again (the `Retry-After` header).
        retry_after: std::time::Duration,
    },

    /// The change conflicts with what the data holds, e.g. deleting a category that products
    /// still use (409).
    #[error("{0}")]
    Conflict(String),

    /// The database refused a write by one of its constraints, a rule the parsers and the
    /// named writes did not check first: the client's fault all the same (400 or 409, by
    /// kind). Never among the errors an unguarded write may return having written nothing
    /// (`db::writer`): SQLite may have kept part of the statement's rows.
    #[error("{0}")]
    Constraint(ConstraintViolation),

    /// The named resource does not exist (404).
    #[error("{0}")]
    NotFound(String),

    /// An order named a reservation that is no longer `ACTIVE` (409, the problem saying
    /// `reservation_status`); nothing was stored.
    #[error("reservation {id} is {status}; only an ACTIVE reservation can be used")]
    ReservationNotActive {
        /// The reservation the order named.
        id: i64,
        /// Its status as of the order (`USED`, `RELEASED` or `EXPIRED`).
        status: &'static str,
    },

    /// A hold could not be granted: some lines lack available stock (409, one item per short
    /// line); nothing was held.
    #[error("not enough stock is available to hold every line; nothing was held")]
    NotEnoughStock(Vec<Shortfall>),

    /// An `Idempotency-Key` was reused with a different request body (422).
    #[error("this Idempotency-Key was already used with a different request body")]
    IdempotencyKeyReused,

    /// Too many failed logins for this account from this address (429); the next attempt is
    /// allowed after `retry_after`.
    #[error("too many login attempts for this account from this address; retry later")]
    TooManyRequests {
        /// How long until the next attempt is allowed (the `Retry-After` header).
        retry_after: std::time::Duration,
    },

    /// The service is shutting down or not ready (503).
    #[error("{0}")]
    Unavailable(String),

    /// The data volume cannot take writes (full, failing, read-only): the request was fine and
    /// succeeds again once the volume is fixed. Every `rusqlite::Error` that is one becomes
    /// this on `?`.
    #[error("{0}")]
    Storage(StorageFault),

    /// Any other SQLite failure (a bug, or a damaged file): logged, answered 500.
    #[error("database error")]
    Sqlite(#[source] rusqlite::Error),

    /// The read pool could not hand out a connection (none came free in time, or opening one failed).
    #[error("connection pool error")]
    Pool(#[from] r2d2::Error),

    /// A batch's `BEGIN` or `COMMIT` failed: every write in it shares the one cause.
    #[error("the batch could not be committed")]
    Commit(#[source] Arc<rusqlite::Error>),

    /// SQLite rolled the batch's transaction back under a write (an I/O error, say).
    #[error("the batch's transaction was rolled back")]
    RolledBack,

    /// The writer thread went away without answering.
    #[error("the writer stopped before replying")]
    WriterGone,

    /// A blocking task panicked or was cancelled.
    #[error("a blocking task failed")]
    Task(#[from] tokio::task::JoinError),

    /// A value could not be encoded as JSON (a bug).
    #[error("JSON encoding failed")]
    Json(#[from] serde_json::Error),

    /// Tantivy failed to read or write the search index.
    #[error("search index error")]
    Index(#[from] tantivy::TantivyError),

    /// Argon2 could not hash or parse a password hash.
    #[error("password hashing failed: {0}")]
    PasswordHash(argon2::password_hash::Error),

    /// Stored data breaks an invariant the code relies on (a bug or a hand-edited database).
    #[error("broken invariant: {0}")]
    Invariant(String),
}

impl Error {
    /// A single-field validation error.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    /// The 404 of a store that does not exist: `id` as the request named it (a path segment
    /// that is no id at all names no store either).
    pub fn store_not_found(id: impl std::fmt::Display) -> Self {
        Self::NotFound(format!("store {id} does not exist"))
    }
}

/// One problem with one field of a request, as the contract's `errors[]` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// JSON path of the field, e.g. `items[1].quantity_requested`.
    pub field: String,
    /// What is wrong with it, in words a client can act on.
    pub message: String,
}

impl FieldError {
    /// A problem with `field` (its JSON path) described by `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// A line a hold could not be granted, as the 409's `errors` item shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Shortfall {
    /// JSON path of the line's units, e.g. `items[1].quantity`.
    pub field: String,
    /// What is wrong, in words.
    pub message: String,
    /// The product short.
    pub product_id: i64,
    /// Units asked for.
    pub requested: i64,
    /// Units available (on hand minus what active holds hold, never below 0).
    pub available: i64,
}

/// One bad field is a validation error naming it (so `?` works on a field's parser).
impl From<FieldError> for Error {
    fn from(error: FieldError) -> Self {
        Self::Validation(vec![error])
    }
}

impl From<rusqlite::Error> for Error {
    fn from(error: rusqlite::Error) -> Self {
        if let Some(fault) = StorageFault::classify(&error) {
            return Self::Storage(fault);
        }
        match ConstraintViolation::classify(&error) {
            Some(violation) => Self::Constraint(violation),
            None => Self::Sqlite(error),
        }
    }
}
