//! The stock ledger's records: why a movement happened ([`MovementReason`]), what caused one
//! ([`StockCause`], handed down to the write that changes a quantity), and a movement as the
//! contract lists it ([`Movement`]).

use serde::Serialize;

use crate::domain::{OrderId, ProductId, StoreId, Timestamp};

/// Why on-hand stock changed (the contract's `reason`, the `reason` CHECK of migration 0016).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MovementReason {
    /// An order took the units.
    Order,
    /// A cancelled order gave them back.
    Cancel,
    /// An admin restock added units (`POST …/restock/`).
    Restock,
    /// An admin adjustment added or removed units (`POST …/adjust/`).
    Adjust,
    /// An admin set the quantity (`PUT …/inventory/<product>/`, the admin pages' forms).
    Set,
    /// A row of a bulk update (`POST /api/admin/stock/bulk/`, `aforro stock import`).
    Bulk,
}

impl MovementReason {
    /// The name the column stores and the contract answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Order => "order",
            Self::Cancel => "cancel",
            Self::Restock => "restock",
            Self::Adjust => "adjust",
            Self::Set => "set",
            Self::Bulk => "bulk",
        }
    }

    /// The reason named `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Order, Self::Cancel, Self::Restock, Self::Adjust, Self::Set, Self::Bulk]
            .into_iter()
            .find(|reason| reason.as_str() == text)
    }
}

/// What caused a stock write: every write that changes a quantity is handed one and records
/// it with the movement.
#[derive(Debug, Clone, Copy)]
pub struct StockCause<'a> {
    /// Why.
    pub reason: MovementReason,
    /// The order that took or gave back the units (orders and cancels).
    pub order_id: Option<OrderId>,
    /// Who: `admin:<username>`, `key:<key id>`, `master`, or `None` (open mode, no admin).
    pub actor: Option<&'a str>,
}

/// One movement, as `GET /api/admin/stores/<store>/inventory/<product>/movements/` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Movement {
    /// Increases with every movement.
    pub id: i64,
    /// The store whose stock moved.
    pub store_id: StoreId,
    /// The product whose stock moved.
    pub product_id: ProductId,
    /// Units added (positive) or taken (negative); never 0.
    pub delta: i64,
    /// On hand after the movement.
    pub quantity_after: i64,
    /// Why.
    pub reason: MovementReason,
    /// The order, for `order` and `cancel`.
    pub order_id: Option<OrderId>,
    /// Who (see [`StockCause::actor`]).
    pub actor: Option<String>,
    /// When its write committed (the writer's clock).
    pub created_at: Timestamp,
}
