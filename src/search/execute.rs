//! Running one search: resolve the filters, run the query through the collector on the
//! current searcher, then read the page's rows and name the facets.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rusqlite::Connection;
use tantivy::query::{AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

use super::SearchIndex;
use super::collector::{MatchFilter, Matches, SearchCollector, StockCondition, StockFirst};
use super::curated::place_pins;
use super::curation::{Applied, Curation, folded_words};
use super::expand::WordMatch;
use super::explain::{Explain, explain_hits};
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
use crate::domain::{CategoryId, ProductId, Timestamp};
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
        // A deep page counts first and collects its hits only when it exists (see
        // `COUNT_FIRST_ABOVE`): the count pass keeps no hit, so it costs what a first page does.
        let wanted = top_n(request);
        let count_first = wanted > COUNT_FIRST_ABOVE;
        let first_top_n = if count_first { 0 } else { wanted };
        let terms = match request.q.as_deref() {
            None => None,
            Some(q) => {
                let terms = query_terms(&mut self.inner.analyzer.clone(), q);
                if terms.is_empty() {
                    return Ok(SearchResults::default()); // `q` had no words, only punctuation
                }
                Some(terms)
            }
        };
        // One snapshot of the synonym sets and rules for the whole search.
        let curation = self.curation();
        let applied = match request.q.as_deref() {
            Some(q) if curation.has_rules() => curation.applying(&folded_words(q), Timestamp::now()),
            _ => Applied::default(),
        };
        let curated = Curated { curation: &curation, applied: &applied };
        let (mut matches, words) = match &terms {
            None => (self.browse(request, category_id, first_top_n)?, None),
            Some(terms) => {
                let (matches, words) = self.match_words(terms, request, category_id, first_top_n, &curated)?;
                (matches, Some(words))
            }
        };
        if count_first {
            let count = i64::try_from(matches.count).unwrap_or(i64::MAX);
            if request.page.offset() >= count {
                // Past the end: the caller answers 404 from the count alone.
                return Ok(SearchResults {
                    count,
                    rows: Vec::new(),
                    facets: facets(&matches, &categories),
                    match_info: words.map(|words| words.info()),
                });
            }
            if wanted > MAX_RESULT_WINDOW {
                return Err(Error::field(
                    "page",
                    format!(
                        "a search shows its first {MAX_RESULT_WINDOW} results at most; narrow it (more words, \
                         a category, a price range) to reach the rest"
                    ),
                ));
            }
            matches = match &terms {
                // The same words again, now keeping the hits: the expansions, the match set
                // and the relaxation's checks come from their caches.
                Some(terms) => self.match_words(terms, request, category_id, wanted, &curated)?.0,
                None => self.browse(request, category_id, wanted)?,
            };
        }
        let page = request.page;
        let offset = usize::try_from(page.offset()).unwrap_or(usize::MAX);
        let hits: Vec<_> = matches.top.iter().skip(offset).cloned().collect();
        let with_score = request.sort == SortOrder::Relevance && words.is_some();
        let mut rows = rows_for(conn, &hits, with_score)?;
        for (row, hit) in rows.iter_mut().zip(&hits) {
            row.score = row.score.map(|_| bm25_of(hit.score));
        }
        if let Some(words) = words.as_ref().filter(|_| request.explain) {
            let explained = explain_hits(&words.searcher, &self.inner.fields, &words.in_query_order(), &hits, |hit| {
                if with_score { bm25_of(hit.score) } else { 0.0 }
            })
            .map_err(Error::Index)?;
            let mut by_product: HashMap<u64, Explain> = hits.iter().map(|hit| hit.product_id).zip(explained).collect();
            let pins_placed = request.sort == SortOrder::Relevance;
            for row in &mut rows {
                row.explain = u64::try_from(row.id.0).ok().and_then(|id| by_product.remove(&id));
                if let Some(explain) = row.explain.as_mut() {
                    explain.pinned = pins_placed && applied.pins.iter().any(|(id, _)| *id == row.id);
                }
            }
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

    /// Every product that passes the filters (the best `top_n` kept), through the precomputed
    /// orders where they can answer.
    fn browse(&self, request: &SearchRequest, category_id: Option<CategoryId>, top_n: usize) -> Result<Matches> {
        // The category's postings replace a scan of every document.
        let query: Box<dyn Query> = match category_id {
            Some(category_id) => in_category(Box::new(AllQuery), self.inner.fields.category_id, category_id),
            None => Box::new(AllQuery),
        };
        // From the precomputed browse orders where they can answer (no page scans its matches).
        match self.precomputed_browse(request, category_id, top_n) {
            Some(matches) => Ok(matches),
            None => self.collect_top(query.as_ref(), request, category_id, top_n),
        }
    }

    /// Matches the words of `terms`: those matching no term of the catalog are ignored; when
    /// nothing passing the filters has every other word, words are dropped one at a time (see
    /// [`relax`](Self::relax)). The dropped words still rank the documents that have them.
    /// The best `top_n` matches are kept.
    fn match_words(
        &self,
        terms: &[String],
        request: &SearchRequest,
        category_id: Option<CategoryId>,
        top_n: usize,
        curated: &Curated<'_>,
    ) -> Result<(Matches, MatchedWords)> {
        // One searcher for the expansion and the matching, so both see the same terms.
        let searcher = self.inner.reader.searcher();
        let words = self.expand_curated(&searcher, curated.curation, terms)?;
        let applied = curated.applied;
        let rules = applied.names.clone();
        // Hidden products never match; under relevance the pinned ones are placed apart.
        let pins_placed = request.sort == SortOrder::Relevance && !applied.pins.is_empty();
        let mut excluded: Vec<ProductId> = applied.hides.iter().copied().collect();
        if pins_placed {
            excluded.extend(applied.pins.iter().map(|(id, _)| *id));
        }
        excluded.sort_unstable();
        let excluded_terms: Vec<Term> = excluded.iter().map(|id| self.id_term(*id)).collect();
        let place = |matches: Matches| -> Result<Matches> {
            if !pins_placed {
                return Ok(matches);
            }
            let mut collector = self.collector(request, category_id, applied.pins.len());
            collector.scored = false;
            let pinned = self.pinned_matches(&searcher, &collector, applied).map_err(Error::Index)?;
            Ok(place_pins(matches, pinned, applied, top_n))
        };
        // An unknown word costs its (cached) expansion and nothing else: it never reaches a walk.
        let ignored: Vec<String> =
            words.iter().filter(|word| word.is_unknown()).map(|word| word.word.clone()).collect();
        let known: Vec<usize> = (0..words.len()).filter(|&i| !words[i].is_unknown()).collect();
        if known.is_empty() {
            // The contract answers the products pinned by the search rules that apply ("Search",
            // `q`, "Matching"): none when no rule applies.
            let matched = MatchedWords {
                words: Arc::new(Vec::new()),
                positions: Vec::new(),
                required: 0,
                ignored,
                did_you_mean: None,
                rules,
                searcher: searcher.clone(),
            };
            return Ok((place(Matches::default())?, matched));
        }
        let mut probe = self.collector(request, category_id, 0);
        probe.scored = false;
        let exists = |kept: &[usize]| -> Result<bool> {
            let query = WordsQuery::of(&searcher, kept.iter().map(|&i| &words[i]), kept.len(), false)?;
            let query = query.map(|query| query.excluding(excluded_terms.clone()));
            Ok(query.map(|query| query.any(&searcher, &probe)).transpose()?.unwrap_or(false))
        };
        let last = words.len() - 1;
        let collect = |kept: &[usize]| -> Result<(Matches, Vec<usize>)> {
            // The required words first, then the dropped ones, each in query order.
            let order: Vec<usize> =
                kept.iter().copied().chain(known.iter().copied().filter(|i| !kept.contains(i))).collect();
            let collector = self.collector(request, category_id, top_n);
            let key = MatchKey {
                words: order.iter().map(|&i| (words[i].word.clone(), i == last)).collect(),
                required: kept.len(),
                scored: collector.scored,
                curation: curated.curation.generation,
                excluded: excluded.iter().map(|id| u64::try_from(id.0).unwrap_or(u64::MAX)).collect(),
            };
            let query = || {
                WordsQuery::of(&searcher, order.iter().map(|&i| &words[i]), kept.len(), collector.scored)?
                    .map(|query| query.excluding(excluded_terms.clone()))
                    .ok_or_else(|| tantivy::TantivyError::InternalError("a query needs at least one word".to_owned()))
            };
            // The collector checks the category on a fast field: cheaper than intersecting
            // its postings (measured at 1M products, two words + category + price: 3.1 ms
            // intersected, 2.7 ms not).
            let matches = self.inner.matches.collect(&searcher, key, &collector, query).map_err(Error::Index)?;
            Ok((matches, order))
        };
        let (mut matches, mut order) = collect(&known)?;
        let mut required = known.len();
        if matches.count == 0 && known.len() > 1 {
            let kept = relax(known.clone(), |i| words[i].docs, exists)?;
            required = kept.len();
            (matches, order) = collect(&kept)?;
        }
        let ordered: Vec<WordMatch> = order.iter().map(|&i| words[i].clone()).collect();
        let did_you_mean =
            if matches.count > 0 { self.did_you_mean(&searcher, &probe, &words, &ordered, required)? } else { None };
        let matches = place(matches)?;
        Ok((
            matches,
            MatchedWords {
                words: Arc::new(ordered),
                positions: order,
                required,
                ignored,
                did_you_mean,
                rules,
                searcher: searcher.clone(),
            },
        ))
    }

    /// The query with its ignored words left out and each word matched only through typos
    /// replaced by its most frequent typo term (`words` in query order), when some product
    /// passing `probe`'s filters has every required word (`ordered[..required]`) and every
    /// such term; `None` when no word was corrected or no product has them all.
    fn did_you_mean(
        &self,
        searcher: &Searcher,
        probe: &SearchCollector,
        words: &[WordMatch],
        ordered: &[WordMatch],
        required: usize,
    ) -> Result<Option<String>> {
        if !ordered.iter().any(|word| word.correction.is_some()) {
            return Ok(None);
        }
        let corrected: Vec<WordMatch> = ordered
            .iter()
            .enumerate()
            .filter(|(i, word)| *i < required || word.correction.is_some())
            .map(|(_, word)| word.corrected())
            .collect();
        let query = WordsQuery::of(searcher, corrected.iter(), corrected.len(), false)?;
        if !query.map(|query| query.any(searcher, probe)).transpose()?.unwrap_or(false) {
            return Ok(None);
        }
        let known = words.iter().filter(|word| !word.is_unknown());
        let query: Vec<&str> = known.map(|word| word.correction.as_deref().unwrap_or(&word.word)).collect();
        Ok(Some(query.join(" ")))
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

/// The words a search matched with: the required ones first, then the dropped ones (each in
/// query order); the ignored words are not among them.
struct MatchedWords {
    words: Arc<Vec<WordMatch>>,
    /// The query position of each of `words`.
    positions: Vec<usize>,
    /// Every match has the first `required` words.
    required: usize,
    /// Words that match no term of the catalog, in query order.
    ignored: Vec<String>,
    did_you_mean: Option<String>,
    /// The search rules applied, in name order.
    rules: Vec<String>,
    /// The searcher the words were matched on (what `explain` looks them up on).
    searcher: Searcher,
}

impl MatchedWords {
    /// The words in query order (ignored words are not among them).
    fn in_query_order(&self) -> Vec<&WordMatch> {
        let mut words: Vec<(usize, &WordMatch)> = self.positions.iter().copied().zip(self.words.iter()).collect();
        words.sort_by_key(|(position, _)| *position);
        words.into_iter().map(|(_, word)| word).collect()
    }

    fn info(&self) -> MatchInfo {
        let dropped: Vec<String> = self.words[self.required..].iter().map(|word| word.word.clone()).collect();
        let ignored = self.ignored.clone();
        let mode = if dropped.is_empty() && ignored.is_empty() { MatchMode::All } else { MatchMode::Relaxed };
        let synonyms = self
            .words
            .iter()
            .filter(|word| !word.synonyms.is_empty())
            .map(|word| (word.word.clone(), word.synonyms.clone()))
            .collect();
        MatchInfo {
            mode,
            dropped,
            ignored,
            did_you_mean: self.did_you_mean.clone(),
            synonyms,
            rules: self.rules.clone(),
        }
    }
}

/// The merchandiser's settings one search runs under.
struct Curated<'a> {
    curation: &'a Curation,
    /// The rules that apply to this search's `q`, now.
    applied: &'a Applied,
}

/// The contract's relaxation of `kept` (query positions, in query order, of words nothing
/// has all of): drops one word at a time until `exists` finds a match for the rest, keeping at
/// least one. Among the words whose dropping leaves a match, the one matching the most
/// products (`docs`) goes; when no single drop leaves one, the word matching the most
/// products goes and the rest is relaxed again. Ties drop the rightmost.
fn relax(
    mut kept: Vec<usize>,
    docs: impl Fn(usize) -> u64,
    exists: impl Fn(&[usize]) -> Result<bool>,
) -> Result<Vec<usize>> {
    while kept.len() > 1 {
        // Most products first, then rightmost first: the first drop that leaves a match is
        // the one to take, so fewer tries run.
        let mut candidates: Vec<usize> = (0..kept.len()).collect();
        candidates.sort_by_key(|&at| (Reverse(docs(kept[at])), Reverse(at)));
        let mut taken = None;
        for &at in &candidates {
            let rest: Vec<usize> = kept.iter().enumerate().filter(|(i, _)| *i != at).map(|(_, &word)| word).collect();
            if exists(&rest)? {
                taken = Some(rest);
                break;
            }
        }
        match taken {
            Some(rest) => return Ok(rest),
            None => {
                kept.remove(candidates[0]);
            }
        }
    }
    Ok(kept)
}

/// The deepest result a search shows: a page ending beyond it is `400`, as Elasticsearch's
/// `index.max_result_window` (the same 10,000) refuses `from + size` beyond it. Keeping the
/// best `offset + page_size` hits costs a heap of that many; bounded here, a deep page costs
/// a small multiple of a first page however large the catalog (docs/search.md, "Deep pages").
pub const MAX_RESULT_WINDOW: usize = 10_000;

/// Pages ending beyond this many hits count their matches first (a pass that keeps no hit)
/// and collect the page's hits in a second pass only when the page exists, so a page past the
/// end costs about what a first page does and never collects every match to find out.
/// Shallower pages keep so few hits that one pass is cheaper than two.
const COUNT_FIRST_ABOVE: usize = 1_000;

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
