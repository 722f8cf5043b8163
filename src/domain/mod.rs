//! Domain types: what a valid request *is*, parsed once at the edge.
//!
//! Past `http`, code only sees these types, so an order line with quantity 0 or a page size of
//! -3 cannot be represented (parse, don't validate).

pub mod access;
pub mod admin_list;
pub mod catalog;
mod clock;
pub mod curation;
mod ids;
mod money;
mod order;
mod page;
pub mod password;
mod reservation;
mod session;
pub mod stock;
pub mod text;
mod timestamp;

pub use clock::Clock;
pub use ids::{CategoryId, OrderId, ProductId, ReservationId, StoreId, parse_positive_id};
pub use money::Money;
pub use order::{IdempotencyKey, NewOrder, OrderLine, OrderStatus, QuantityRequested};
pub use page::PageRequest;
pub use reservation::{DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS, MIN_TTL_SECONDS, NewReservation, ReservationStatus};
pub use session::SessionToken;
pub use timestamp::Timestamp;

/// Defined with the error type that carries it; a domain concept all the same.
pub use crate::error::FieldError;
