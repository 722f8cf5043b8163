//! A bulk stock update inside the writer's transaction: every row in order, each a set or an
//! adjustment of one (store, product) with its movement (reason `bulk`) and stock events, under
//! the update's error policy (contract, "Stock movements, thresholds and bulk updates").

use std::collections::HashMap;

use rusqlite::Connection;

use super::catalog;
use crate::db::records::{CommitEffects, MovementReason, StockCause, Written};
use crate::domain::catalog::MAX_QUANTITY;
use crate::domain::stock::{
    BulkChange, BulkOutcome, BulkRow, BulkUpdate, ErrorPolicy, FailedRow, quantity_out_of_range,
};
use crate::domain::{FieldError, ProductId, StoreId};
use crate::error::{Error, Result};

/// Applies `update`'s rows in order. Under `reject_everything` any failed row is a `400`
/// naming every failure (`rows[i].<member>`), and the caller's savepoint undoes the rows
/// already applied; under `reject_failed_rows` the good rows stay applied and the failed ones
/// are reported by index. A repeated pair applies twice (each row reads what the one before
/// it wrote).
pub fn apply(conn: &Connection, update: &BulkUpdate, actor: Option<&str>) -> Result<Written<BulkOutcome>> {
    Ok(apply_listing_changes(conn, update, actor)?.0)
}

/// One quantity a bulk update changed: (store, product, before, after).
pub type RowChange = (StoreId, ProductId, i64, i64);

/// [`apply`], with every quantity it changed, in order (for the admin history).
pub fn apply_listing_changes(
    conn: &Connection,
    update: &BulkUpdate,
    actor: Option<&str>,
) -> Result<(Written<BulkOutcome>, Vec<RowChange>)> {
    let cause = StockCause { reason: MovementReason::Bulk, order_id: None, actor };
    let mut changes = Vec::new();
    let mut effects = CommitEffects::default();
    let mut stores: HashMap<StoreId, bool> = HashMap::new();
    let mut outcome = BulkOutcome { applied: 0, failed: Vec::new() };
    for (index, row) in update.rows.iter().enumerate() {
        let applied = match row {
            Ok(row) => apply_row(conn, &mut effects, &cause, &mut stores, index, row)?.map(|change| {
                if let Some(change) = change {
                    changes.push(change);
                }
            }),
            Err(errors) => Err(errors.clone()),
        };
        match applied {
            Ok(()) => outcome.applied += 1,
            Err(errors) => outcome.failed.push(FailedRow { index, errors }),
        }
    }
    if update.policy == ErrorPolicy::RejectEverything && !outcome.failed.is_empty() {
        let errors = outcome.failed.into_iter().flat_map(|failed| failed.errors).collect();
        return Err(Error::Validation(errors));
    }
    Ok((Written { value: outcome, effects }, changes))
}

/// One well-formed row: `Ok(Err(errors))` when it fails (an unknown store or product, a
/// quantity out of range, a delta taking on hand below zero), nothing written; else the change
/// it made, if any.
fn apply_row(
    conn: &Connection,
    effects: &mut CommitEffects,
    cause: &StockCause<'_>,
    stores: &mut HashMap<StoreId, bool>,
    index: usize,
    row: &BulkRow,
) -> Result<std::result::Result<Option<RowChange>, Vec<FieldError>>> {
    let mut errors = Vec::new();
    let store_known = match stores.get(&row.store_id) {
        Some(known) => *known,
        None => {
            let known = catalog::store_exists(conn, row.store_id)?;
            stores.insert(row.store_id, known);
            known
        }
    };
    if !store_known {
        errors
            .push(FieldError::new(format!("rows[{index}].store_id"), format!("store {} does not exist", row.store_id)));
    }
    let stock = catalog::stock_row(conn, row.store_id, row.product_id)?;
    if stock.is_none() {
        errors.push(FieldError::new(
            format!("rows[{index}].product_id"),
            format!("product {} does not exist", row.product_id),
        ));
    }
    let Some((current, threshold)) = stock.filter(|_| errors.is_empty()) else {
        return Ok(Err(errors));
    };
    let after = match row.change {
        BulkChange::Quantity(quantity) => quantity,
        BulkChange::Delta(delta) => current + delta,
    };
    if after < 0 {
        let message = format!("would take on hand below zero (it holds {current})");
        return Ok(Err(vec![FieldError::new(format!("rows[{index}].delta"), message)]));
    }
    if after > MAX_QUANTITY {
        return Ok(Err(vec![match row.change {
            BulkChange::Quantity(_) => quantity_out_of_range(index),
            BulkChange::Delta(_) => FieldError::new(
                format!("rows[{index}].delta"),
                format!("would take on hand over {MAX_QUANTITY} (it holds {current})"),
            ),
        }]));
    }
    catalog::write_quantity(conn, effects, cause, (row.store_id, row.product_id), (current, after), threshold)?;
    Ok(Ok((current != after).then_some((row.store_id, row.product_id, current, after))))
}
