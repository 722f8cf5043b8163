//! A new order as the client asked for it, and the parts it is made of.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;

use super::{FieldError, ProductId, ReservationId, StoreId};

/// The most lines one order may have (contract).
pub(super) const MAX_ORDER_LINES: usize = 100;
/// The most units one line may ask for (contract).
pub(super) const MAX_QUANTITY_REQUESTED: i64 = 1_000_000;

/// Units asked for on one line: an integer in `1..=1_000_000`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct QuantityRequested(i64);

impl QuantityRequested {
    /// `value` when it is in `1..=1_000_000`.
    pub fn parse(value: i64) -> Option<Self> {
        (1..=MAX_QUANTITY_REQUESTED).contains(&value).then_some(Self(value))
    }

    /// The number of units.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// One line of a new order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OrderLine {
    /// The product ordered.
    pub product_id: ProductId,
    /// How many units of it.
    pub quantity_requested: QuantityRequested,
}

/// A syntactically valid order: a store, 1..=100 lines, no product twice. Whether the store
/// and products exist, and whether there is stock, is decided by the writer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewOrder {
    /// The store the order is placed in.
    pub store_id: StoreId,
    /// The lines, in the request's order.
    pub items: Vec<OrderLine>,
    /// The reservation whose held stock the order takes (contract, Orders). Left out of the
    /// canonical form when absent, so keys stored before reservations existed still match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reservation_id: Option<ReservationId>,
}

impl NewOrder {
    /// Parses a request body, collecting every field problem rather than stopping at the first.
    pub fn parse(body: &Value) -> Result<Self, Vec<FieldError>> {
        let Some(object) = body.as_object() else {
            return Err(vec![FieldError::new("body", "must be a JSON object")]);
        };
        let mut errors = Vec::new();
        let store_id = parse_store_id(object.get("store_id"), &mut errors);
        let items = parse_items(object.get("items"), "quantity_requested", &mut errors);
        let reservation_id = match object.get("reservation_id") {
            None | Some(Value::Null) => None,
            Some(value) => positive_integer(value).map(ReservationId).or_else(|| {
                errors.push(FieldError::new("reservation_id", "must be a positive integer"));
                None
            }),
        };
        match (store_id, errors.is_empty()) {
            (Some(store_id), true) => Ok(Self { store_id, items, reservation_id }),
            _ => Err(errors),
        }
    }

    /// The canonical form an idempotency key remembers: two requests are "the same body"
    /// exactly when these strings are equal (key order and whitespace do not matter).
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("a NewOrder always serialises")
    }

    /// Units over all lines (the order body's `total_quantity`).
    pub fn total_quantity(&self) -> i64 {
        self.items.iter().map(|line| line.quantity_requested.get()).sum()
    }
}

/// The request's `store_id`: required, a positive integer (errors name the field).
pub(super) fn parse_store_id(value: Option<&Value>, errors: &mut Vec<FieldError>) -> Option<StoreId> {
    match value {
        None | Some(Value::Null) => {
            errors.push(FieldError::new("store_id", "this field is required"));
            None
        }
        Some(value) => positive_integer(value).map(StoreId).or_else(|| {
            errors.push(FieldError::new("store_id", "must be a positive integer"));
            None
        }),
    }
}

/// The `items` of an order or a reservation (`quantity_field` names a line's units:
/// `quantity_requested` or `quantity`), collecting every problem into `errors`.
pub(super) fn parse_items(items: Option<&Value>, quantity_field: &str, errors: &mut Vec<FieldError>) -> Vec<OrderLine> {
    let lines = match items {
        None | Some(Value::Null) => {
            errors.push(FieldError::new("items", "this field is required"));
            return Vec::new();
        }
        Some(Value::Array(lines)) => lines,
        Some(_) => {
            errors.push(FieldError::new("items", "must be a list of order lines"));
            return Vec::new();
        }
    };
    if lines.is_empty() {
        errors.push(FieldError::new("items", "must contain at least one line"));
    }
    if lines.len() > MAX_ORDER_LINES {
        errors.push(FieldError::new("items", format!("must contain at most {MAX_ORDER_LINES} lines")));
        return Vec::new();
    }
    let mut seen = HashSet::new();
    let mut parsed = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        if let Some(line) = parse_line(index, line, quantity_field, errors) {
            if seen.insert(line.product_id) {
                parsed.push(line);
            } else {
                errors.push(FieldError::new(
                    format!("items[{index}].product_id"),
                    format!("product {} appears more than once", line.product_id),
                ));
            }
        }
    }
    parsed
}

fn parse_line(index: usize, line: &Value, quantity_field: &str, errors: &mut Vec<FieldError>) -> Option<OrderLine> {
    let Some(line) = line.as_object() else {
        errors.push(FieldError::new(format!("items[{index}]"), "must be an object"));
        return None;
    };
    let product_id = match line.get("product_id") {
        None | Some(Value::Null) => {
            errors.push(FieldError::new(format!("items[{index}].product_id"), "this field is required"));
            None
        }
        Some(value) => positive_integer(value).map(ProductId).or_else(|| {
            errors.push(FieldError::new(format!("items[{index}].product_id"), "must be a positive integer"));
            None
        }),
    };
    let field = format!("items[{index}].{quantity_field}");
    let quantity = match line.get(quantity_field) {
        None | Some(Value::Null) => {
            errors.push(FieldError::new(field, "this field is required"));
            None
        }
        Some(value) => value.as_i64().and_then(QuantityRequested::parse).or_else(|| {
            errors.push(FieldError::new(field, format!("must be an integer from 1 to {MAX_QUANTITY_REQUESTED}")));
            None
        }),
    };
    Some(OrderLine { product_id: product_id?, quantity_requested: quantity? })
}

/// A JSON integer > 0. Floats such as `1.0` and numeric strings are rejected: the contract
/// says ids are integers, and accepting look-alikes hides client bugs.
pub(super) fn positive_integer(value: &Value) -> Option<i64> {
    value.as_i64().filter(|id| *id > 0)
}

/// An order's lifecycle state, as stored and as shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum OrderStatus {
    /// Not decided yet: a contract state, though the writer decides every order in its own transaction.
    Pending,
    /// Every line had stock; the stock was taken.
    Confirmed,
    /// Some line lacked stock; nothing was taken.
    Rejected,
    /// Was confirmed; its stock went back to the store.
    Cancelled,
}

impl OrderStatus {
    /// The accepted values of a `status` filter, for its error message.
    pub const CHOICES: &'static str = "PENDING, CONFIRMED, REJECTED, CANCELLED";

    /// The stored and shown form (`CONFIRMED`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Confirmed => "CONFIRMED",
            Self::Rejected => "REJECTED",
            Self::Cancelled => "CANCELLED",
        }
    }

    /// Parses the stored/query form; exact upper case, as the contract spells it.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "PENDING" => Some(Self::Pending),
            "CONFIRMED" => Some(Self::Confirmed),
            "REJECTED" => Some(Self::Rejected),
            "CANCELLED" => Some(Self::Cancelled),
            _ => None,
        }
    }
}

/// The `Idempotency-Key` header: 1–255 printable ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The header's value, if it is 1–255 printable ASCII characters.
    pub fn parse(text: &str) -> Option<Self> {
        let printable = text.bytes().all(|b| (0x20..0x7f).contains(&b));
        (printable && (1..=255).contains(&text.len())).then(|| Self(text.to_owned()))
    }

    /// The key as the client sent it (or, scoped, as the store remembers it).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key as remembered for the API key `scope` (contract: idempotency keys are scoped
    /// per API key, so two clients cannot replay each other's orders). The scoped form starts
    /// with a character no client key can hold (they are printable ASCII), so it never meets
    /// an unscoped key.
    #[must_use]
    pub fn scoped_to(self, scope: i64) -> Self {
        Self(format!("\u{a7}{scope}\u{a7}{}", self.0))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(body: &Value) -> Vec<String> {
        NewOrder::parse(body).expect_err("should be invalid").into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_valid_order_parses() {
        let order = NewOrder::parse(&json!({"store_id": 1, "items": [
            {"product_id": 10, "quantity_requested": 2}, {"product_id": 11, "quantity_requested": 1}
        ]}))
        .expect("valid");
        assert_eq!(order.store_id, StoreId(1));
        assert_eq!(order.total_quantity(), 3);
    }

    #[test]
    fn every_bad_field_is_named() {
        assert_eq!(fields(&json!({})), ["store_id", "items"]);
        assert_eq!(fields(&json!({"store_id": "1", "items": []})), ["store_id", "items"]);
        assert_eq!(
            fields(
                &json!({"store_id": 1, "items": [{"quantity_requested": 0}, {"product_id": 2.5, "quantity_requested": 1_000_001}]})
            ),
            [
                "items[0].product_id",
                "items[0].quantity_requested",
                "items[1].product_id",
                "items[1].quantity_requested"
            ]
        );
        assert_eq!(
            fields(
                &json!({"store_id": 1, "items": [{"product_id": 3, "quantity_requested": 1}, {"product_id": 3, "quantity_requested": 2}]})
            ),
            ["items[1].product_id"]
        );
    }

    #[test]
    fn more_than_one_hundred_lines_is_rejected() {
        let items: Vec<_> = (1..=101).map(|id| json!({"product_id": id, "quantity_requested": 1})).collect();
        assert_eq!(fields(&json!({"store_id": 1, "items": items})), ["items"]);
    }

    #[test]
    fn canonical_json_ignores_key_order() {
        let a = NewOrder::parse(&json!({"store_id": 1, "items": [{"product_id": 2, "quantity_requested": 3}]}));
        let b = NewOrder::parse(&json!({"items": [{"quantity_requested": 3, "product_id": 2}], "store_id": 1}));
        assert_eq!(a.expect("valid").canonical_json(), b.expect("valid").canonical_json());
    }

    #[test]
    fn idempotency_keys_are_printable_and_bounded() {
        assert!(IdempotencyKey::parse("abc-123").is_some());
        assert!(IdempotencyKey::parse("").is_none());
        assert!(IdempotencyKey::parse("a\nb").is_none());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_none());
    }

    #[test]
    fn a_scoped_key_never_equals_a_key_a_client_can_send() {
        let scoped = IdempotencyKey::parse("abc").expect("valid").scoped_to(12);
        assert_ne!(scoped.as_str(), "abc");
        assert!(IdempotencyKey::parse(scoped.as_str()).is_none(), "no client can send the scoped form");
        let other = IdempotencyKey::parse("abc").expect("valid").scoped_to(13);
        assert_ne!(scoped, other);
    }
}
