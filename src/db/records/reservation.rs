//! A reservation (checkout hold) as the contract answers it: the body of a 201, `GET` and
//! `DELETE /reservations/<id>/`, and what `reservation.expired` delivers.

use serde::Serialize;

use crate::domain::{ProductId, ReservationId, ReservationStatus, StoreId, Timestamp};

/// The reservation body of the contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReservationBody {
    /// The reservation's id.
    pub id: ReservationId,
    /// The store whose stock it holds.
    pub store_id: StoreId,
    /// Its status as of the read: a stored `ACTIVE` past `expires_at` reads `EXPIRED`.
    pub status: ReservationStatus,
    /// Its lines, in the order the request gave them.
    pub items: Vec<ReservationItem>,
    /// When it was granted.
    pub created_at: Timestamp,
    /// From this instant on it is `EXPIRED` (unless used or released before).
    pub expires_at: Timestamp,
}

/// One line of a reservation body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReservationItem {
    /// The product held.
    pub product_id: ProductId,
    /// Units held.
    pub quantity: i64,
}

impl ReservationBody {
    /// Whether it holds stock at `now`: stored `ACTIVE` and not yet at its `expires_at`.
    pub fn holds_at(&self, now: Timestamp) -> bool {
        self.status == ReservationStatus::Active && now < self.expires_at
    }

    /// The body as every reader sees it at `now` (contract: from `expires_at` on a reservation
    /// is `EXPIRED` to every reader and writer, swept or not).
    #[must_use]
    pub fn as_of(mut self, now: Timestamp) -> Self {
        if self.status == ReservationStatus::Active && now >= self.expires_at {
            self.status = ReservationStatus::Expired;
        }
        self
    }
}
