//! An order as the contract answers it: the body of a 201, a 409 and `GET /orders/<id>/`, and
//! what an order event delivers.

use serde::Serialize;

use crate::domain::{OrderId, OrderStatus, ProductId, ReservationId, StoreId, Timestamp};

/// The order body of the contract (201, 409 and `GET /orders/<id>/`).
#[derive(Debug, Clone, Serialize)]
pub struct OrderBody {
    /// The order's id.
    pub id: OrderId,
    /// The store it was placed in.
    pub store_id: StoreId,
    /// Confirmed, rejected or cancelled (http maps it to 201/409).
    pub status: OrderStatus,
    /// When it was placed.
    pub created_at: Timestamp,
    /// Units over all its lines.
    pub total_quantity: i64,
    /// Its lines, in the order the request gave them.
    pub items: Vec<OrderItemBody>,
    /// The reservation whose held stock it took (contract, Orders), or null.
    pub reservation_id: Option<ReservationId>,
    /// Only on a 409: which lines were short.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ShortLine>,
    /// Only on `GET` of a confirmed order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<Confirmation>,
}

/// One line of an order body.
#[derive(Debug, Clone, Serialize)]
pub struct OrderItemBody {
    /// The product ordered.
    pub product_id: ProductId,
    /// Its title when the body was read.
    pub title: String,
    /// Units asked for.
    pub quantity_requested: i64,
}

/// A line the store could not fill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShortLine {
    /// The product short.
    pub product_id: ProductId,
    /// Units asked for.
    pub requested: i64,
    /// Units the store had when the order was decided.
    pub available: i64,
}

/// The `confirmation` object of an order body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Confirmation {
    /// `queued`, `sent` or `failed`: the contract's names, so a job being worked on still
    /// shows as `queued` and a `done` one as `sent`.
    pub status: String,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// When it was delivered, once it was.
    pub sent_at: Option<Timestamp>,
}
