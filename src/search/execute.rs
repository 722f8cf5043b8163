//! Running one search: resolve the filters, run the query through the collector on the
//! current searcher, then read the page's rows and name the facets.

use std::collections::BTreeMap;
use std::sync::Arc;

use rusqlite::Connection;
use tantivy::query::{AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

use super::SearchIndex;
use super::collector::{MatchFilter, Matches, SearchCollector, StockCondition, StockFirst};
use super::expand::WordMatch;
use super::highlight::Highlighter;
use super::query::query_terms;
use super::rank::bm25_of;
use super::request::{CategoryFilter, SearchRequest, SortOrder};
use super::rows::{MatchInfo, MatchMode, SearchResults, category_named, facets, rows_for};
use super::scan::{scan_all, scan_store};
use super::walk::WordsQuery;
use super::word_matches::MatchKey;
use crate::db::store::catalog::store_exists;
use crate::db::store::view_rows::category_names;
use crate::domain::CategoryId;
use crate::error::{Error, Result};

impl SearchIndex {
    /// [`SearchIndex::search`].
    pub(super) fn run_search(&self, conn: &Connection, request: &SearchRequest) -> Result<SearchResults> {
        // Every statement of the search in one read transaction: in autocommit each one began
        // and ended its own, two shared-memory lock syscalls apiece, and the page's rows are
        // read one statement per row (a twentieth of a one-word search at 1M, perf). It also
        // reads the store, the categories and the rows from one snapshot. Nothing is written,
        // so dropping it (a rollback) ends it. A caller already in a transaction keeps its own.
        let _snapshot = if conn.is_autocommit() { Some(conn.unchecked_transaction()?) } else { None };
        if let Some(store_id) = request.store_id
            && !store_exists(conn, store_id)?
        {
            return Err(Error::store_not_found(store_id));
        }
        let categories = category_names(conn)?;
        let Some(category_id) = resolve_category(request.category.as_ref(), &categories) else {
            return Ok(SearchResults::default()); // an unknown category name matches nothing
        };
        let (matches, words) = match request.q.as_deref() {
            None => (self.browse(request, category_id)?, None),
            Some(q) => {
                let terms = query_terms(&mut self.inner.analyzer.clone(), q);
                if terms.is_empty() {
                    return Ok(SearchResults::default()); // `q` had no words, only punctuation
                }
                let (matches, words) = self.match_words(&terms, request, category_id)?;
                (matches, Some(words))
            }
        };
        let page = request.page;
        let offset = usize::try_from(page.offset()).unwrap_or(usize::MAX);
        let hits: Vec<_> = matches.top.iter().skip(offset).cloned().collect();
        let with_score = request.sort == SortOrder::Relevance && words.is_some();
        let mut rows = rows_for(conn, &hits, with_score)?;
        for (row, hit) in rows.iter_mut().zip(&hits) {
            row.score = row.score.map(|_| bm25_of(hit.score));
        }
        if let Some(words) = words.as_ref().filter(|_| request.highlight) {
            let mut highlighter = Highlighter::new(&words.words[..words.required]);
            for row in &mut rows {
                row.highlight = Some(highlighter.highlight(&row.title, &row.description));
            }
        }
        Ok(SearchResults {
            count: i64::try_from(matches.count).unwrap_or(i64::MAX),
            rows,
            facets: facets(&matches, &categories),
            match_info: words.map(|words| words.info()),
        })
    }

    /// Every product that passes the filters, through the precomputed orders where they can
    /// answer.
    fn browse(&self, request: &SearchRequest, category_id: Option<CategoryId>) -> Result<Matches> {
        // The category's postings replace a scan of every document.
        let query: Box<dyn Query> = match category_id {
            Some(category_id) => in_category(Box::new(AllQuery), self.inner.fields.category_id, category_id),
            None => Box::new(AllQuery),
        };
        // From the precomputed browse orders where they can answer (no page scans its matches).
        match self.precomputed_browse(request, category_id, top_n(request)) {
            Some(matches) => Ok(matches),
            None => self.collect(query.as_ref(), request, category_id),
        }
    }

    /// Matches every word; when nothing does, drops words from the right (never the first)
    /// until something matches. The dropped words still rank the documents that have them.
    fn match_words(
        &self,
        terms: &[String],
        request: &SearchRequest,
        category_id: Option<CategoryId>,
    ) -> Result<(Matches, MatchedWords)> {
        // One searcher for the expansion and the matching, so both see the same terms.
        let searcher = self.inner.reader.searcher();
        let words = Arc::new(self.inner.expansions.expand_words(&searcher, &self.inner.fields, terms)?);
        let mut required = words.len();
        loop {
            let collector = self.collector(request, category_id, top_n(request));
            let key = MatchKey { words: terms.to_vec(), required, scored: collector.scored };
            let query = || {
                WordsQuery::new(&searcher, &words, required, collector.scored)?
                    .ok_or_else(|| tantivy::TantivyError::InternalError("a query needs at least one word".to_owned()))
            };
            // The collector checks the category on a fast field: cheaper than intersecting
            // its postings (measured at 1M products, two words + category + price: 3.1 ms
            // intersected, 2.7 ms not).
            let matches = self.inner.matches.collect(&searcher, key, &collector, query).map_err(Error::Index)?;
            if matches.count > 0 || required == 1 {
                return Ok((matches, MatchedWords { words, required }));
            }
            required -= 1;
        }
    }
    fn collect(&self, query: &dyn Query, request: &SearchRequest, category_id: Option<CategoryId>) -> Result<Matches> {
        self.collect_top(query, request, category_id, top_n(request))
    }

    /// Runs the collector, keeping the best `top_n` matches.
    pub(super) fn collect_top(
        &self,
        query: &dyn Query,
        request: &SearchRequest,
        category_id: Option<CategoryId>,
        top_n: usize,
    ) -> Result<Matches> {
        self.collect_with(&self.inner.reader.searcher(), query, request, category_id, top_n)
    }

    fn collect_with(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        request: &SearchRequest,
        category_id: Option<CategoryId>,
        top_n: usize,
    ) -> Result<Matches> {
        let collector = self.collector(request, category_id, top_n);
        let docs_by_product = self.inner.docs_by_product.load();
        let result = match &collector.filter.stock {
            _ if request.q.is_some() || category_id.is_some() => searcher.search(query, &collector),
            StockCondition::Store { carried: Some(carried), .. } if docs_by_product.matches(searcher) => {
                scan_store(&collector, searcher, &docs_by_product, carried)
            }
            StockCondition::Store { .. } => searcher.search(query, &collector),
            StockCondition::Unfiltered | StockCondition::AnyStore { .. } => scan_all(&collector, searcher),
        };
        result.map_err(Error::Index)
    }

    /// The collector of `request`: its filters, sort and page.
    fn collector(&self, request: &SearchRequest, category_id: Option<CategoryId>, top_n: usize) -> SearchCollector {
        SearchCollector {
            filter: self.match_filter(request, category_id),
            sort: request.sort,
            stock_first: self.stock_first(request),
            scored: request.sort == SortOrder::Relevance && request.q.is_some(),
            top_n,
            columns: self.inner.columns.load_full(),
        }
    }

    /// What a match of `request` must satisfy besides its words.
    pub(super) fn match_filter(&self, request: &SearchRequest, category_id: Option<CategoryId>) -> MatchFilter {
        MatchFilter {
            category_id: category_id.map(|id| u64::try_from(id.0).unwrap_or(u64::MAX)),
            price_cents: request.price.cents(),
            stock: self.stock_condition(request),
        }
    }

    fn stock_first(&self, request: &SearchRequest) -> StockFirst {
        if !request.stock_first {
            return StockFirst::Off;
        }
        let tables = self.inner.stock.tables();
        match request.store_id {
            Some(store_id) => StockFirst::Store(tables.store(store_id).cloned()),
            None => StockFirst::Anywhere(tables),
        }
    }

    fn stock_condition(&self, request: &SearchRequest) -> StockCondition {
        let tables = self.inner.stock.tables();
        match (request.store_id, request.in_stock) {
            (Some(store_id), in_stock) => StockCondition::Store {
                column: tables.store(store_id).cloned(),
                carried: tables.carried(store_id).cloned(),
                in_stock,
            },
            (None, Some(in_stock)) => StockCondition::AnyStore { tables, in_stock },
            (None, None) => StockCondition::Unfiltered,
        }
    }
}

/// The words of a search and how many of them every match has (the rest were dropped).
struct MatchedWords {
    words: Arc<Vec<WordMatch>>,
    required: usize,
}

impl MatchedWords {
    fn info(&self) -> MatchInfo {
        let dropped: Vec<String> = self.words[self.required..].iter().map(|word| word.word.clone()).collect();
        let corrected = self.words.iter().any(|word| word.correction.is_some());
        let did_you_mean = corrected.then(|| {
            let words: Vec<&str> =
                self.words.iter().map(|word| word.correction.as_deref().unwrap_or(&word.word)).collect();
            words.join(" ")
        });
        let mode = if dropped.is_empty() { MatchMode::All } else { MatchMode::Relaxed };
        MatchInfo { mode, dropped, did_you_mean }
    }
}

/// Hits a page needs: everything up to the page's end.
fn top_n(request: &SearchRequest) -> usize {
    usize::try_from(request.page.offset() + request.page.limit()).unwrap_or(usize::MAX)
}

/// `query` restricted to one category. The category clause scores 0, so scores (and the
/// `score` shown) are the text's alone; the collector still checks the category too.
fn in_category(query: Box<dyn Query>, field: Field, category_id: CategoryId) -> Box<dyn Query> {
    let id = u64::try_from(category_id.0).unwrap_or(u64::MAX);
    let category = TermQuery::new(Term::from_field_u64(field, id), IndexRecordOption::Basic);
    Box::new(BooleanQuery::new(vec![
        (Occur::Must, query),
        (Occur::Must, Box::new(ConstScoreQuery::new(Box::new(category), 0.0))),
    ]))
}

/// `Some(None)`: no category filter; `Some(Some(id))`: that category; `None`: a name that
/// names no category. An id that names no category simply matches nothing.
fn resolve_category(
    filter: Option<&CategoryFilter>,
    categories: &BTreeMap<CategoryId, String>,
) -> Option<Option<CategoryId>> {
    match filter {
        None => Some(None),
        Some(CategoryFilter::Id(id)) => Some(Some(*id)),
        Some(CategoryFilter::Name(name)) => category_named(categories, name).map(Some),
    }
}
