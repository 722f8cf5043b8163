//! The catalog's writable inputs (categories, stores, products, stock updates) and the one
//! parser of them, shared by the admin JSON API and the admin page's forms: every bad field
//! is named at once (`errors[].field`), as the public API does.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::text::{TextKind, checked};
use crate::domain::{CategoryId, FieldError, Money};
use crate::error::{Error, Result};

/// Longest name or title accepted; longer ones are almost certainly pasted by mistake.
const MAX_NAME_CHARS: usize = 200;
const MAX_DESCRIPTION_CHARS: usize = 10_000;
/// Largest quantity or restock delta: far beyond any shelf, far below any overflow.
pub const MAX_QUANTITY: i64 = 1_000_000_000;
/// Largest price: 16 digits before the point (the search filter's bound too), so any sum of a
/// few thousand prices still fits an i64 of cents.
const MAX_PRICE_CENTS: i64 = 999_999_999_999_999_999;

/// A product as the catalog writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductFields {
    /// Shown to customers and searched; 1 to 200 characters.
    pub title: String,
    /// Free text, searched; may be empty.
    pub description: String,
    /// The unit price in cents, never negative.
    pub price_cents: i64,
    /// The category it belongs to (must exist).
    pub category_id: CategoryId,
}

/// `POST /api/admin/login/`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LoginRequest {
    /// The admin account's name.
    pub username: String,
    /// Checked against the stored Argon2id hash, never stored itself.
    pub password: String,
}

/// A category's writable fields.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CategoryInput {
    /// Unique without case; 1 to 200 characters.
    pub name: String,
}

/// A store's writable fields.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct StoreInput {
    /// The store's display name; 1 to 200 characters.
    pub name: String,
    /// Where the store is (free text, may be empty).
    #[serde(default)]
    pub location: String,
}

/// `PUT …/inventory/<product>/` sets, `POST …/adjust/` adds `delta` (may be negative),
/// `POST …/restock/` adds a positive `quantity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockUpdate {
    /// Sets the stock to this many units.
    Set(i64),
    /// Adds this many units (negative removes); the result may not go below zero.
    Adjust(i64),
    /// Adds this many units (at least 1): a delivery (`restock` in the ledger).
    Restock(i64),
}

/// Collects field errors while reading one JSON object.
struct Reader<'a> {
    object: &'a Map<String, Value>,
    errors: Vec<FieldError>,
}

impl<'a> Reader<'a> {
    fn new(body: &'a Value) -> Result<Self> {
        body.as_object()
            .map(|object| Self { object, errors: Vec::new() })
            .ok_or_else(|| Error::field("body", "must be a JSON object"))
    }

    /// A string field, trimmed: `kind` says which control characters it may hold.
    fn text(&mut self, name: &str, required: bool, max_chars: usize, kind: TextKind) -> String {
        match self.object.get(name) {
            None | Some(Value::Null) if !required => String::new(),
            None | Some(Value::Null) => self.fail(name, "is required"),
            Some(Value::String(text)) if required && text.trim().is_empty() => self.fail(name, "must not be blank"),
            Some(Value::String(text)) if text.chars().count() > max_chars => {
                self.fail(name, &format!("must have at most {max_chars} characters"))
            }
            // Checked before trimming: a control character is refused wherever it stands.
            Some(Value::String(text)) => match checked(name, text, kind) {
                Ok(text) => text.trim().to_owned(),
                Err(error) => {
                    self.errors.push(error);
                    String::new()
                }
            },
            Some(_) => self.fail(name, "must be a string"),
        }
    }

    fn integer(&mut self, name: &str, range: std::ops::RangeInclusive<i64>) -> i64 {
        match self.object.get(name).map(Value::as_i64) {
            None => self.fail(name, "is required"),
            Some(Some(value)) if range.contains(&value) => value,
            Some(_) => self.fail(name, &format!("must be an integer from {} to {}", range.start(), range.end())),
        }
    }

    /// A price as the API shows it: a string (`"12.50"`), never a JSON number, whose binary
    /// float could not say `0.10` exactly; at most [`MAX_PRICE_CENTS`].
    fn money(&mut self, name: &str) -> Money {
        let text = match self.object.get(name) {
            Some(Value::String(text)) => text.clone(),
            None | Some(Value::Null) => return self.fail(name, "is required"),
            Some(_) => return self.fail(name, "must be a decimal string like \"12.50\""),
        };
        Money::parse(&text).filter(|money| money.cents <= MAX_PRICE_CENTS).unwrap_or_else(|| {
            self.fail(name, "must be a non-negative amount with at most 16 digits before the point and two after it")
        })
    }

    fn fail<T: Default>(&mut self, name: &str, message: &str) -> T {
        self.errors.push(FieldError::new(name, message));
        T::default()
    }

    fn finish<T>(self, value: T) -> Result<T> {
        if self.errors.is_empty() { Ok(value) } else { Err(Error::Validation(self.errors)) }
    }
}

/// Parses a login body (`username`, `password`).
pub fn login(body: &Value) -> Result<LoginRequest> {
    let mut reader = Reader::new(body)?;
    let username = reader.text("username", true, MAX_NAME_CHARS, TextKind::Line);
    let password = match reader.object.get("password") {
        Some(Value::String(password)) if !password.is_empty() => password.clone(),
        _ => reader.fail("password", "is required"),
    };
    reader.finish(LoginRequest { username, password })
}

/// Parses a category body (`name`).
pub fn category(body: &Value) -> Result<CategoryInput> {
    let mut reader = Reader::new(body)?;
    let name = reader.text("name", true, MAX_NAME_CHARS, TextKind::Line);
    reader.finish(CategoryInput { name })
}

/// Parses a store body (`name`, optional `location`).
pub fn store(body: &Value) -> Result<StoreInput> {
    let mut reader = Reader::new(body)?;
    let name = reader.text("name", true, MAX_NAME_CHARS, TextKind::Line);
    let location = reader.text("location", false, MAX_NAME_CHARS, TextKind::Line);
    reader.finish(StoreInput { name, location })
}

/// A product's fields: `title`, `description` (optional), `price`, `category_id`.
pub fn product(body: &Value) -> Result<ProductFields> {
    let mut reader = Reader::new(body)?;
    let title = reader.text("title", true, MAX_NAME_CHARS, TextKind::Line);
    let description = reader.text("description", false, MAX_DESCRIPTION_CHARS, TextKind::Multiline);
    let price = reader.money("price");
    let category_id = CategoryId(reader.integer("category_id", 1..=i64::MAX));
    reader.finish(ProductFields { title, description, price_cents: price.cents, category_id })
}

/// Parses a stock body that sets the quantity (`quantity`, 0 or more).
pub fn set_quantity(body: &Value) -> Result<StockUpdate> {
    let mut reader = Reader::new(body)?;
    let quantity = reader.integer("quantity", 0..=MAX_QUANTITY);
    reader.finish(StockUpdate::Set(quantity))
}

/// Largest low-stock threshold (contract).
pub const MAX_LOW_STOCK_THRESHOLD: i64 = 1_000_000_000;

/// `PUT …/inventory/<product>/`: a new quantity, a new low-stock threshold, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockEdit {
    /// Sets the stock to this many units.
    pub quantity: Option<i64>,
    /// Sets the row's low-stock threshold.
    pub low_stock_threshold: Option<i64>,
}

/// Parses a `PUT` stock body: `quantity` (0 or more) and/or `low_stock_threshold`
/// (0..=1,000,000,000); at least one of them.
pub fn stock_edit(body: &Value) -> Result<StockEdit> {
    let mut reader = Reader::new(body)?;
    let present = |reader: &Reader<'_>, name: &str| reader.object.get(name).is_some_and(|value| !value.is_null());
    let quantity = present(&reader, "quantity").then(|| reader.integer("quantity", 0..=MAX_QUANTITY));
    let threshold = present(&reader, "low_stock_threshold")
        .then(|| reader.integer("low_stock_threshold", 0..=MAX_LOW_STOCK_THRESHOLD));
    if quantity.is_none() && threshold.is_none() {
        reader.fail::<()>("quantity", "is required (or low_stock_threshold)");
    }
    reader.finish(StockEdit { quantity, low_stock_threshold: threshold })
}

/// Parses a stock body that adjusts the quantity (`delta`, may be negative).
pub fn adjust(body: &Value) -> Result<StockUpdate> {
    let mut reader = Reader::new(body)?;
    let delta = reader.integer("delta", -MAX_QUANTITY..=MAX_QUANTITY);
    reader.finish(StockUpdate::Adjust(delta))
}

/// Parses a restock body (`quantity`, 1 or more, added to the stock).
pub fn restock(body: &Value) -> Result<StockUpdate> {
    let mut reader = Reader::new(body)?;
    let quantity = reader.integer("quantity", 1..=MAX_QUANTITY);
    reader.finish(StockUpdate::Restock(quantity))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields_of(error: Error) -> Vec<String> {
        match error {
            Error::Validation(errors) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_product_body_names_every_bad_field() {
        let error = product(&json!({"title": " ", "price": "1.234", "category_id": 0})).expect_err("invalid");
        assert_eq!(fields_of(error), ["title", "price", "category_id"]);
    }

    #[test]
    fn prices_parse_from_decimal_strings_only() {
        let fields = product(&json!({"title": "Mug", "price": "12.5", "category_id": 1})).expect("valid");
        assert_eq!(fields.price_cents, 1250);
        assert_eq!(fields.description, "");
        let number = product(&json!({"title": "Mug", "price": 12.5, "category_id": 1})).expect_err("a number");
        assert_eq!(fields_of(number), ["price"]);
    }

    #[test]
    fn prices_have_at_most_sixteen_whole_digits() {
        let largest = product(&json!({"title": "Mug", "price": "0009999999999999999.99", "category_id": 1}));
        assert_eq!(largest.expect("16 digits").price_cents, 999_999_999_999_999_999);
        let too_large = product(&json!({"title": "Mug", "price": "10000000000000000", "category_id": 1}));
        assert_eq!(fields_of(too_large.expect_err("17 digits")), ["price"]);
    }

    #[test]
    fn control_characters_are_refused_in_names_titles_and_locations() {
        let nul_title = product(&json!({"title": "Mug\u{0}", "price": "1.00", "category_id": 1}));
        assert_eq!(fields_of(nul_title.expect_err("NUL")), ["title"]);
        let store_body = store(&json!({"name": "Shop\u{0}", "location": "Lisbon\nPorto"}));
        assert_eq!(fields_of(store_body.expect_err("NUL and LF")), ["name", "location"]);
        assert_eq!(fields_of(category(&json!({"name": "\u{7f}Kitchen"})).expect_err("DEL")), ["name"]);
    }

    #[test]
    fn a_description_keeps_tabs_and_line_breaks_and_refuses_other_controls() {
        let body =
            |description: &str| json!({"title": "Mug", "description": description, "price": "1", "category_id": 1});
        let kept = product(&body("Line one\r\n\tindented")).expect("tab, CR, LF are allowed");
        assert_eq!(kept.description, "Line one\r\n\tindented");
        assert_eq!(fields_of(product(&body("bad\u{0}")).expect_err("NUL")), ["description"]);
    }

    #[test]
    fn restock_needs_a_positive_quantity() {
        assert_eq!(fields_of(restock(&json!({"quantity": 0})).expect_err("zero")), ["quantity"]);
        assert_eq!(restock(&json!({"quantity": 5})).expect("valid"), StockUpdate::Restock(5));
    }
}
