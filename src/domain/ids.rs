//! Identifier newtypes, so a store id can never be passed where a product id is expected.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl rusqlite::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                self.0.to_sql()
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                i64::column_result(value).map($name)
            }
        }
    };
}

id_type!(
    /// A store's primary key.
    StoreId
);
id_type!(
    /// A product's primary key.
    ProductId
);
id_type!(
    /// An order's primary key.
    OrderId
);
id_type!(
    /// A category's primary key.
    CategoryId
);
id_type!(
    /// A reservation's (checkout hold's) primary key.
    ReservationId
);

/// Parses a positive integer id as written in a path or query string (`"12"`, not `"+12"` or
/// `"012"`-style surprises beyond what `i64` parsing accepts).
pub fn parse_positive_id(text: &str) -> Option<i64> {
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>().ok().filter(|id| *id > 0)
}

#[cfg(test)]
mod tests {
    use super::parse_positive_id;

    #[test]
    fn positive_ids_parse_and_everything_else_does_not() {
        assert_eq!(parse_positive_id("12"), Some(12));
        for bad in ["0", "-1", "+1", "1.5", "", "abc", "99999999999999999999"] {
            assert_eq!(parse_positive_id(bad), None, "{bad:?}");
        }
    }
}
