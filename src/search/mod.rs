//! Product search: a tantivy index derived from SQLite, plus the in-memory stock view.
//!
//! - [`schema`]: fields, analyser, and the stamp (format, migration, catalog watermark) each
//!   commit carries in its payload;
//! - [`build`]: the full build from SQLite and the "is the index on disk current?" check;
//! - [`sync`]: the writer's observer, applying each commit's catalog and stock changes
//!   before the client hears back;
//! - [`stock`]: per-store quantities in memory (stock is never in tantivy);
//! - [`query`], [`expand`], [`walk`], [`rank`], [`filter`], [`collector`], [`execute`],
//!   [`rows`], [`highlight`], [`explain`]: one search, from words (and what each may match) to
//!   ranked, highlighted, explained result rows;
//! - [`columns`]: the fast-field columns, decoded once per segment, with what searches learn
//!   about each segment: [`same_lists`] (stem lists that repeat an exact list) and
//!   [`carried_docs`] (per store, the documents it carries);
//! - [`scan`]: fast paths for browsing without words (a store's stock, everything);
//! - [`cache`]: whole results of repeated requests, keyed by the views' generations;
//! - [`expansions`] and [`word_matches`]: a word's expansion and a word search's matches,
//!   kept for the searcher they were computed on;
//! - [`queue`]: searches the cache cannot answer run on search threads (one per core and a
//!   spare), in arrival order.
//!
//! `docs/search.md` explains the consistency design.

pub mod browse;
pub mod build;
pub mod cache;
pub mod carried_docs;
pub mod collector;
pub mod columns;
pub mod curated;
pub mod curation;
pub mod execute;
pub mod expand;
pub mod expansions;
pub mod explain;
pub mod filter;
pub mod highlight;
pub mod query;
pub mod queue;
pub mod rank;
pub mod request;
pub mod rows;
pub mod same_lists;
pub mod scan;
pub mod schema;
pub mod stock;
pub mod sync;
pub mod synonyms;
pub mod walk;
pub mod walked_matches;
pub mod word_matches;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use arc_swap::ArcSwap;
use rusqlite::Connection;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy};

use self::browse::TITLE_MATCHES_IN_MEMORY;
use self::schema::{IndexStamp, ProductFields};
use self::stock::StockView;
use self::stock::saved::stock_stamp;
use crate::db::ReadPool;
use crate::db::admin::listing::{self, ProductRow};
use crate::db::store::catalog::catalog_watermark;
use crate::db::store::listings::{self, InventoryFilter, InventoryRow, PageOf, RowStock};
use crate::db::store::view_rows;
use crate::domain::admin_list::{InventoryList, ProductList};
use crate::domain::{CategoryId, PageRequest, ProductId, StoreId};
use crate::error::Result;
use crate::telemetry::start_step;
use crate::view_files;

pub use self::request::{CategoryFilter, PriceRange, SearchRequest, SortOrder};
pub use self::rows::{SearchResults, SearchRow};

/// Folder under the index dir holding the tantivy index.
const SEARCH_SUBDIR: &str = "search";
/// Indexing heap of the live writer: catalog edits arrive a few at a time.
const LIVE_WRITER_HEAP_BYTES: usize = 20 * 1024 * 1024;

/// A cheap clonable handle on the search index and the stock view. Cloning is shallow.
#[derive(Clone)]
pub struct SearchIndex {
    inner: Arc<Inner>,
}

struct Inner {
    fields: ProductFields,
    /// Reloaded only after our own commits (`ReloadPolicy::Manual`), so a search sees a
    /// catalog change exactly when the writer has applied it, not some time later.
    reader: IndexReader,
    /// The only writer of the live index, used from the writer thread's observer.
    writer: Mutex<IndexWriter>,
    /// The index's own analyser, cloned per query (it needs `&mut` to tokenise).
    analyzer: TextAnalyzer,
    stock: StockView,
    /// Where catalog changes are read from after their commit.
    reads: ReadPool,
    /// Product id → document for the current searcher, for [`scan`]; rebuilt after
    /// each reload.
    docs_by_product: ArcSwap<scan::DocsByProduct>,
    /// The fast-field columns of the current searcher's segments, decoded; refreshed after
    /// each reload.
    columns: ArcSwap<columns::FastColumns>,
    /// Bumped after every reload of `reader`: cached results are keyed by it.
    catalog_generation: AtomicU64,
    /// The synonym sets and search rules every search reads, swapped whole on a change.
    curation: ArcSwap<curation::Curation>,
    /// The last curation generation handed out.
    curation_generation: AtomicU64,
    cache: cache::ResultCache,
    /// Recent words' expansions, for the searcher they were computed on.
    expansions: expansions::ExpansionCache,
    /// Recent word queries' matches, for the searcher they were walked on.
    matches: word_matches::MatchCache,
    /// Where searches that miss the cache wait for a core.
    queue: queue::SearchQueue,
    /// Precomputed count, facets and order of the unfiltered browse.
    browse: browse::BrowseOrders,
    /// Category names as the index's documents carry them, to find the products a rename
    /// must reindex.
    category_names: Mutex<BTreeMap<CategoryId, String>>,
    /// False once an index update failed: the index no longer matches the database. Searches
    /// still run; readiness reports it, and the next start rebuilds (the stamp will differ).
    in_sync: AtomicBool,
    /// Where the views saved for the next start live (`<index-dir>/views/`): the stock view
    /// (at a clean stop) and the title order (each time it is computed).
    views_dir: PathBuf,
}

/// The index folder for an `--index-dir`.
pub fn index_path(index_dir: &Path) -> PathBuf {
    index_dir.join(SEARCH_SUBDIR)
}

impl SearchIndex {
    /// Opens the index under `index_dir`, rebuilding it first when it is missing, from another
    /// format or schema, or stamped with another catalog version; loads the stock view.
    /// Must run before the writer starts, so no commit can slip between check and load.
    /// `match_cache_bytes` bounds the matches kept for searches repeating their words
    /// (`--match-cache-mib`; 0 keeps none).
    /// Each step is logged with its duration.
    pub fn open(index_dir: &Path, reads: ReadPool, match_cache_bytes: u64) -> anyhow::Result<Self> {
        Self::open_with_saved_stock(index_dir, reads, match_cache_bytes, None)
    }

    /// [`Self::open`], reading the stock view from `views/stock.view` instead of SQLite when
    /// that file is whole and stamped with the database's newest commit and `previous_holder`,
    /// the data folder lock's token of the process before this one: the `serve` whose clean
    /// stop wrote it (see [`Self::save_stock`]), with no other command in between.
    pub fn open_with_saved_stock(
        index_dir: &Path,
        reads: ReadPool,
        match_cache_bytes: u64,
        previous_holder: Option<&str>,
    ) -> anyhow::Result<Self> {
        let path = index_path(index_dir);
        let index = start_step("search index", || reads.run_blocking(|conn| Ok(open_or_rebuild(conn, &path))))
            .context("cannot read the database to open the index")??;
        let views_dir = view_files::views_dir(index_dir);
        let stock_file = views_dir.join(stock::saved::FILE_NAME);
        let stock = start_step("stock view", || open_stock(&reads, &stock_file, previous_holder))?;
        let category_names = start_step("categories", || reads.run_blocking(view_rows::category_names))
            .context("cannot read the categories")?;
        let watermark = reads.run_blocking(catalog_watermark).context("cannot read the catalog watermark")?;
        let curation = start_step("synonym sets and search rules", || {
            reads.run_blocking(|conn| curation::Curation::load(conn, 1))
        })
        .context("cannot read the synonym sets and search rules")?;
        let opened = Self::from_parts(&index, stock, reads, category_names, match_cache_bytes, views_dir)?;
        start_step("title order", || opened.open_saved_title_order(&watermark));
        opened.inner.curation_generation.store(curation.generation, Ordering::Release);
        opened.inner.curation.store(Arc::new(curation));
        Ok(opened)
    }

    /// Reads every synonym set and search rule again and swaps them in: the very next search
    /// uses them (the admin routes call it after each change they write).
    pub fn reload_curation(&self, conn: &Connection) -> Result<()> {
        let generation = self.inner.curation_generation.fetch_add(1, Ordering::AcqRel) + 1;
        let loaded = Arc::new(curation::Curation::load(conn, generation)?);
        // A slower load of an older generation never replaces a newer one.
        self.inner
            .curation
            .rcu(|current| if current.generation > generation { Arc::clone(current) } else { Arc::clone(&loaded) });
        Ok(())
    }

    /// [`Self::reload_curation`] when the database's sets or rules changed since the last load
    /// (a read replica polls this as it follows the primary's commits).
    pub fn reload_curation_if_changed(&self, conn: &Connection) -> Result<()> {
        let stored = crate::db::admin::curation::curation_generation(conn)?;
        if stored != self.curation().stored_generation {
            self.reload_curation(conn)?;
        }
        Ok(())
    }

    /// The synonym sets and search rules searches use now.
    pub fn curation(&self) -> Arc<curation::Curation> {
        self.inner.curation.load_full()
    }

    fn from_parts(
        index: &Index,
        stock: StockView,
        reads: ReadPool,
        category_names: BTreeMap<CategoryId, String>,
        match_cache_bytes: u64,
        views_dir: PathBuf,
    ) -> anyhow::Result<Self> {
        let fields = ProductFields::from_schema(&index.schema()).context("the index has an unexpected schema")?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let writer =
            index.writer_with_num_threads(1, LIVE_WRITER_HEAP_BYTES).context("cannot lock the index for writing")?;
        let analyzer = schema::text_analyzer();
        start_step("typo automata", expand::prepare_typo_automata);
        let searcher = reader.searcher();
        let docs_by_product = start_step("product documents", || scan::DocsByProduct::build(&searcher))
            .context("cannot map products to documents")?;
        let columns = start_step("fast-field columns", || {
            columns::FastColumns::refresh(&columns::FastColumns::default(), &searcher)
        })
        .context("cannot read the fast-field columns")?;
        let inner = Inner {
            docs_by_product: ArcSwap::from_pointee(docs_by_product),
            columns: ArcSwap::from_pointee(columns),
            fields,
            reader,
            writer: Mutex::new(writer),
            analyzer,
            stock,
            reads,
            catalog_generation: AtomicU64::new(0),
            curation: ArcSwap::from_pointee(curation::Curation::default()),
            curation_generation: AtomicU64::new(0),
            cache: cache::ResultCache::default(),
            expansions: expansions::ExpansionCache::default(),
            matches: word_matches::MatchCache::new(match_cache_bytes),
            queue: queue::SearchQueue::per_core().context("cannot start the search threads")?,
            browse: browse::BrowseOrders::default(),
            category_names: Mutex::new(category_names),
            in_sync: AtomicBool::new(true),
            views_dir,
        };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// The in-memory stock view.
    pub fn stock(&self) -> &StockView {
        &self.inner.stock
    }

    /// Saves the stock view beside the index, stamped with the newest commit, for the next
    /// start to read instead of loading every inventory row (blocking). Call it once nothing
    /// can commit any more: after the writer has stopped.
    /// `holder` is this process's data folder lock token.
    pub fn save_stock(&self, holder: &str) -> anyhow::Result<u64> {
        let stamp = self.inner.reads.run_blocking(stock_stamp).context("cannot read the stock watermark")?;
        let stamp = format!("{stamp} holder {holder}");
        let file = self.inner.views_dir.join(stock::saved::FILE_NAME);
        let bytes = self
            .inner
            .stock
            .save(&file, &stamp)
            .with_context(|| format!("cannot save the stock view to {}", file.display()))?;
        Ok(bytes)
    }

    /// Whether every committed catalog change has reached the index.
    pub fn is_in_sync(&self) -> bool {
        self.inner.in_sync.load(Ordering::Relaxed)
    }

    /// Rebuilds the index under `index_dir` from the database behind `conn`, whatever its
    /// state (`aforro reindex`; the caller holds the data folder's lock, so no server is
    /// running with the old index open).
    pub fn rebuild(index_dir: &Path, conn: &Connection) -> anyhow::Result<build::BuildReport> {
        std::fs::create_dir_all(index_dir).with_context(|| format!("cannot create {}", index_dir.display()))?;
        build::rebuild(conn, &index_path(index_dir))
    }

    /// Changes each time a catalog change becomes searchable.
    pub fn catalog_generation(&self) -> u64 {
        self.inner.catalog_generation.load(Ordering::Acquire)
    }

    /// Documents in the index (live ones), e.g. for readiness and tests.
    pub fn num_docs(&self) -> u64 {
        self.inner.reader.searcher().num_docs()
    }

    /// Replaces the documents of `product_ids` with their committed state and makes the
    /// change visible to the next search (see [`sync`]).
    pub fn reindex_products(&self, product_ids: &[ProductId]) -> Result<()> {
        self.apply_reindex(product_ids)
    }

    // Searching.

    /// Runs `request` (blocking: call it on the blocking pool). `conn` is a read connection,
    /// for the store check, the categories and the page's rows. A browse without words is
    /// served from its precomputed order when that is ready, else by the collector (see
    /// [`browse`]); the answer is the same either way.
    pub fn search(&self, conn: &Connection, request: &SearchRequest) -> Result<SearchResults> {
        self.run_search(conn, request)
    }

    /// [`SearchIndex::search`] through the result cache and, on a miss, the search queue;
    /// what the HTTP handler calls. A hit is answered here, without waiting for a turn.
    pub async fn search_queued(&self, request: SearchRequest) -> Result<Arc<SearchResults>> {
        self.run_queued(request).await
    }

    /// [`SearchIndex::search`] through the result cache.
    pub fn search_cached(&self, conn: &Connection, request: &SearchRequest) -> Result<Arc<SearchResults>> {
        self.run_cached(conn, request)
    }

    // The listings: one call each, which picks the in-memory path when its order is ready
    // and the SQL path otherwise, so no handler chooses.

    /// A store's inventory page (`GET /stores/<id>/inventory/`): from the title order and the
    /// stock view when the order of the current catalog generation is ready, else by SQL
    /// (after starting the order's computation). The answer is the same either way.
    pub fn store_inventory(
        &self,
        conn: &Connection,
        store_id: StoreId,
        filter: &InventoryFilter,
        page: PageRequest,
    ) -> Result<PageOf<InventoryRow>> {
        match self.inventory_page(conn, store_id, filter, page)? {
            Some(rows) => Ok(rows),
            None => listings::store_inventory(conn, store_id, filter, page),
        }
    }

    /// A page of the admin product list and whether its count is exact (see
    /// [`listing::product_list`]): a title search from the title order in memory when it can
    /// (see [`browse::titles::search`]), else by SQL.
    pub fn admin_products(&self, conn: &Connection, list: &ProductList) -> Result<(PageOf<ProductRow>, bool)> {
        let found = self.admin_product_search(list, TITLE_MATCHES_IN_MEMORY);
        listing::product_list(conn, list, found.as_deref())
    }

    /// A page of a store's inventory in the admin list (see [`listing::inventory_list`]): a
    /// title search from the title order and the stock view when it can, else by SQL.
    pub fn admin_inventory(
        &self,
        conn: &Connection,
        store_id: StoreId,
        list: &InventoryList,
    ) -> Result<PageOf<InventoryRow>> {
        let found = self.admin_inventory_search(store_id, list, TITLE_MATCHES_IN_MEMORY);
        listing::inventory_list(conn, store_id, list, found)
    }

    // The in-memory paths alone, for the listings above and for tests and benchmarks that
    // compare them with SQL.

    /// A store's inventory page from the title order and the stock view, when the order of
    /// the current catalog generation is ready; otherwise `None`, after starting its
    /// computation.
    pub fn inventory_page(
        &self,
        conn: &Connection,
        store_id: StoreId,
        filter: &InventoryFilter,
        page: PageRequest,
    ) -> Result<Option<PageOf<InventoryRow>>> {
        self.titles_inventory_page(conn, store_id, filter, page)
    }

    /// The page's ids of the admin product list for its title search (see
    /// [`browse::titles::TitleOrder::product_search_page`]); `None` when the title order is
    /// not ready or more than `limit` titles match.
    pub fn admin_product_search(&self, list: &ProductList, limit: usize) -> Option<Vec<ProductId>> {
        self.titles_product_search(list, limit)
    }

    /// A page of a store's inventory for its title search, from the title order and the stock
    /// view (see [`browse::titles::TitleOrder::inventory_search_page`]); `None` as for
    /// [`Self::admin_product_search`].
    pub fn admin_inventory_search(
        &self,
        store_id: StoreId,
        list: &InventoryList,
        limit: usize,
    ) -> Option<PageOf<(ProductId, RowStock)>> {
        self.titles_inventory_search(store_id, list, limit)
    }

    /// Computes and publishes the full browse order for `sort` (blocking; tests and the
    /// background thread call it).
    pub fn compute_browse(&self, sort: SortOrder) -> Result<()> {
        self.publish_browse_order(sort)
    }

    /// Computes and publishes the title order of the current catalog (blocking; tests,
    /// benchmarks and the background thread call it).
    pub fn compute_title_order(&self) -> Result<()> {
        self.publish_title_order()
    }
}

/// The stock view saved at `file` when it is current, else loaded from the database.
fn open_stock(reads: &ReadPool, file: &Path, previous_holder: Option<&str>) -> anyhow::Result<StockView> {
    let saved = match previous_holder {
        Some(holder) => {
            let stamp = reads.run_blocking(stock_stamp).context("cannot read the stock watermark")?;
            StockView::open_saved(file, &format!("{stamp} holder {holder}"))
        }
        None => Err(view_files::Unusable::Missing),
    };
    match saved {
        Ok(view) => {
            tracing::info!(file = %file.display(), "stock view: mapped the saved view");
            Ok(view)
        }
        Err(reason) => {
            tracing::info!(%reason, "stock view: loading every inventory row from the database");
            reads.run_blocking(StockView::load).context("cannot load the stock view")
        }
    }
}

/// The index at `path`, rebuilt from `conn` when it is not current.
fn open_or_rebuild(conn: &Connection, path: &Path) -> anyhow::Result<Index> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let expected = IndexStamp::current(catalog_watermark(conn)?);
    match build::open_if_current(path, &expected) {
        Ok(index) => Ok(index),
        Err(staleness) => {
            tracing::info!(reason = %staleness, "rebuilding the search index");
            let report = build::rebuild(conn, path)?;
            tracing::info!(products = report.products, secs = report.elapsed.as_secs_f64(), "search index built");
            build::open_if_current(path, &report.stamp)
                .map_err(|staleness| anyhow::anyhow!("the index just built is not current: {staleness}"))
        }
    }
}
