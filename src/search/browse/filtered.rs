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
//! - with a price range and no store (a category or not): count and facets from the
//!   `PriceIndex`, by binary search and two short scans, whatever the range holds (one
//!   pass over every product's facts took 5–7 ms at 1M over HTTP, an eighth of the search
//!   mix's time); pages from the order, which for a price sort holds the range's products
//!   contiguously (found by binary search), and for `newest` is walked only when the range
//!   holds enough products for a page to be near (else the collector).
//!
//! The facts and the price index depend on the catalog alone, not on the sort, so every
//! sort's order of one catalog generation shares one [`CatalogFacts`].
//!
//! `in_stock` without a store takes the ordinary path (the collector over every document).

use std::collections::{BTreeMap, HashMap};
use std::ops::RangeInclusive;
use std::sync::Arc;

use tantivy::Searcher;

use super::super::collector::{Hit, MatchFilter, Matches, StockCondition};
use super::super::columns::{FACT_PRICE_BITS, FastColumns, pack_fact, unpack_fact};
use super::super::request::SortOrder;

/// Products a price-range browse may walk in the order to fill its page (about 1 ms of
/// random reads at 1M products); past it, the collector's scan is cheaper.
const MAX_PRICE_WALK: usize = 100_000;
/// Category ids counted in an array rather than a map.
const DENSE_CATEGORY_IDS: usize = 4096;

/// What every browse order of one catalog generation shares: each product's category and
/// price, and the products by price.
pub struct CatalogFacts {
    /// The catalog generation they were read at (or after).
    pub generation: u64,
    /// Indexed by product id: its category's index in `category_ids` ([`NO_DOCUMENT`] for
    /// a product without a document) and its price in cents, packed as the decoded columns
    /// pack category and price ([`pack_fact`]). Eight bytes, not two `u64`s: a store browse reads the facts of every product
    /// the store carries, in id order, and so streams the whole array through the cache; at
    /// 16 bytes a product that was most of its time (perf on `filtered_browse_1m`).
    facts: Vec<u64>,
    /// Category ids by the index the facts hold.
    category_ids: Vec<u64>,
    /// Whether every product's facts fitted (fewer than 65,535 categories, prices below
    /// 2^48 cents); if not, filtered browses take the collector.
    complete: bool,
    by_price: PriceIndex,
}

/// What a filtered browse needs next to a full browse order.
pub struct FilterAids {
    facts: Arc<CatalogFacts>,
    /// Per category, the positions of its products in the full order, in order.
    positions: HashMap<u64, Vec<u32>>,
    /// Per category, its lowest and highest price.
    prices: HashMap<u64, (u64, u64)>,
}

/// The category index of a product without a document.
const NO_DOCUMENT: u64 = 0xFFFF;

impl CatalogFacts {
    /// Reads category and price of every live document of `searcher`.
    pub fn build(generation: u64, searcher: &Searcher, columns: &FastColumns) -> tantivy::Result<Self> {
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
        let mut facts = vec![NO_DOCUMENT << FACT_PRICE_BITS; slots];
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
                let fact = pack_fact(category, prices[doc]).filter(|_| category < NO_DOCUMENT);
                complete &= fact.is_some();
                if let (Some(fact), Some(slot)) =
                    (fact, usize::try_from(ids[doc]).ok().and_then(|index| facts.get_mut(index)))
                {
                    *slot = fact;
                }
            }
        }
        let by_price = PriceIndex::build(&facts, category_ids.len());
        Ok(Self { generation, facts, category_ids, complete, by_price })
    }

    /// Category and price of a product with a document.
    #[inline]
    fn facts(&self, product_id: u64) -> Option<(u64, u64)> {
        let (index, price) = unpack_fact(*self.facts.get(usize::try_from(product_id).ok()?)?);
        let category = *self.category_ids.get(usize::try_from(index).ok()?)?;
        Some((category, price))
    }
}

/// Positions between two samples of [`PriceIndex::counts_before`]: a count scans at most
/// this many entries past its sample (a few microseconds).
const PRICE_SAMPLE: usize = 1024;

/// Every product with a document, by price, with running counts per category: the count
/// and facets of a price range (with or without a category) by two binary searches and two
/// scans of at most [`PRICE_SAMPLE`] entries, instead of a pass over the catalog.
struct PriceIndex {
    /// `price << ENTRY_CATEGORY_BITS | category index`, ascending (so by price).
    entries: Vec<u64>,
    categories: usize,
    /// Row `k` (`categories` counts): how many of `entries[..k * PRICE_SAMPLE]` each
    /// category index has.
    counts_before: Vec<u32>,
}

impl PriceIndex {
    fn build(facts: &[u64], categories: usize) -> Self {
        let mut entries: Vec<u64> = facts
            .iter()
            .map(|&fact| unpack_fact(fact))
            .filter(|&(index, _)| index != NO_DOCUMENT)
            .map(|(index, price)| (price << ENTRY_CATEGORY_BITS) | index)
            .collect();
        entries.sort_unstable();
        let mut counts_before = Vec::with_capacity((entries.len() / PRICE_SAMPLE + 1) * categories);
        let mut running = vec![0_u32; categories];
        for (position, entry) in entries.iter().enumerate() {
            if position % PRICE_SAMPLE == 0 {
                counts_before.extend_from_slice(&running);
            }
            if let Some(count) = running.get_mut(category_index(*entry)) {
                *count += 1;
            }
        }
        // The row for the end itself, when the end falls on a sample (an empty index, or a
        // multiple of PRICE_SAMPLE products): without it a range reaching the last product
        // counted nothing before it.
        if entries.len().is_multiple_of(PRICE_SAMPLE) {
            counts_before.extend_from_slice(&running);
        }
        Self { entries, categories, counts_before }
    }

    /// Positions of the entries priced in `range`.
    fn positions(&self, range: &RangeInclusive<u64>) -> std::ops::Range<usize> {
        let start = self.entries.partition_point(|&entry| entry_price(entry) < *range.start());
        let end = self.entries.partition_point(|&entry| entry_price(entry) <= *range.end());
        start..end.max(start)
    }

    /// How many of `entries[..position]` have category index `category`.
    fn count_before(&self, position: usize, category: usize) -> u64 {
        let sample = position / PRICE_SAMPLE;
        let sampled = self.counts_before.get(sample * self.categories + category).copied().unwrap_or(0);
        let scanned = self.entries[sample * PRICE_SAMPLE..position]
            .iter()
            .filter(|&&entry| category_index(entry) == category)
            .count();
        u64::from(sampled) + scanned as u64
    }
}

/// Bits of a price-index entry that hold the category index (the price takes the rest).
const ENTRY_CATEGORY_BITS: u32 = 16;

/// The category index an entry of the price index holds.
#[inline]
fn category_index(entry: u64) -> usize {
    (entry & ((1 << ENTRY_CATEGORY_BITS) - 1)) as usize
}

/// The price in cents an entry of the price index holds.
#[inline]
fn entry_price(entry: u64) -> u64 {
    entry >> ENTRY_CATEGORY_BITS
}

impl FilterAids {
    /// The aids of `order`, one full browse order of the catalog `facts` describe: groups
    /// its positions by category.
    pub fn build(facts: Arc<CatalogFacts>, order: &[Hit]) -> Self {
        let mut positions: HashMap<u64, Vec<u32>> = HashMap::new();
        let mut prices: HashMap<u64, (u64, u64)> = HashMap::new();
        for (position, hit) in order.iter().enumerate() {
            let Some((category_id, price)) = facts.facts(hit.product_id) else {
                continue;
            };
            positions.entry(category_id).or_default().push(u32::try_from(position).unwrap_or(u32::MAX));
            let range = prices.entry(category_id).or_insert((price, price));
            *range = (range.0.min(price), range.1.max(price));
        }
        Self { facts, positions, prices }
    }

    /// Category and price of a product with a document.
    #[inline]
    fn facts(&self, product_id: u64) -> Option<(u64, u64)> {
        self.facts.facts(product_id)
    }

    /// Count and facets of the products priced in `range`, of `category_id` only if given,
    /// from the price index.
    fn price_range_totals(&self, range: &RangeInclusive<u64>, category_id: Option<u64>) -> Matches {
        let index = &self.facts.by_price;
        let positions = index.positions(range);
        let price_of = |&entry: &u64| entry_price(entry);
        let mut categories = BTreeMap::new();
        for (category, &id) in self.facts.category_ids.iter().enumerate() {
            if category_id.is_some_and(|wanted| wanted != id) {
                continue;
            }
            let count = index.count_before(positions.end, category) - index.count_before(positions.start, category);
            if count > 0 {
                categories.insert(id, count);
            }
        }
        let count = categories.values().sum();
        let in_range = &index.entries[positions];
        let price_cents = match category_id {
            None => in_range.first().map(price_of).zip(in_range.last().map(price_of)),
            // A category's cheapest and dearest in the range: the first and last entries of
            // it, found by scanning in from each end (a category is rarely far from either).
            Some(wanted) => {
                let wanted = self.facts.category_ids.iter().position(|&id| id == wanted);
                let is_wanted = |entry: &&u64| Some(category_index(**entry)) == wanted;
                in_range.iter().find(is_wanted).map(price_of).zip(in_range.iter().rev().find(is_wanted).map(price_of))
            }
        };
        Matches { count, categories, price_cents, top: Vec::new() }
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
        if !self.facts.complete {
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
            (StockCondition::Unfiltered, Some(_)) => self.price_range_totals(&filter.price_cents, filter.category_id),
            (StockCondition::Unfiltered, None) if price_filtered => {
                let totals = self.price_range_totals(&filter.price_cents, None);
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Packed facts as [`CatalogFacts::build`] writes them; category index 3 stands for a
    /// product without a document.
    fn packed(facts: &[(u64, u64)]) -> Vec<u64> {
        facts
            .iter()
            .map(|&(category, price)| {
                let index = if category == 3 { NO_DOCUMENT } else { category };
                pack_fact(index, price).expect("small test values pack")
            })
            .collect()
    }

    #[test]
    fn a_range_reaching_the_last_product_counts_it_when_the_products_fill_whole_samples() {
        for len in [0, PRICE_SAMPLE, 2 * PRICE_SAMPLE] {
            let facts: Vec<(u64, u64)> = (0..len as u64).map(|i| (i % 3, i)).collect();
            let index = PriceIndex::build(&packed(&facts), 3);
            let positions = index.positions(&(0..=u64::MAX >> ENTRY_CATEGORY_BITS));
            let counted: u64 = (0..3).map(|category| index.count_before(positions.end, category)).sum();
            assert_eq!(counted, len as u64, "{len} products");
        }
    }

    proptest! {
        /// Several samples' worth of products, so counts cross sample boundaries.
        #[test]
        fn the_price_index_counts_each_category_in_a_range_as_a_scan_does(
            facts in proptest::collection::vec((0_u64..4, 0_u64..500), 0..5 * PRICE_SAMPLE),
            low in 0_u64..520,
            width in 0_u64..520,
        ) {
            let index = PriceIndex::build(&packed(&facts), 3);
            let range = low..=low + width;
            let positions = index.positions(&range);
            for category in 0..3_usize {
                let expected =
                    facts.iter().filter(|&&(c, price)| c == category as u64 && range.contains(&price)).count();
                let counted = index.count_before(positions.end, category) - index.count_before(positions.start, category);
                prop_assert_eq!(counted, expected as u64, "category {}", category);
            }
            let prices: Vec<u64> = index.entries[positions].iter().map(|&entry| entry_price(entry)).collect();
            let mut expected: Vec<u64> =
                facts.iter().filter(|&&(c, price)| c != 3 && range.contains(&price)).map(|&(_, price)| price).collect();
            expected.sort_unstable();
            prop_assert_eq!(prices, expected);
        }
    }
}
