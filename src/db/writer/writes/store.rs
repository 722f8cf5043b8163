//! The shop's named writes: placing and cancelling an order; granting, releasing and expiring
//! reservations (checkout holds).

use crate::db::records::{OrderBody, ReservationBody};
use crate::db::store::orders::{self, PlacedOrder};
use crate::db::store::reservations::{self, Granted};
use crate::db::writer::WriterHandle;
use crate::domain::{IdempotencyKey, NewOrder, NewReservation, OrderId, ReservationId, Timestamp};
use crate::error::Result;

/// The orders' named writes.
impl WriterHandle {
    /// Places an order; resolves once it is committed (or rejected and nothing was written).
    /// Unguarded (no savepoint of its own): [`orders::place_order`]'s 400, 404 and 422 come before it
    /// writes anything, and a rejection or a line it cannot fill gives back what it took.
    /// Its confirmation's job is handed straight to this process's workers when they take
    /// jobs that way (see `jobs::handoff`).
    pub async fn place_order(&self, order: NewOrder, key: Option<IdempotencyKey>) -> Result<PlacedOrder> {
        self.place_order_by(order, key, None).await
    }

    /// [`Self::place_order`] with who placed it, as its movements record it (`key:<id>`,
    /// `master`, `admin:<username>`; `None` in open mode without an admin).
    pub async fn place_order_by(
        &self,
        order: NewOrder,
        key: Option<IdempotencyKey>,
        actor: Option<String>,
    ) -> Result<PlacedOrder> {
        let job_lease = self.job_handoff().lease_for_new_job(order.items.len());
        // The writer's clock, read on the writer thread: a reservation the order names is judged
        // expired or not at the same instant as the stock it holds.
        let clock = self.clock().clone();
        self.write_unguarded(move |conn| {
            orders::place_order(conn, &order, key.as_ref(), actor.as_deref(), clock.now(), job_lease)
        })
        .await
    }

    /// Cancels an order (see [`orders::cancel_order`]); resolves once the cancel is committed and the
    /// stock views hold the returned stock.
    pub async fn cancel_order(&self, order_id: OrderId) -> Result<OrderBody> {
        self.cancel_order_by(order_id, None).await
    }

    /// [`Self::cancel_order`] with who cancelled it, as the returned stock's movements record it.
    pub async fn cancel_order_by(&self, order_id: OrderId, actor: Option<String>) -> Result<OrderBody> {
        self.write(move |conn| orders::cancel_order(conn, order_id, actor.as_deref(), Timestamp::now())).await
    }
}

/// The reservations' named writes. Each reads the writer's clock on the writer thread, inside
/// the transaction, so "now" is the same instant for the check and the write.
impl WriterHandle {
    /// Grants a reservation (see [`reservations::grant`]); resolves once it is committed and
    /// the stock views hold the lower availability. Unguarded, as an order is: its 400, 404,
    /// 409 and 422 are all decided before it writes anything, and a hold is as hot a write at
    /// checkout as the order that follows it.
    pub async fn create_reservation(&self, request: NewReservation, key: Option<IdempotencyKey>) -> Result<Granted> {
        let clock = self.clock().clone();
        self.write_unguarded(move |conn| reservations::grant(conn, &request, key.as_ref(), clock.now())).await
    }

    /// Releases a reservation (see [`reservations::release`]).
    pub async fn release_reservation(&self, id: ReservationId) -> Result<ReservationBody> {
        let clock = self.clock().clone();
        self.write(move |conn| reservations::release(conn, id, clock.now())).await
    }

    /// Stores `EXPIRED` for every reservation due now and queues `reservation.expired` for each
    /// (see [`reservations::expire_due`]); returns how many. The expiry timer and the sweep
    /// both call it.
    pub async fn expire_reservations(&self) -> Result<usize> {
        let clock = self.clock().clone();
        self.write(move |conn| reservations::expire_due(conn, clock.now())).await
    }
}
