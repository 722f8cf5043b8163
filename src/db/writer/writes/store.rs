//! The shop's named writes: placing and cancelling an order.

use crate::db::records::OrderBody;
use crate::db::store::orders::{self, PlacedOrder};
use crate::db::writer::WriterHandle;
use crate::domain::{IdempotencyKey, NewOrder, OrderId, Timestamp};
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
        self.write_unguarded(move |conn| {
            orders::place_order(conn, &order, key.as_ref(), actor.as_deref(), Timestamp::now(), job_lease)
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
