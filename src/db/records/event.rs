//! Events: what tells a shop's other systems that something changed (`order.confirmed`,
//! `order.cancelled`, `inventory.out_of_stock`, `inventory.back_in_stock`, `inventory.low_stock`,
//! `reservation.expired`), as a delivery says it. The rows are written by `db::outbox::events`; the workers deliver
//! them (`jobs`).

use serde::Serialize;
use serde_json::Value;

use super::order::OrderBody;
use crate::domain::{OrderStatus, Timestamp};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// An order was confirmed (its confirmation is the event's delivery).
    OrderConfirmed,
    /// A confirmed order was cancelled and its stock returned.
    OrderCancelled,
    /// A store's stock of a product fell to zero.
    OutOfStock,
    /// A store's stock of a product rose from zero.
    BackInStock,
    /// A store's stock of a product fell from above its low-stock threshold to at or below it.
    LowStock,
    /// A reservation's time ran out before an order took it (data: the reservation body).
    ReservationExpired,
}

impl EventKind {
    /// Every kind, for listing and parsing.
    pub const ALL: [EventKind; 6] = [
        Self::OrderConfirmed,
        Self::OrderCancelled,
        Self::OutOfStock,
        Self::BackInStock,
        Self::LowStock,
        Self::ReservationExpired,
    ];

    /// The contract's name, stored as the job's `kind` and sent as `X-Aforro-Event`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderConfirmed => "order.confirmed",
            Self::OrderCancelled => "order.cancelled",
            Self::OutOfStock => "inventory.out_of_stock",
            Self::BackInStock => "inventory.back_in_stock",
            Self::LowStock => "inventory.low_stock",
            Self::ReservationExpired => "reservation.expired",
        }
    }

    /// The kind named `text` (as [`Self::as_str`] spells it), if any.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// An event as delivered: the contract's webhook body `{"event", "id", "created_at", "data"}`.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// The event's name (`order.confirmed`, …).
    pub event: &'static str,
    /// Unique per event: receivers dedupe on it across retries.
    pub id: String,
    /// When its cause committed.
    pub created_at: Timestamp,
    /// The event's own fields (the order, or the store, product and quantity).
    pub data: EventData,
}

/// What an event says: serialised as the data itself.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum EventData {
    /// An order event's order body, serialised straight into the delivered JSON (not through
    /// a `Value` tree first: every confirmation goes this way).
    Order(Box<OrderBody>),
    /// A stock event's data, as its job stored it.
    Stored(Value),
}

impl EventData {
    /// An order event's data: the order's body as the event delivers it, with the status the
    /// event gave it and without the 409's errors or the confirmation's state (a body read back
    /// later and the one the order's own transaction wrote say the same).
    pub fn order_as_of(kind: EventKind, mut order: OrderBody) -> Self {
        order.status = if kind == EventKind::OrderCancelled { OrderStatus::Cancelled } else { OrderStatus::Confirmed };
        order.errors = Vec::new();
        order.confirmation = None;
        Self::Order(Box::new(order))
    }
}
