//! Running one search: resolve the filters, run the query through the collector on the
//! current searcher, then read the page's rows and name the facets.

use std::collections::BTreeMap;

use rusqlite::Connection;
use tantivy::Term;
use tantivy::query::{AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};

use super::SearchIndex;
use super::collector::{MatchFilter, Matches, SearchCollector, StockCondition};
use super::query::{query_terms, text_query};
use super::request::{CategoryFilter, SearchRequest, SortOrder};
use super::rows::{SearchResults, categories, category_named, facets, rows_for};
use super::scan::{scan_all, scan_store};
use crate::db::catalog::store_exists;
use crate::domain::CategoryId;
use crate::error::{Error, Result};

impl SearchIndex {
    /// Runs `request` (blocking: call it on the blocking pool). `conn` is a read connection,
    /// for the store check, the categories and the page's rows.
    pub fn search(&self, conn: &Connection, request: &SearchRequest) -> Result<SearchResults> {
        if let Some(store_id) = request.store_id
            && !store_exists(conn, store_id)?
        {
            return Err(Error::NotFound(format!("store {store_id} does not exist")));
        }
        let categories = categories(conn)?;
        let Some(category_id) = resolve_category(request.category.as_ref(), &categories) else {
            return Ok(SearchResults::default()); // an unknown category name matches nothing
        };
        let Some(query) = self.query_for(request.q.as_deref()) else {
            return Ok(SearchResults::default()); // `q` had no words, only punctuation
        };
        // Without words, the category's postings replace a scan of every document. With
        // words, the collector's own category check is cheaper than intersecting (measured at
        // 1M products, two words + category + price: 3.1 ms intersected, 2.7 ms not).
        let query = match category_id {
            Some(category_id) if request.q.is_none() => in_category(query, self.inner.fields.category_id, category_id),
            _ => query,
        };
        // Without words, from the precomputed browse orders where they can answer.
        let precomputed = request.q.is_none().then(|| self.precomputed_browse(request, category_id, top_n(request)));
        let matches = match precomputed.flatten() {
            Some(matches) => matches,
            None => self.collect(query.as_ref(), request, category_id)?,
        };
        let page = request.page;
        let offset = usize::try_from(page.offset()).unwrap_or(usize::MAX);
        let hits: Vec<_> = matches.top.iter().skip(offset).cloned().collect();
        let with_score = request.sort == SortOrder::Relevance;
        Ok(SearchResults {
            count: i64::try_from(matches.count).unwrap_or(i64::MAX),
            rows: rows_for(conn, &hits, with_score)?,
            facets: facets(&matches, &categories),
        })
    }

    /// The query for `q`: every document without it; `None` when `q` has no words.
    fn query_for(&self, q: Option<&str>) -> Option<Box<dyn Query>> {
        match q {
            None => Some(Box::new(AllQuery)),
            Some(q) => {
                let terms = query_terms(&mut self.inner.analyzer.clone(), q);
                text_query(&self.inner.fields, &terms)
            }
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
        let collector = SearchCollector {
            filter: self.match_filter(request, category_id),
            sort: request.sort,
            scored: request.sort == SortOrder::Relevance && request.q.is_some(),
            top_n,
        };
        let searcher = self.inner.reader.searcher();
        let docs_by_product = self.inner.docs_by_product.load();
        let result = match &collector.filter.stock {
            _ if request.q.is_some() || category_id.is_some() => searcher.search(query, &collector),
            StockCondition::Store { carried: Some(carried), .. } if docs_by_product.matches(&searcher) => {
                scan_store(&collector, &searcher, &docs_by_product, carried)
            }
            StockCondition::Store { .. } => searcher.search(query, &collector),
            StockCondition::Unfiltered | StockCondition::AnyStore { .. } => scan_all(&collector, &searcher),
        };
        result.map_err(Error::Index)
    }

    /// What a match of `request` must satisfy besides its words.
    pub(super) fn match_filter(&self, request: &SearchRequest, category_id: Option<CategoryId>) -> MatchFilter {
        MatchFilter {
            category_id: category_id.map(|id| u64::try_from(id.0).unwrap_or(u64::MAX)),
            price_cents: request.price.cents(),
            stock: self.stock_condition(request),
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
