//! Money as integer cents; shown as a two-place decimal string (`"12.50"`), as DRF does.

use serde::{Serialize, Serializer};

/// An amount of money in cents. Never negative in this domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money {
    /// The amount in cents.
    pub cents: i64,
}

impl Money {
    /// The amount of `cents` cents.
    pub const fn from_cents(cents: i64) -> Self {
        Self { cents }
    }

    /// Parses a non-negative decimal with at most two places: `"12"`, `"12.5"`, `"12.50"`.
    /// Returns `None` for anything else (signs, exponents, three places, overflow).
    pub fn parse(text: &str) -> Option<Self> {
        let (whole, fraction) = match text.split_once('.') {
            Some((whole, fraction)) => (whole, fraction),
            None => (text, ""),
        };
        let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits_only(whole) || !digits_only(fraction) || fraction.len() > 2 {
            return None;
        }
        if text.ends_with('.') {
            return None;
        }
        let whole: i64 = whole.parse().ok()?;
        let fraction_cents: i64 = match fraction.len() {
            0 => 0,
            1 => fraction.parse::<i64>().ok()? * 10,
            _ => fraction.parse().ok()?,
        };
        whole.checked_mul(100)?.checked_add(fraction_cents).map(Self::from_cents)
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:02}", self.cents / 100, self.cents % 100)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::Money;

    #[test]
    fn formats_with_two_places() {
        assert_eq!(Money::from_cents(1250).to_string(), "12.50");
        assert_eq!(Money::from_cents(5).to_string(), "0.05");
        assert_eq!(Money::from_cents(99999).to_string(), "999.99");
    }

    #[test]
    fn parses_plain_decimals_only() {
        assert_eq!(Money::parse("12"), Some(Money::from_cents(1200)));
        assert_eq!(Money::parse("12.5"), Some(Money::from_cents(1250)));
        assert_eq!(Money::parse("0.05"), Some(Money::from_cents(5)));
        for bad in ["", "-1", "1.234", "1e3", "abc", "1.", ".5", "+1", "99999999999999999999"] {
            assert_eq!(Money::parse(bad), None, "{bad:?}");
        }
    }
}
