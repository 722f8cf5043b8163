//! A new reservation (a checkout hold) as the client asked for it, and a reservation's status.

use serde::Serialize;
use serde_json::Value;

use super::order::{parse_items, parse_store_id};
use super::{FieldError, OrderLine, StoreId};

/// The shortest hold a client may ask for, in seconds (contract).
pub const MIN_TTL_SECONDS: i64 = 60;
/// The longest hold, in seconds: a day (contract).
pub const MAX_TTL_SECONDS: i64 = 86_400;
/// The hold when the request names none: fifteen minutes, a payment page's usual patience.
pub const DEFAULT_TTL_SECONDS: i64 = 900;

/// A syntactically valid reservation: a store, 1..=100 lines (the order-line rules, each line's
/// units named `quantity`), and a time to live. Whether the store and products exist and
/// whether the stock is available is decided by the writer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReservation {
    /// The store whose stock is held.
    pub store_id: StoreId,
    /// The lines, in the request's order (`quantity_requested` is the units held).
    pub items: Vec<OrderLine>,
    /// How long the hold lasts, `60..=86400` seconds.
    pub ttl_seconds: i64,
}

/// The canonical form an idempotency key compares (field order and whitespace do not matter).
#[derive(Serialize)]
struct Canonical<'a> {
    store_id: StoreId,
    items: Vec<CanonicalLine>,
    ttl_seconds: i64,
    /// Tells a reservation's key apart from an order's with the same text and body.
    kind: &'a str,
}

#[derive(Serialize)]
struct CanonicalLine {
    product_id: i64,
    quantity: i64,
}

impl NewReservation {
    /// Parses a request body, collecting every field problem rather than stopping at the first.
    pub fn parse(body: &Value) -> Result<Self, Vec<FieldError>> {
        let Some(object) = body.as_object() else {
            return Err(vec![FieldError::new("body", "must be a JSON object")]);
        };
        let mut errors = Vec::new();
        let store_id = parse_store_id(object.get("store_id"), &mut errors);
        let items = parse_items(object.get("items"), "quantity", &mut errors);
        let ttl_seconds = match object.get("ttl_seconds") {
            None | Some(Value::Null) => Some(DEFAULT_TTL_SECONDS),
            Some(value) => {
                value.as_i64().filter(|ttl| (MIN_TTL_SECONDS..=MAX_TTL_SECONDS).contains(ttl)).or_else(|| {
                    errors.push(FieldError::new(
                        "ttl_seconds",
                        format!("must be an integer from {MIN_TTL_SECONDS} to {MAX_TTL_SECONDS}"),
                    ));
                    None
                })
            }
        };
        match (store_id, ttl_seconds, errors.is_empty()) {
            (Some(store_id), Some(ttl_seconds), true) => Ok(Self { store_id, items, ttl_seconds }),
            _ => Err(errors),
        }
    }

    /// The canonical request an idempotency key remembers: two requests are "the same body"
    /// exactly when these strings are equal.
    pub fn canonical_json(&self) -> String {
        let canonical = Canonical {
            store_id: self.store_id,
            items: self
                .items
                .iter()
                .map(|line| CanonicalLine { product_id: line.product_id.0, quantity: line.quantity_requested.get() })
                .collect(),
            ttl_seconds: self.ttl_seconds,
            kind: "reservation",
        };
        serde_json::to_string(&canonical).expect("a reservation always serialises")
    }
}

/// Where a reservation is in its life, as stored and as shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ReservationStatus {
    /// Holding its stock until `expires_at`.
    Active,
    /// An order took its stock.
    Used,
    /// Its client let it go (`DELETE`).
    Released,
    /// Its time ran out (from `expires_at` on, whether or not the sweep has stored it).
    Expired,
}

impl ReservationStatus {
    /// The stored and shown form (`ACTIVE`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Used => "USED",
            Self::Released => "RELEASED",
            Self::Expired => "EXPIRED",
        }
    }

    /// Parses the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ACTIVE" => Some(Self::Active),
            "USED" => Some(Self::Used),
            "RELEASED" => Some(Self::Released),
            "EXPIRED" => Some(Self::Expired),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(body: &Value) -> Vec<String> {
        NewReservation::parse(body).expect_err("invalid").into_iter().map(|error| error.field).collect()
    }

    #[test]
    fn a_reservation_defaults_to_fifteen_minutes() {
        let parsed = NewReservation::parse(&json!({"store_id": 1, "items": [{"product_id": 2, "quantity": 3}]}));
        assert_eq!(parsed.expect("valid").ttl_seconds, DEFAULT_TTL_SECONDS);
    }

    #[test]
    fn lines_name_their_units_quantity_and_the_ttl_is_bounded() {
        assert_eq!(fields(&json!({"store_id": 1, "items": [{"product_id": 2, "quantity": 0}]})), ["items[0].quantity"]);
        assert_eq!(
            fields(&json!({"store_id": 1, "items": [{"product_id": 2, "quantity": 1}], "ttl_seconds": 59})),
            ["ttl_seconds"]
        );
        assert_eq!(
            fields(&json!({"store_id": 1, "items": [{"product_id": 2, "quantity": 1}], "ttl_seconds": 86_401})),
            ["ttl_seconds"]
        );
        assert_eq!(fields(&json!({"items": []})), ["store_id", "items"]);
    }

    #[test]
    fn the_canonical_form_ignores_key_order_and_differs_from_an_orders() {
        let a = NewReservation::parse(&json!({"store_id": 1, "items": [{"product_id": 2, "quantity": 3}]}));
        let b = NewReservation::parse(
            &json!({"items": [{"quantity": 3, "product_id": 2}], "ttl_seconds": 900, "store_id": 1}),
        );
        assert_eq!(a.expect("valid").canonical_json(), b.expect("valid").canonical_json());
    }
}
