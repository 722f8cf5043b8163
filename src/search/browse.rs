//! The unfiltered browse (no words, no category, no price range, no stock filter): every
//! product matches, so its count, facets and order depend on the catalog alone. They are
//! computed once per catalog generation and sort by the ordinary collector over all
//! documents, in a background thread, then each page is a slice of that order: O(page)
//! instead of visiting every document per request (`cargo bench --bench search`, case
//! `no_words_by_price`: 7.2 ms → 81–103 µs at 1M products).
//!
//! Computing a full order takes a quarter of a second at 1M products (the listings bench,
//! 2026-11-30; about a second before its hits were sorted by pdqsort and its aids read from
//! the decoded columns), so no request waits for it:
//! until the order of the current generation is ready, browses take the ordinary path.
//! Memory: one `Hit` (40 bytes) per product per sort asked for, e.g. 40 MB for price order
//! at 1M products.
//!
//! [`titles`] is the same idea for the store inventory listing: one title order per catalog
//! generation, walked through a store's stock column; the admin lists' title search finds,
//! filters and sorts its matches in the same order ([`titles::search`]).

pub mod filtered;
pub mod titles;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tantivy::query::AllQuery;

use rusqlite::Connection;

use self::filtered::{CatalogFacts, FilterAids};
use self::titles::{SharedTitleOrder, TitleOrder};
use super::SearchIndex;
use super::collector::Matches;
use super::request::{SearchRequest, SortOrder};
use crate::db::store::catalog::{CatalogWatermark, catalog_watermark};
use crate::db::store::listings::{InventoryFilter, InventoryRow, PageOf, RowStock};
use crate::domain::admin_list::{InventoryList, ProductList};
use crate::domain::{CategoryId, PageRequest, ProductId, StoreId};
use crate::error::Result;
use crate::locking::lock;

/// What a view read from the catalog at `watermark` is stamped with.
fn catalog_stamp(watermark: &CatalogWatermark) -> String {
    format!("lineage {} catalog {}", watermark.lineage, watermark.version)
}

/// An admin title search matching up to this many products is filtered and sorted in memory
/// (a few milliseconds at 1M products); one matching more (over 10% of 1M) finds a page soon by
/// walking the sort's index in SQL.
pub(super) const TITLE_MATCHES_IN_MEMORY: usize = 100_000;

/// One full browse order: every product in one sort, its totals, and what filtered browses
/// need beside it.
struct FullOrder {
    /// The catalog generation it was computed at (or after).
    generation: u64,
    matches: Matches,
    aids: FilterAids,
}

/// Full browse orders, per sort, each with the catalog generation it was computed at.
#[derive(Default)]
pub struct BrowseOrders {
    ready: Mutex<HashMap<SortOrder, Arc<FullOrder>>>,
    /// The facts every order of one catalog generation shares (the latest read).
    facts: Mutex<Option<Arc<CatalogFacts>>>,
    /// Sorts being computed right now: at most one thread per sort.
    computing: Mutex<HashSet<SortOrder>>,
    /// The inventory listing's title order, with the generation it was read at.
    titles: Mutex<SharedTitleOrder>,
    /// Whether a thread is computing the title order right now.
    computing_titles: Mutex<bool>,
}

impl SearchRequest {
    /// Whether every product matches: no words and no filter of any kind.
    pub fn is_unfiltered_browse(&self) -> bool {
        // Destructured without `..`: a field added to the request stops this compiling until it
        // is named a filter here or not (the precomputed order would otherwise ignore it).
        let Self { q, category, price, store_id, in_stock, stock_first, sort: _, highlight: _, explain: _, page: _ } =
            self;
        q.is_none()
            && category.is_none()
            && price.min.is_none()
            && price.max.is_none()
            && store_id.is_none()
            && in_stock.is_none()
            && !stock_first
    }
}

impl SearchIndex {
    /// The matches of a browse without words, cut to the best `top_n`, from the precomputed
    /// order of its sort when that order is current and the filter has a cheap way through it
    /// (see [`filtered`]); otherwise `None`, after starting the order's computation.
    pub(super) fn precomputed_browse(
        &self,
        request: &SearchRequest,
        category_id: Option<CategoryId>,
        top_n: usize,
    ) -> Option<Matches> {
        if request.stock_first {
            return None; // the precomputed orders do not group in-stock products first
        }
        let generation = self.catalog_generation();
        let ready = lock(&self.inner.browse.ready).get(&request.sort).cloned();
        let Some(full) = ready.filter(|full| full.generation == generation) else {
            self.start_computing_browse(request.sort);
            return None;
        };
        if request.is_unfiltered_browse() {
            let matches = &full.matches;
            return Some(Matches {
                count: matches.count,
                categories: matches.categories.clone(),
                price_cents: matches.price_cents,
                top: matches.top.iter().take(top_n).cloned().collect(),
            });
        }
        full.aids.matches(&full.matches, request.sort, &self.match_filter(request, category_id), top_n)
    }

    fn start_computing_browse(&self, sort: SortOrder) {
        if !lock(&self.inner.browse.computing).insert(sort) {
            return; // already on its way
        }
        let index = self.clone();
        let spawned = std::thread::Builder::new().name("aforro-browse".to_owned()).spawn(move || {
            if let Err(error) = index.compute_browse(sort) {
                tracing::error!(%error, "cannot precompute the browse order");
            }
            crate::memory::release_freed_memory("browse order");
            lock(&index.inner.browse.computing).remove(&sort);
        });
        if let Err(error) = spawned {
            tracing::error!(%error, "cannot start the browse precomputation");
            lock(&self.inner.browse.computing).remove(&sort);
        }
    }

    /// [`SearchIndex::compute_browse`].
    pub(super) fn publish_browse_order(&self, sort: SortOrder) -> Result<()> {
        // Read before collecting: an order may be newer than its generation, never older.
        let generation = self.catalog_generation();
        let request = SearchRequest { sort, ..SearchRequest::default() };
        let every_document = usize::try_from(self.num_docs()).unwrap_or(usize::MAX);
        let matches = self.collect_top(&AllQuery, &request, None, every_document)?;
        let aids = FilterAids::build(self.catalog_facts(generation)?, &matches.top);
        lock(&self.inner.browse.ready).insert(sort, Arc::new(FullOrder { generation, matches, aids }));
        Ok(())
    }

    /// The catalog facts of `generation`: those another sort's computation read, when they
    /// are of the same generation, else read now (and kept for the next sort).
    fn catalog_facts(&self, generation: u64) -> Result<Arc<CatalogFacts>> {
        if let Some(facts) = lock(&self.inner.browse.facts).as_ref().filter(|facts| facts.generation == generation) {
            return Ok(Arc::clone(facts));
        }
        let facts =
            Arc::new(CatalogFacts::build(generation, &self.inner.reader.searcher(), &self.inner.columns.load())?);
        *lock(&self.inner.browse.facts) = Some(Arc::clone(&facts));
        Ok(facts)
    }
}

impl SearchIndex {
    /// The precomputed orders being computed right now (for `readyz`'s `building`): until
    /// they land, browses and listings take their ordinary paths, with the same answers.
    pub fn building(&self) -> Vec<&'static str> {
        let mut building = Vec::new();
        if !lock(&self.inner.browse.computing).is_empty() {
            building.push("browse orders");
        }
        if *lock(&self.inner.browse.computing_titles) {
            building.push("title order");
        }
        building
    }

    /// [`SearchIndex::inventory_page`].
    pub(super) fn titles_inventory_page(
        &self,
        conn: &Connection,
        store_id: StoreId,
        filter: &InventoryFilter,
        page: PageRequest,
    ) -> Result<Option<PageOf<InventoryRow>>> {
        match self.current_title_order() {
            Some(order) => titles::inventory_page(conn, &order, self.stock(), store_id, filter, page).map(Some),
            None => Ok(None),
        }
    }

    /// The title order of the current catalog generation, when it is ready; otherwise
    /// `None`, after starting its computation.
    fn current_title_order(&self) -> Option<Arc<TitleOrder>> {
        let generation = self.catalog_generation();
        let order = lock(&self.inner.browse.titles).clone();
        match order {
            Some(order) if order.generation == generation => Some(order),
            _ => {
                self.start_computing_titles();
                None
            }
        }
    }

    /// [`SearchIndex::admin_product_search`].
    pub(super) fn titles_product_search(&self, list: &ProductList, limit: usize) -> Option<Vec<ProductId>> {
        self.current_title_order()?.product_search_page(list, limit)
    }

    /// [`SearchIndex::admin_inventory_search`].
    pub(super) fn titles_inventory_search(
        &self,
        store_id: StoreId,
        list: &InventoryList,
        limit: usize,
    ) -> Option<PageOf<(ProductId, RowStock)>> {
        let tables = self.stock().tables();
        self.current_title_order()?.inventory_search_page(&tables, store_id, list, limit)
    }

    fn start_computing_titles(&self) {
        {
            let mut computing = lock(&self.inner.browse.computing_titles);
            if *computing {
                return; // already on its way
            }
            *computing = true;
        }
        let index = self.clone();
        let spawned = std::thread::Builder::new().name("aforro-titles".to_owned()).spawn(move || {
            if let Err(error) = index.compute_title_order() {
                tracing::error!(%error, "cannot compute the inventory title order");
            }
            crate::memory::release_freed_memory("title order");
            *lock(&index.inner.browse.computing_titles) = false;
        });
        if let Err(error) = spawned {
            tracing::error!(%error, "cannot start the inventory title order computation");
            *lock(&self.inner.browse.computing_titles) = false;
        }
    }

    /// [`SearchIndex::compute_title_order`].
    pub(super) fn publish_title_order(&self) -> Result<()> {
        // Read before loading: an order may be newer than its generation, never older.
        let generation = self.catalog_generation();
        let (watermark, order) = self.inner.reads.run_blocking(|conn| {
            // One snapshot, so the stamp is exactly the catalog read.
            let snapshot = conn.unchecked_transaction()?;
            Ok((catalog_watermark(&snapshot)?, TitleOrder::load(&snapshot, generation)?))
        })?;
        let order = Arc::new(order);
        *lock(&self.inner.browse.titles) = Some(Arc::clone(&order));
        let file = self.inner.views_dir.join(titles::saved::FILE_NAME);
        match order.save(&file, &catalog_stamp(&watermark)) {
            Ok(bytes) => tracing::info!(bytes, "title order saved"),
            // The next start reads the titles from SQLite again; nothing else needs the file.
            Err(error) => tracing::warn!(%error, file = %file.display(), "cannot save the title order"),
        }
        Ok(())
    }

    /// Publishes the title order saved beside the index when it was read from the catalog
    /// as it is now (at start, before anything can commit: the order of generation 0).
    pub(super) fn open_saved_title_order(&self, watermark: &CatalogWatermark) {
        let file = self.inner.views_dir.join(titles::saved::FILE_NAME);
        match TitleOrder::open_saved(&file, &catalog_stamp(watermark), self.catalog_generation()) {
            Ok(order) => {
                tracing::info!(file = %file.display(), "title order: mapped the saved order");
                *lock(&self.inner.browse.titles) = Some(Arc::new(order));
            }
            // Computed on the first listing that wants it, as before.
            Err(reason) => tracing::info!(%reason, "title order: not saved for this catalog"),
        }
    }
}
