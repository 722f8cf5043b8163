//! A parsed search request: what `GET /api/search/products/` asks for, past the HTTP edge.

use crate::domain::{CategoryId, Money, PageRequest, StoreId};

/// Result order. Every order breaks ties by product id, ascending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortOrder {
    /// BM25 score, best first.
    Relevance,
    /// `sort=price`: cheapest first.
    PriceAscending,
    /// `sort=-price`: dearest first.
    PriceDescending,
    /// `created_at`, newest first.
    Newest,
}

impl SortOrder {
    /// The contract's spellings: `relevance`, `price`, `-price`, `newest`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "relevance" => Some(Self::Relevance),
            "price" => Some(Self::PriceAscending),
            "-price" => Some(Self::PriceDescending),
            "newest" => Some(Self::Newest),
            _ => None,
        }
    }

    /// Relevance when there are words to rank by, newest otherwise.
    pub fn default_for(has_words: bool) -> Self {
        if has_words { Self::Relevance } else { Self::Newest }
    }
}

/// The `category` parameter: an id, or a name matched case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CategoryFilter {
    /// `category=<id>`.
    Id(CategoryId),
    /// `category=<name>`, without case.
    Name(String),
}

/// An inclusive price range, `min <= max` when both are given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PriceRange {
    /// `min_price`: at least this.
    pub min: Option<Money>,
    /// `max_price`: at most this.
    pub max: Option<Money>,
}

impl PriceRange {
    /// `None` when `min > max`.
    pub fn new(min: Option<Money>, max: Option<Money>) -> Option<Self> {
        match (min, max) {
            (Some(min), Some(max)) if min > max => None,
            _ => Some(Self { min, max }),
        }
    }

    /// The range in cents, as the index's `price_cents` field compares it.
    pub fn cents(self) -> std::ops::RangeInclusive<u64> {
        let to_u64 = |money: Money| u64::try_from(money.cents).unwrap_or(0);
        self.min.map_or(0, to_u64)..=self.max.map_or(u64::MAX, to_u64)
    }
}

/// A valid search request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchRequest {
    /// Free text; `None` when absent or blank (then every product matches).
    pub q: Option<String>,
    /// Only this category.
    pub category: Option<CategoryFilter>,
    /// Only prices in this range.
    pub price: PriceRange,
    /// Only products this store carries (and show its quantity).
    pub store_id: Option<StoreId>,
    /// With `store_id`, that store's stock; without, any store's.
    pub in_stock: Option<bool>,
    /// The order of the results.
    pub sort: SortOrder,
    /// In-stock products before out-of-stock ones, `sort` within each group.
    pub stock_first: bool,
    /// Mark the matched words in each row.
    pub highlight: bool,
    /// Say why each row matched and ranked where it did.
    pub explain: bool,
    /// Which page, of what size.
    pub page: PageRequest,
}

impl SearchRequest {
    /// Whether the answer depends on stock (and so must not outlive a stock change).
    pub fn reads_stock(&self) -> bool {
        self.store_id.is_some() || self.in_stock.is_some() || self.stock_first
    }
}

impl Default for SearchRequest {
    fn default() -> Self {
        Self {
            q: None,
            category: None,
            price: PriceRange::default(),
            store_id: None,
            in_stock: None,
            sort: SortOrder::Newest,
            stock_first: false,
            highlight: false,
            explain: false,
            page: PageRequest::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_orders_parse_from_the_contract_spellings_only() {
        assert_eq!(SortOrder::parse("-price"), Some(SortOrder::PriceDescending));
        for bad in ["", "Price", "score", "-newest"] {
            assert_eq!(SortOrder::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_price_range_must_not_be_inverted() {
        let cents = |c| Some(Money::from_cents(c));
        assert_eq!(PriceRange::new(cents(500), cents(100)), None);
        assert_eq!(PriceRange::new(cents(100), cents(100)).map(PriceRange::cents), Some(100..=100));
        assert_eq!(PriceRange::new(None, None).map(PriceRange::cents), Some(0..=u64::MAX));
    }
}
