//! The one collector every search runs: filters each match on fast fields and the live stock
//! view, counts it, adds it to the facets and keeps the best `top_n` for the page.
//!
//! Filtering here rather than in the query is what makes `count` and facets exact with
//! stock: a product that a committed order just emptied is dropped while counting, not after.

use std::collections::{BTreeMap, BinaryHeap};
use std::ops::Range;
use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::ColumnValues;
use tantivy::fastfield::AliveBitSet;
use tantivy::query::Weight;
use tantivy::{COLLECT_BLOCK_BUFFER_LEN, DocId, Score, SegmentOrdinal, SegmentReader};

use super::carried_docs::DocBits;
use super::columns::{FastColumns, unpack_fact};
pub use super::filter::{MatchFilter, StockCondition, StockFirst};
use super::request::SortOrder;

/// Category ids below this are counted in an array; the few catalogs with larger ids fall
/// back to a map.
const DENSE_CATEGORY_IDS: usize = 4096;

/// Sort position of a hit: smaller is better. The stock group first (`stock_first`), then the
/// sort's own key, then the product id, so ties always break by id and pages never overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct RankKey(u64, u64, u64);

/// One document that made the page (or could still make it).
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The product's id (the index's `id` fast field).
    pub product_id: u64,
    /// The packed rank (see `rank`); only meaningful for a scored search.
    pub score: Score,
    /// The store's quantity when filtering by store, read in the same step as the filter.
    pub quantity: Option<u32>,
    rank: RankKey,
}

impl Eq for Hit {}
impl PartialOrd for Hit {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Hit {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank.cmp(&other.rank)
    }
}

/// What a search found: the exact count and facets of all matches, and the best `top_n`.
#[derive(Debug, Clone, Default)]
pub struct Matches {
    /// Documents matching the query and every filter.
    pub count: u64,
    /// Matches per category id.
    pub categories: BTreeMap<u64, u64>,
    /// Lowest and highest price among the matches.
    pub price_cents: Option<(u64, u64)>,
    /// Best first.
    pub top: Vec<Hit>,
}

/// Tantivy's collector for one search: counts and facets every match, keeps the best `top_n`.
pub struct SearchCollector {
    /// What a match must satisfy besides the query.
    pub filter: MatchFilter,
    /// The page's order.
    pub sort: SortOrder,
    /// Whether in-stock products go first, and in which store.
    pub stock_first: StockFirst,
    /// Whether BM25 scores are needed (relevance sort with words to score).
    pub scored: bool,
    /// Hits to keep: the requested page's end.
    pub top_n: usize,
    /// The fast-field columns, decoded per segment.
    pub columns: Arc<FastColumns>,
}

impl Collector for SearchCollector {
    type Fruit = Matches;
    type Child = SegmentSearch;

    fn for_segment(&self, _ordinal: SegmentOrdinal, segment: &SegmentReader) -> tantivy::Result<SegmentSearch> {
        let columns = self.columns.segment(segment)?;
        let created_at = match self.sort {
            SortOrder::Newest => Some(columns.created_at),
            _ => None,
        };
        let dense_category_slots =
            usize::try_from(columns.categories.max_value()).map_or(0, |max| max.saturating_add(1));
        let dense_category_slots = dense_category_slots.min(DENSE_CATEGORY_IDS);
        let carried_docs = match &self.filter.stock {
            StockCondition::Store { column: Some(column), carried: Some(carried), .. } => {
                Some(columns.carried_docs.of(carried, column, columns.ids.as_ref(), segment.max_doc()))
            }
            _ => None,
        };
        Ok(SegmentSearch {
            carried_docs,
            carried_block: CarriedBlock::default(),
            ids: columns.ids,
            categories: columns.categories,
            prices: columns.prices,
            created_at,
            facts: columns.facts,
            filter: self.filter.clone(),
            sort: self.sort,
            stock_first: self.stock_first.clone(),
            top_n: self.top_n,
            matches: Matches::default(),
            dense_categories: vec![0; dense_category_slots],
            min_price_cents: u64::MAX,
            max_price_cents: 0,
            block: BlockBuffers::default(),
            heap: BinaryHeap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scored
    }

    /// Like tantivy's default, except that a segment with deletions still gets its unscored
    /// matches in blocks (the default falls back to one call per document there).
    fn collect_segment(&self, weight: &dyn Weight, ordinal: u32, reader: &SegmentReader) -> tantivy::Result<Matches> {
        let mut segment = self.for_segment(ordinal, reader)?;
        let alive = reader.alive_bitset();
        if self.scored {
            weight.for_each(reader, &mut |doc, score| {
                if alive.is_none_or(|alive| alive.is_alive(doc)) {
                    segment.collect(doc, score);
                }
            })?;
        } else {
            let mut alive_docs = Vec::with_capacity(COLLECT_BLOCK_BUFFER_LEN);
            weight.for_each_no_score(reader, &mut |docs| match alive {
                None => segment.collect_block(docs),
                Some(alive) => {
                    alive_docs.clear();
                    alive_docs.extend(docs.iter().copied().filter(|doc| alive.is_alive(*doc)));
                    segment.collect_block(&alive_docs);
                }
            })?;
        }
        Ok(segment.harvest())
    }

    fn merge_fruits(&self, mut segments: Vec<Matches>) -> tantivy::Result<Matches> {
        // One segment (a merged index) is already the answer: its hits are sorted and at most
        // `top_n`. Copying a full browse order's 1M hits into a new vector was a third of
        // computing it (its pages faulted in one by one).
        if segments.len() == 1
            && let Some(only) = segments.pop()
        {
            return Ok(only);
        }
        let mut merged = Matches::default();
        for segment in segments {
            merged.count += segment.count;
            for (category, count) in segment.categories {
                *merged.categories.entry(category).or_default() += count;
            }
            merged.price_cents = widen(merged.price_cents, segment.price_cents);
            merged.top.extend(segment.top);
        }
        merged.top.sort_unstable();
        merged.top.truncate(self.top_n);
        Ok(merged)
    }
}

/// The per-segment half: the segment's fast-field columns and what it has found so far.
pub struct SegmentSearch {
    ids: Arc<dyn ColumnValues<u64>>,
    categories: Arc<dyn ColumnValues<u64>>,
    prices: Arc<dyn ColumnValues<u64>>,
    created_at: Option<Arc<dyn ColumnValues<i64>>>,
    /// Category and price packed per document, when the segment has them decoded.
    facts: Option<Arc<[u64]>>,
    filter: MatchFilter,
    sort: SortOrder,
    stock_first: StockFirst,
    top_n: usize,
    matches: Matches,
    /// Matches per category id for ids below [`DENSE_CATEGORY_IDS`], folded into
    /// `matches.categories` at harvest: a map update per document costs more than the rest.
    dense_categories: Vec<u64>,
    /// Price range of the matches so far (meaningful once `matches.count > 0`).
    min_price_cents: u64,
    max_price_cents: u64,
    block: BlockBuffers,
    /// The best hits so far, worst on top so it is the one replaced.
    heap: BinaryHeap<Hit>,
    /// With a store filter: the documents the store carries (see `carried_docs`), tested
    /// before a match's id and quantity are read.
    carried_docs: Option<Arc<DocBits>>,
    carried_block: CarriedBlock,
}

/// A block's matches that the store carries, with their ranks (reused between blocks).
#[derive(Default)]
struct CarriedBlock {
    docs: Vec<DocId>,
    scores: Vec<Score>,
}

/// The fast-field values of one document that every match needs.
#[derive(Clone, Copy)]
struct FastValues {
    product_id: u64,
    category_id: u64,
    price_cents: u64,
    /// Only read when sorting by newest (0 otherwise).
    created_at: i64,
}

/// Reusable column buffers for [`SegmentCollector::collect_block`].
#[derive(Default)]
struct BlockBuffers {
    ids: Vec<u64>,
    categories: Vec<u64>,
    prices: Vec<u64>,
    /// Filled only when sorting by newest.
    created_at: Vec<i64>,
}

impl BlockBuffers {
    fn resize(&mut self, len: usize, with_created_at: bool) {
        for buffer in [&mut self.ids, &mut self.categories, &mut self.prices] {
            buffer.resize(len, 0);
        }
        self.created_at.resize(if with_created_at { len } else { 0 }, 0);
    }

    #[inline(always)]
    fn fields(&self, i: usize) -> FastValues {
        FastValues {
            product_id: self.ids[i],
            category_id: self.categories[i],
            price_cents: self.prices[i],
            created_at: self.created_at.get(i).copied().unwrap_or(0),
        }
    }
}

impl SegmentSearch {
    /// Filters one document and, if it passes, counts it, adds it to the facets and offers
    /// it to the page.
    // Inlined into the scan loops: a call per document was a measurable share of a full scan.
    #[inline(always)]
    fn consider(&mut self, fields: FastValues, score: Score) {
        let FastValues { product_id, category_id, price_cents, created_at } = fields;
        if !self.admits_facts(category_id, price_cents) {
            return;
        }
        let Some(quantity) = self.filter.stock.admits(product_id) else {
            return;
        };
        self.count(category_id, price_cents);
        let rank = self.rank(product_id, price_cents, created_at, score);
        self.keep(Hit { product_id, score, quantity, rank });
    }

    /// Whether a document passes the category and price filters.
    #[inline(always)]
    fn admits_facts(&self, category_id: u64, price_cents: u64) -> bool {
        self.filter.category_id.is_none_or(|wanted| wanted == category_id)
            && self.filter.price_cents.contains(&price_cents)
    }

    /// Counts a match and adds it to the facets.
    #[inline(always)]
    fn count(&mut self, category_id: u64, price_cents: u64) {
        self.matches.count += 1;
        self.count_category(category_id);
        self.min_price_cents = self.min_price_cents.min(price_cents);
        self.max_price_cents = self.max_price_cents.max(price_cents);
    }

    #[inline(always)]
    fn rank(&self, product_id: u64, price_cents: u64, created_at: i64, score: Score) -> RankKey {
        RankKey(self.stock_first.group(product_id), self.primary(price_cents, created_at, score), product_id)
    }

    /// The rank's sort key before the tie-break by product id.
    #[inline(always)]
    fn primary(&self, price_cents: u64, created_at: i64, score: Score) -> u64 {
        match self.sort {
            SortOrder::Relevance => u64::from(u32::MAX - score.max(0.0).to_bits()),
            SortOrder::PriceAscending => price_cents,
            SortOrder::PriceDescending => u64::MAX - price_cents,
            SortOrder::Newest => {
                // Flipping the sign bit maps i64 order onto u64 order; then newest first.
                u64::MAX - (created_at.cast_unsigned() ^ (1 << 63))
            }
        }
    }

    /// Whether every match needs its product id (a stock filter or `stock_first` reads the
    /// stock view by it); otherwise only the matches that can enter the page do.
    fn needs_every_product_id(&self) -> bool {
        !matches!(self.filter.stock, StockCondition::Unfiltered) || !matches!(self.stock_first, StockFirst::Off)
    }

    /// Considers the matches `docs` (ascending, alive) with their packed ranks (`scores`;
    /// `None`: unscored) when no match needs its product id to be counted: the id is read
    /// only for a match whose rank can enter the page. Reading the id column for every match
    /// was a third of the column reads, themselves a seventh of the server's time under the
    /// search mix at 1M (perf, docs/performance.md); once the page is full most matches of a
    /// broad word rank below it.
    fn collect_without_every_id(&mut self, docs: &[DocId], scores: Option<&[Score]>) {
        self.block.resize(docs.len(), self.created_at.is_some());
        self.read_facts(docs);
        for (i, &doc) in docs.iter().enumerate() {
            let (category_id, price_cents) = (self.block.categories[i], self.block.prices[i]);
            if !self.admits_facts(category_id, price_cents) {
                continue;
            }
            self.count(category_id, price_cents);
            let score = scores.and_then(|scores| scores.get(i)).copied().unwrap_or(0.0);
            let created_at = self.block.created_at.get(i).copied().unwrap_or(0);
            let primary = self.primary(price_cents, created_at, score);
            // Every group is 0 here (no `stock_first`), so a full page's worst hit is beaten
            // only by a lower primary key, or an equal one with a lower id.
            if self.heap.len() >= self.top_n && self.heap.peek().is_none_or(|worst| primary > worst.rank.1) {
                continue;
            }
            let product_id = self.ids.get_val(doc);
            self.keep(Hit { product_id, score, quantity: None, rank: RankKey(0, primary, product_id) });
        }
    }

    #[inline(always)]
    fn count_category(&mut self, category_id: u64) {
        match usize::try_from(category_id).ok().and_then(|index| self.dense_categories.get_mut(index)) {
            Some(count) => *count += 1,
            None => *self.matches.categories.entry(category_id).or_default() += 1,
        }
    }

    /// Considers the documents `docs` (skipping deleted ones), reading each column over the
    /// whole range at once: sequential unpacking is several times cheaper than per document.
    pub(super) fn collect_range(&mut self, docs: Range<DocId>, alive: Option<&AliveBitSet>) {
        self.block.resize(docs.len(), self.created_at.is_some());
        let start = u64::from(docs.start);
        self.ids.get_range(start, &mut self.block.ids);
        self.categories.get_range(start, &mut self.block.categories);
        self.prices.get_range(start, &mut self.block.prices);
        if let Some(created_at) = &self.created_at {
            created_at.get_range(start, &mut self.block.created_at);
        }
        for (i, doc) in docs.enumerate() {
            if !alive.is_some_and(|alive| alive.is_deleted(doc)) {
                self.consider(self.block.fields(i), 0.0);
            }
        }
    }

    /// Whether a match has passed the filters so far.
    pub(super) fn has_matches(&self) -> bool {
        self.matches.count > 0
    }

    /// Considers scored matches `docs` (ascending, alive) with their packed ranks `scores`,
    /// reading each column once for the whole block.
    pub(super) fn collect_scored_block(&mut self, docs: &[DocId], scores: &[Score]) {
        if !self.needs_every_product_id() {
            return self.collect_without_every_id(docs, Some(scores));
        }
        self.consider_block(docs, Some(scores));
    }

    /// Filters, counts and offers every one of `docs` with its rank (`None`: unscored),
    /// reading each column once. With a store's bitset, only the documents the store carries
    /// go on to have their ids and quantities read.
    fn consider_block(&mut self, docs: &[DocId], scores: Option<&[Score]>) {
        if let Some(carried_docs) = self.carried_docs.take() {
            let mut carried = std::mem::take(&mut self.carried_block);
            carried.docs.clear();
            carried.scores.clear();
            for (i, &doc) in docs.iter().enumerate().filter(|(_, doc)| carried_docs.has(**doc)) {
                carried.docs.push(doc);
                carried.scores.extend(scores.and_then(|scores| scores.get(i)));
            }
            self.consider_all(&carried.docs, scores.map(|_| carried.scores.as_slice()));
            (self.carried_docs, self.carried_block) = (Some(carried_docs), carried);
        } else {
            self.consider_all(docs, scores);
        }
    }

    fn consider_all(&mut self, docs: &[DocId], scores: Option<&[Score]>) {
        self.read_block(docs);
        for i in 0..docs.len() {
            let score = scores.and_then(|scores| scores.get(i)).copied().unwrap_or(0.0);
            self.consider(self.block.fields(i), score);
        }
    }

    /// Reads the fast fields of `docs` into the block buffers.
    fn read_block(&mut self, docs: &[DocId]) {
        self.block.resize(docs.len(), self.created_at.is_some());
        self.ids.get_vals(docs, &mut self.block.ids);
        self.read_facts(docs);
    }

    /// Reads category, price (and creation time when sorting by it) of `docs` into the block
    /// buffers, already sized. Category and price come from the packed facts where the
    /// segment has them: one word per match, where the two columns cost two cache misses.
    fn read_facts(&mut self, docs: &[DocId]) {
        match self.facts.as_deref() {
            Some(facts) => {
                for (i, &doc) in docs.iter().enumerate() {
                    let fact = facts.get(doc as usize).copied().unwrap_or_default();
                    (self.block.categories[i], self.block.prices[i]) = unpack_fact(fact);
                }
            }
            None => {
                self.categories.get_vals(docs, &mut self.block.categories);
                self.prices.get_vals(docs, &mut self.block.prices);
            }
        }
        if let Some(created_at) = &self.created_at {
            created_at.get_vals(docs, &mut self.block.created_at);
        }
    }

    #[inline(always)]
    fn keep(&mut self, hit: Hit) {
        if self.heap.len() < self.top_n {
            self.heap.push(hit);
        } else if self.heap.peek().is_some_and(|worst| hit.rank < worst.rank) {
            self.heap.pop();
            self.heap.push(hit);
        }
    }
}

impl SegmentCollector for SegmentSearch {
    type Fruit = Matches;

    fn collect(&mut self, doc: DocId, score: Score) {
        let fields = FastValues {
            product_id: self.ids.get_val(doc),
            category_id: self.categories.get_val(doc),
            price_cents: self.prices.get_val(doc),
            created_at: self.created_at.as_ref().map_or(0, |column| column.get_val(doc)),
        };
        self.consider(fields, score);
    }

    /// Unscored matches arrive in blocks (up to 64 docs): one batched read per column instead
    /// of a dynamic call per document and column, which is most of the cost of a match.
    fn collect_block(&mut self, docs: &[DocId]) {
        if !self.needs_every_product_id() {
            return self.collect_without_every_id(docs, None);
        }
        self.consider_block(docs, None);
    }

    fn harvest(mut self) -> Matches {
        if self.matches.count > 0 {
            self.matches.price_cents = Some((self.min_price_cents, self.max_price_cents));
        }
        for (category_id, count) in self.dense_categories.iter().enumerate().filter(|(_, count)| **count > 0) {
            *self.matches.categories.entry(category_id as u64).or_default() += count;
        }
        // Not `into_sorted_vec`: that is a heapsort, which at a full browse order (every
        // document kept, 1M hits) was a sixth of the server's time under the search mix
        // (perf, docs/performance.md); pattern-defeating quicksort is many times faster there
        // and the same for a page. Ranks end with the product id, so the order is total.
        let mut top = self.heap.into_vec();
        top.sort_unstable();
        self.matches.top = top;
        self.matches
    }
}

fn widen(a: Option<(u64, u64)>, b: Option<(u64, u64)>) -> Option<(u64, u64)> {
    match (a, b) {
        (Some((low_a, high_a)), Some((low_b, high_b))) => Some((low_a.min(low_b), high_a.max(high_b))),
        (one, None) | (None, one) => one,
    }
}

#[cfg(test)]
mod tests {
    use tantivy::columnar::column_values::VecColumn;

    use super::*;
    use crate::search::columns::pack_fact;

    /// A segment whose documents are not in id order (as after a merge puts a re-indexed
    /// product's document last), all in category 1 at the price of `prices`; with `packed`,
    /// category and price are also in packed facts (as a decoded segment has them).
    fn segment(ids: Vec<u64>, prices: Vec<u64>, sort: SortOrder, top_n: usize, packed: bool) -> SegmentSearch {
        let categories = vec![1; ids.len()];
        let facts: Option<Arc<[u64]>> =
            packed.then(|| prices.iter().map(|&price| pack_fact(1, price)).collect()).flatten();
        SegmentSearch {
            ids: Arc::new(VecColumn::from(ids)),
            categories: Arc::new(VecColumn::from(categories)),
            prices: Arc::new(VecColumn::from(prices)),
            created_at: None,
            facts,
            filter: MatchFilter { category_id: None, price_cents: 0..=u64::MAX, stock: StockCondition::Unfiltered },
            sort,
            stock_first: StockFirst::Off,
            top_n,
            matches: Matches::default(),
            dense_categories: vec![0; 2],
            min_price_cents: u64::MAX,
            max_price_cents: 0,
            block: BlockBuffers::default(),
            heap: BinaryHeap::new(),
            carried_docs: None,
            carried_block: CarriedBlock::default(),
        }
    }

    fn page(segment: SegmentSearch) -> Vec<u64> {
        segment.harvest().top.iter().map(|hit| hit.product_id).collect()
    }

    #[test]
    fn equal_ranks_on_a_full_page_are_still_ordered_by_id_whatever_the_document_order() {
        for packed in [false, true] {
            // Every document has the same score: the page is the lowest ids, though the
            // lowest arrives after the page is full.
            let mut tied = segment(vec![5, 6, 7, 2], vec![100; 4], SortOrder::Relevance, 2, packed);
            tied.collect_scored_block(&[0, 1, 2, 3], &[1.5; 4]);
            assert_eq!(page(tied), vec![2, 5], "packed: {packed}");

            let mut by_price =
                segment(vec![5, 6, 7, 2], vec![300, 100, 100, 100], SortOrder::PriceAscending, 2, packed);
            by_price.collect_block(&[0, 1, 2, 3]);
            assert_eq!(page(by_price), vec![2, 6], "packed: {packed}");
        }
    }

    #[test]
    fn matches_ranked_below_a_full_page_are_still_counted_and_faceted() {
        for packed in [false, true] {
            let mut search = segment(vec![1, 2, 3, 4], vec![400, 300, 200, 100], SortOrder::PriceDescending, 1, packed);
            search.collect_block(&[0, 1, 2, 3]);
            let matches = search.harvest();
            assert_eq!((matches.count, matches.price_cents), (4, Some((100, 400))), "packed: {packed}");
            assert_eq!(matches.categories.get(&1), Some(&4));
            assert_eq!(matches.top.iter().map(|hit| hit.product_id).collect::<Vec<_>>(), vec![1]);
        }
    }
}
