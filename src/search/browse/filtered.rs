//! Filtered browses without words (`category`, `store_id`/`in_stock`, `min_price`/`max_price`)
//! served from the precomputed browse orders instead of the collector.
//!
//! With each full order the background computation keeps every product's category and price
//! (read from the index's fast fields) and, per category, the positions of its products in the
//! order. A filtered browse then:
//! - pages by walking the order (a category's positions when a category is asked), keeping
//!   the products the filter admits until the page's end: O(page / share admitted);
//! - counts and builds the facets from the precomputed totals when only a category narrows
//!   (O(1)), or else by one pass over the smallest set that contains every match: the
//!   store's carried products (a tenth of the catalog in the demo and at 1M) or the
//!   category's products. These are flat arrays, not tantivy documents.
//!
//! - with a price range alone (no category, no store): counts and facets by one sequential
//!   pass over every product's facts (flat arrays: ~1 ms at 1M, where the collector's scan of
//!   every document took ~7 ms); pages from the order, which for a price sort holds the
//!   range's products contiguously (found by binary search), and for `newest` is walked
//!   only when the range holds enough products for a page to be near (else the collector).
//!
//! `in_stock` without a store takes the ordinary path (the collector over every document).

use std::collections::{BTreeMap, HashMap};
use std::ops::RangeInclusive;

use tantivy::Searcher;

use super::super::collector::{Hit, MatchFilter, Matches, StockCondition};
use super::super::columns::FastColumns;
use super::super::request::SortOrder;

/// Products a price-range browse may walk in the order to fill its page (about 1 ms of
/// random reads at 1M products); past it, the collector's scan is cheaper.
const MAX_PRICE_WALK: usize = 100_000;
/// Category ids counted in an array rather than a map.
const DENSE_CATEGORY_IDS: usize = 4096;

/// What a filtered browse needs next to a full browse order.
pub struct FilterAids {
    /// Indexed by product id: its category's index in `category_ids` (high 16 bits,
    /// [`NO_DOCUMENT`] for a product without a document) and its price in cents (low 48
    /// bits). Eight bytes, not two `u64`s: a store browse reads the facts of every product
    /// the store carries, in id order, and so streams the whole array through the cache; at
    /// 16 bytes a product that was most of its time (perf on `filtered_browse_1m`).
    facts: Vec<u64>,
    /// Category ids by the index the facts hold.
    category_ids: Vec<u64>,
    /// Whether every product's facts fitted (fewer than 65,535 categories, prices below
    /// 2^48 cents); if not, filtered browses take the collector.
    complete: bool,
    /// Per category, the positions of its products in the full order, in order.
    positions: HashMap<u64, Vec<u32>>,
    /// Per category, its lowest and highest price.
    prices: HashMap<u64, (u64, u64)>,
}

/// Bits of a packed fact that hold the price.
const PRICE_BITS: u32 = 48;
const PRICE_MASK: u64 = (1 << PRICE_BITS) - 1;
/// The category index of a product without a document.
const NO_DOCUMENT: u64 = 0xFFFF;

impl FilterAids {
    /// Reads category and price of every live document of `searcher` and groups the
    /// positions of `order` by category.
    pub fn build(searcher: &Searcher, columns: &FastColumns, order: &[Hit]) -> tantivy::Result<Self> {
        // Sized once for the largest id (growing it id by id copied it again and again), and
        // read from the columns decoded per segment, a range at a time.
        let segments = searcher
            .segment_readers()
            .iter()
            .map(|segment| Ok((segment, columns.segment(segment)?)))
            .collect::<tantivy::Result<Vec<_>>>()?;
        let slots = segments
            .iter()
            .filter(|(segment, _)| segment.max_doc() > 0)
            .map(|(_, columns)| usize::try_from(columns.ids.max_value()).map_or(0, |max| max.saturating_add(1)))
            .max()
            .unwrap_or(0);
        let mut facts = vec![NO_DOCUMENT << PRICE_BITS; slots];
        let mut category_ids: Vec<u64> = Vec::new();
        let mut category_index: HashMap<u64, u64> = HashMap::new();
        let mut complete = true;
        for (segment, columns) in &segments {
            let len = segment.max_doc() as usize;
            let (mut ids, mut categories, mut prices) = (vec![0; len], vec![0; len], vec![0; len]);
            columns.ids.get_range(0, &mut ids);
            columns.categories.get_range(0, &mut categories);
            columns.prices.get_range(0, &mut prices);
            for doc in segment.doc_ids_alive() {
                let doc = doc as usize;
                let category = *category_index.entry(categories[doc]).or_insert_with(|| {
                    category_ids.push(categories[doc]);
                    category_ids.len() as u64 - 1
                });
                complete &= category < NO_DOCUMENT && prices[doc] <= PRICE_MASK;
                if let Some(slot) = usize::try_from(ids[doc]).ok().and_then(|index| facts.get_mut(index)) {
                    *slot = (category << PRICE_BITS) | (prices[doc] & PRICE_MASK);
                }
            }
        }
        let mut aids = Self { facts, category_ids, complete, positions: HashMap::new(), prices: HashMap::new() };
        for (position, hit) in order.iter().enumerate() {
            let Some((category_id, price)) = aids.facts(hit.product_id) else {
                continue;
            };
            aids.positions.entry(category_id).or_default().push(u32::try_from(position).unwrap_or(u32::MAX));
            let range = aids.prices.entry(category_id).or_insert((price, price));
            *range = (range.0.min(price), range.1.max(price));
        }
        Ok(aids)
    }

    /// Category and price of a product with a document.
    #[inline]
    fn facts(&self, product_id: u64) -> Option<(u64, u64)> {
        let fact = *self.facts.get(usize::try_from(product_id).ok()?)?;
        let category = *self.category_ids.get(usize::try_from(fact >> PRICE_BITS).ok()?)?;
        Some((category, fact & PRICE_MASK))
    }

    /// Whether the product passes `filter`; `Some(quantity)` as the collector records it.
    fn admits(&self, filter: &MatchFilter, product_id: u64) -> Option<Option<u32>> {
        self.admitted(filter, product_id).map(|(quantity, _)| quantity)
    }

    /// [`Self::admits`] with the product's (category, price), read once for both.
    fn admitted(&self, filter: &MatchFilter, product_id: u64) -> Option<(Option<u32>, (u64, u64))> {
        // Stock first: a product the store lacks (or has none of, for `in_stock`) then costs
        // no read of its facts.
        let quantity = filter.stock.admits(product_id)?;
        let (category, price) = self.facts(product_id)?;
        if filter.category_id.is_some_and(|wanted| wanted != category) || !filter.price_cents.contains(&price) {
            return None;
        }
        Some((quantity, (category, price)))
    }

    /// The matches of a filtered browse without words over `order` (the full order of the
    /// request's sort, whose totals are `full`), keeping the first `top_n`; `None` when this
    /// filter has no cheaper way than the collector.
    pub fn matches(&self, full: &Matches, sort: SortOrder, filter: &MatchFilter, top_n: usize) -> Option<Matches> {
        if !self.complete {
            return None;
        }
        let category_positions = filter.category_id.map(|id| self.positions.get(&id).map_or(&[][..], Vec::as_slice));
        let price_filtered = filter.price_cents != (0..=u64::MAX);
        let mut matches = match (&filter.stock, category_positions) {
            (StockCondition::Unfiltered, Some(positions)) if !price_filtered => {
                let category_id = filter.category_id?;
                Matches {
                    count: positions.len() as u64,
                    categories: (!positions.is_empty())
                        .then_some((category_id, positions.len() as u64))
                        .into_iter()
                        .collect(),
                    price_cents: self.prices.get(&category_id).copied(),
                    top: Vec::new(),
                }
            }
            (StockCondition::Store { carried: Some(carried), .. }, positions) => {
                // Whichever is smaller holds every match: the store's products or the category's.
                match positions.filter(|positions| positions.len() < carried.len()) {
                    Some(positions) => self.totals(filter, positions.iter().map(|&p| full.top[p as usize].product_id)),
                    None => self.totals(filter, carried.iter().map(|&id| u64::from(id))),
                }
            }
            (StockCondition::Store { column: None, .. }, _) => Matches::default(),
            (StockCondition::Unfiltered, Some(positions)) => {
                self.totals(filter, positions.iter().map(|&p| full.top[p as usize].product_id))
            }
            (StockCondition::Unfiltered, None) if price_filtered => {
                let totals = self.totals(filter, (0..self.facts.len() as u64).filter(|&id| self.facts(id).is_some()));
                let start = self.first_in_price_range(&full.top, sort, &filter.price_cents);
                // A walk that would visit more than this many products to fill the page (a
                // narrow range under `newest`) costs more than the collector: leave it that.
                let count = usize::try_from(totals.count).unwrap_or(usize::MAX);
                let expected_walk = top_n.min(count).saturating_mul(full.top.len()) / count.max(1);
                if start == 0 && expected_walk > MAX_PRICE_WALK {
                    return None;
                }
                let top = full.top[start..]
                    .iter()
                    .filter(|hit| self.admits(filter, hit.product_id).is_some())
                    .take(top_n.min(count))
                    .cloned()
                    .collect();
                return Some(Matches { top, ..totals });
            }
            _ => return None,
        };
        let admitted = |hit: &Hit| {
            self.admits(filter, hit.product_id).map(|quantity| {
                let mut hit = hit.clone();
                hit.quantity = quantity;
                hit
            })
        };
        matches.top = match category_positions {
            Some(positions) => positions.iter().filter_map(|&p| admitted(&full.top[p as usize])).take(top_n).collect(),
            None => full.top.iter().filter_map(admitted).take(top_n).collect(),
        };
        Some(matches)
    }

    /// Where an order's products in `range` begin: after every cheaper one in an order by
    /// price ascending (every dearer one descending), found by binary search; 0 for other
    /// orders, which hold the range's products anywhere.
    fn first_in_price_range(&self, order: &[Hit], sort: SortOrder, range: &RangeInclusive<u64>) -> usize {
        // A product without facts (none in an order of the aids' own generation) counts as
        // outside the range at the order's start.
        let price = |hit: &Hit| self.facts(hit.product_id).map(|(_, price)| price);
        match sort {
            SortOrder::PriceAscending => order.partition_point(|hit| price(hit).is_none_or(|p| p < *range.start())),
            SortOrder::PriceDescending => order.partition_point(|hit| price(hit).is_none_or(|p| p > *range.end())),
            SortOrder::Relevance | SortOrder::Newest => 0,
        }
    }

    /// Count and facets of the products of `candidates` that pass `filter`.
    fn totals(&self, filter: &MatchFilter, candidates: impl Iterator<Item = u64>) -> Matches {
        // Counted in an array while the ids are small (a map update per product would cost
        // more than the rest), as the collector does.
        let mut dense = vec![0_u64; DENSE_CATEGORY_IDS];
        let mut categories: BTreeMap<u64, u64> = BTreeMap::new();
        let mut count = 0;
        let mut price_cents: Option<(u64, u64)> = None;
        for product_id in candidates {
            let Some((_, (category, price))) = self.admitted(filter, product_id) else {
                continue;
            };
            count += 1;
            match usize::try_from(category).ok().and_then(|index| dense.get_mut(index)) {
                Some(slot) => *slot += 1,
                None => *categories.entry(category).or_default() += 1,
            }
            price_cents = Some(price_cents.map_or((price, price), |(low, high)| (low.min(price), high.max(price))));
        }
        for (category, count) in dense.into_iter().enumerate().filter(|(_, count)| *count > 0) {
            categories.insert(category as u64, count);
        }
        Matches { count, categories, price_cents, top: Vec::new() }
    }
}
