//! A bulk stock update (`POST /api/admin/stock/bulk/`, `aforro stock import`, the admin upload
//! page): its error policy and rows, parsed from JSON or from CSV. A row that does not parse
//! stays in its place as its field errors, so a `reject_failed_rows` update can report it by
//! index and still apply the others.

use serde::Serialize;
use serde_json::{Map, Value};

use super::catalog::MAX_QUANTITY;
use super::{FieldError, ProductId, StoreId};
use crate::error::{Error, Result};

/// Rows one bulk update may hold (contract: 1..=10000).
pub const MAX_BULK_ROWS: usize = 10_000;

/// What a failed row does to the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorPolicy {
    /// Any failed row: `400`, nothing applied (the default).
    #[default]
    RejectEverything,
    /// The good rows are applied; the failed ones are reported by index.
    RejectFailedRows,
}

impl ErrorPolicy {
    /// Both policies, as the contract names them.
    pub const CHOICES: &'static str = "reject_everything, reject_failed_rows";

    /// The contract's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RejectEverything => "reject_everything",
            Self::RejectFailedRows => "reject_failed_rows",
        }
    }

    /// The policy named `text`, if any.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::RejectEverything, Self::RejectFailedRows].into_iter().find(|policy| policy.as_str() == text)
    }
}

/// What a row does to its (store, product).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkChange {
    /// Sets on hand to this many units (0..=1,000,000,000).
    Quantity(i64),
    /// Adds this many units (negative takes away); on hand may not go below zero.
    Delta(i64),
}

impl BulkChange {
    /// The row member it came from (`rows[i].quantity` or `rows[i].delta`).
    pub fn member(self) -> &'static str {
        match self {
            Self::Quantity(_) => "quantity",
            Self::Delta(_) => "delta",
        }
    }
}

/// One well-formed row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkRow {
    /// The store.
    pub store_id: StoreId,
    /// The product.
    pub product_id: ProductId,
    /// What it does.
    pub change: BulkChange,
}

/// A parsed bulk update: the policy and, per row in order, the row or why it does not parse
/// (field errors named `rows[i].<member>`).
#[derive(Debug, Clone)]
pub struct BulkUpdate {
    /// What a failed row does to the rest.
    pub policy: ErrorPolicy,
    /// The rows, in order.
    pub rows: Vec<std::result::Result<BulkRow, Vec<FieldError>>>,
}

/// A failed row of a `reject_failed_rows` update.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FailedRow {
    /// Its index in `rows`.
    pub index: usize,
    /// Why, each naming `rows[index].<member>`.
    pub errors: Vec<FieldError>,
}

/// The answer of an applied bulk update (`200`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BulkOutcome {
    /// Rows applied (a row that left the quantity as it was counts: it was applied).
    pub applied: usize,
    /// Rows refused (always empty under `reject_everything`, which answers 400 instead).
    pub failed: Vec<FailedRow>,
}

/// Parses `{"error_policy": …, "rows": [...]}`. The request itself (not an object, `rows`
/// missing, empty, not an array or over [`MAX_BULK_ROWS`], an unknown policy) is a `400`
/// whatever the policy; a bad row is kept as its errors.
pub fn bulk_update(body: &Value) -> Result<BulkUpdate> {
    let object = body.as_object().ok_or_else(|| Error::field("body", "must be a JSON object"))?;
    let mut errors = Vec::new();
    let policy = match object.get("error_policy") {
        None | Some(Value::Null) => ErrorPolicy::default(),
        Some(Value::String(text)) => ErrorPolicy::parse(text).unwrap_or_else(|| {
            errors.push(FieldError::new("error_policy", format!("must be one of {}", ErrorPolicy::CHOICES)));
            ErrorPolicy::default()
        }),
        Some(_) => {
            errors.push(FieldError::new("error_policy", format!("must be one of {}", ErrorPolicy::CHOICES)));
            ErrorPolicy::default()
        }
    };
    let rows = match object.get("rows") {
        Some(Value::Array(rows)) if (1..=MAX_BULK_ROWS).contains(&rows.len()) => {
            rows.iter().enumerate().map(|(index, row)| json_row(index, row)).collect()
        }
        Some(Value::Array(_)) => {
            errors.push(FieldError::new("rows", format!("must hold 1 to {MAX_BULK_ROWS} rows")));
            Vec::new()
        }
        None | Some(Value::Null) => {
            errors.push(FieldError::new("rows", "is required"));
            Vec::new()
        }
        Some(_) => {
            errors.push(FieldError::new("rows", "must be an array of rows"));
            Vec::new()
        }
    };
    if errors.is_empty() { Ok(BulkUpdate { policy, rows }) } else { Err(Error::Validation(errors)) }
}

fn json_row(index: usize, row: &Value) -> std::result::Result<BulkRow, Vec<FieldError>> {
    let Some(object) = row.as_object() else {
        return Err(vec![FieldError::new(format!("rows[{index}]"), "must be an object")]);
    };
    let mut errors = Vec::new();
    let mut id = |name: &str| match object.get(name).and_then(Value::as_i64) {
        Some(id) if id > 0 => id,
        _ => {
            errors.push(FieldError::new(format!("rows[{index}].{name}"), "must be a positive integer id"));
            0
        }
    };
    let (store, product) = (id("store_id"), id("product_id"));
    let change = change_of(index, object, &mut errors);
    match change {
        Some(change) if errors.is_empty() => {
            Ok(BulkRow { store_id: StoreId(store), product_id: ProductId(product), change })
        }
        _ => Err(errors),
    }
}

/// `quantity` or `delta`, exactly one, each in its range.
fn change_of(index: usize, object: &Map<String, Value>, errors: &mut Vec<FieldError>) -> Option<BulkChange> {
    let present = |name: &str| object.get(name).filter(|value| !value.is_null());
    match (present("quantity"), present("delta")) {
        (Some(quantity), None) => match quantity.as_i64().filter(|q| (0..=MAX_QUANTITY).contains(q)) {
            Some(quantity) => Some(BulkChange::Quantity(quantity)),
            None => {
                errors.push(quantity_out_of_range(index));
                None
            }
        },
        (None, Some(delta)) => match delta.as_i64().filter(|d| (-MAX_QUANTITY..=MAX_QUANTITY).contains(d)) {
            Some(delta) => Some(BulkChange::Delta(delta)),
            None => {
                errors.push(FieldError::new(
                    format!("rows[{index}].delta"),
                    format!("must be an integer from {} to {MAX_QUANTITY}", -MAX_QUANTITY),
                ));
                None
            }
        },
        (Some(_), Some(_)) => {
            errors.push(FieldError::new(format!("rows[{index}].delta"), "a row has quantity or delta, not both"));
            None
        }
        (None, None) => {
            errors.push(FieldError::new(format!("rows[{index}].quantity"), "is required (or delta)"));
            None
        }
    }
}

/// The error of a quantity outside 0..=1,000,000,000.
pub fn quantity_out_of_range(index: usize) -> FieldError {
    FieldError::new(format!("rows[{index}].quantity"), format!("must be an integer from 0 to {MAX_QUANTITY}"))
}

/// A CSV file's rows (header `store_id,product_id,quantity` or `store_id,product_id,delta`),
/// as JSON rows for the bulk route: each line one row, in order. A line that does not parse
/// becomes a row the route refuses by its index (its fields as the line had them), so the
/// CSV's row *i* is `rows[i]` in every answer. Errors name the line for a bad header.
pub fn csv_rows(text: &str) -> Result<Vec<Value>> {
    let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let header =
        reader.headers().map_err(|error| Error::field("file", format!("cannot read the CSV header: {error}")))?.clone();
    let columns: Vec<&str> = header.iter().collect();
    let member = match columns.as_slice() {
        ["store_id", "product_id", "quantity"] => "quantity",
        ["store_id", "product_id", "delta"] => "delta",
        _ => {
            return Err(Error::field(
                "file",
                "the CSV header must be store_id,product_id,quantity or store_id,product_id,delta",
            ));
        }
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|error| Error::field("file", format!("cannot read the CSV: {error}")))?;
        let cell = |at: usize| -> Value {
            let text = record.get(at).unwrap_or("");
            text.parse::<i64>().map_or_else(|_| Value::String(text.to_owned()), Value::from)
        };
        let mut row = Map::new();
        row.insert("store_id".into(), cell(0));
        row.insert("product_id".into(), cell(1));
        row.insert(member.into(), cell(2));
        rows.push(Value::Object(row));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(update: &BulkUpdate) -> Vec<Vec<String>> {
        update
            .rows
            .iter()
            .map(|row| match row {
                Ok(_) => Vec::new(),
                Err(errors) => errors.iter().map(|error| error.field.clone()).collect(),
            })
            .collect()
    }

    #[test]
    fn rows_parse_in_place_and_bad_ones_keep_their_index() {
        let update = bulk_update(&json!({"error_policy": "reject_failed_rows", "rows": [
            {"store_id": 1, "product_id": 2, "quantity": 5},
            {"store_id": 1, "product_id": 2, "delta": -3},
            {"store_id": 0, "product_id": "x", "quantity": -1},
            {"store_id": 1, "product_id": 2},
            {"store_id": 1, "product_id": 2, "quantity": 1, "delta": 1},
            7,
        ]}))
        .expect("parses");
        assert_eq!(update.policy, ErrorPolicy::RejectFailedRows);
        assert_eq!(
            update.rows[0],
            Ok(BulkRow { store_id: StoreId(1), product_id: ProductId(2), change: BulkChange::Quantity(5) })
        );
        assert_eq!(update.rows[1].as_ref().map(|row| row.change), Ok(BulkChange::Delta(-3)));
        assert_eq!(
            fields(&update),
            vec![
                vec![],
                vec![],
                vec!["rows[2].store_id".to_owned(), "rows[2].product_id".to_owned(), "rows[2].quantity".to_owned()],
                vec!["rows[3].quantity".to_owned()],
                vec!["rows[4].delta".to_owned()],
                vec!["rows[5]".to_owned()],
            ]
        );
    }

    #[test]
    fn the_request_itself_is_checked_whatever_the_policy() {
        for (body, field) in [
            (json!({"rows": []}), "rows"),
            (json!({}), "rows"),
            (json!({"rows": {}}), "rows"),
            (
                json!({"error_policy": "maybe", "rows": [{"store_id": 1, "product_id": 1, "quantity": 1}]}),
                "error_policy",
            ),
        ] {
            let Err(Error::Validation(errors)) = bulk_update(&body) else { panic!("{body} must be refused") };
            assert_eq!(errors[0].field, field, "{body}");
        }
        let rows: Vec<Value> =
            (0..=MAX_BULK_ROWS).map(|_| json!({"store_id": 1, "product_id": 1, "delta": 1})).collect();
        assert!(bulk_update(&json!({"rows": rows})).is_err(), "one row too many");
        let default = bulk_update(&json!({"rows": [{"store_id": 1, "product_id": 1, "delta": 1}]})).expect("parses");
        assert_eq!(default.policy, ErrorPolicy::RejectEverything);
    }

    #[test]
    fn csv_lines_become_rows_in_order_and_bad_cells_stay_for_the_route_to_name() {
        let rows = csv_rows("store_id,product_id,delta\n1,2,-3\n 4 , 5 , 6 \n1,x,2\n").expect("parses");
        assert_eq!(
            rows,
            vec![
                json!({"store_id": 1, "product_id": 2, "delta": -3}),
                json!({"store_id": 4, "product_id": 5, "delta": 6}),
                json!({"store_id": 1, "product_id": "x", "delta": 2}),
            ]
        );
        assert!(csv_rows("store,product,quantity\n1,2,3\n").is_err(), "an unknown header");
        assert!(csv_rows("store_id,product_id,quantity\n1,2\n").is_err(), "a short line");
    }
}
