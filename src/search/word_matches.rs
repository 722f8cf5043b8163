//! The matches of recent word queries, kept for the searcher they were computed on, so a word
//! searched again under other filters, another sort or another page skips the walk.
//!
//! What a query's words match (and how each match ranks) depends only on the words and the
//! index; the filters, the live stock, the count, the facets and the page are all the
//! collector's, applied to every match as it arrives. So the walk's output, every match in
//! document order with its packed rank, can be kept and fed to the next search's collector
//! instead of walking the posting lists again. Under the HTTP search mix at 1M products the
//! walk was about half of the server's time (`perf record` under `scripts/search-mix.sh`'s
//! 8 clients, 2026-11-30, `132d3c2`; docs/performance.md, "Where the HTTP mix spends its
//! time"), and shoppers ask for the same few words under filter combinations that the result
//! cache keeps apart. Lucene's query cache keeps filters' document sets for the same reason.
//!
//! An entry is keyed by the query's words, how many of them are required and whether ranks
//! were computed, and stamped with the generation of the searcher it was walked on, as the
//! expansion cache stamps its entries: a lookup from any other searcher is a miss and replaces
//! it, so a catalog change (or a deletion) is seen by the next search exactly as without the
//! cache. Stock is never kept: the collector reads it live on every replay. Bounded in bytes
//! (`--match-cache-mib`, 8 bytes a match) and in time (10 minutes); moka admits a new entry
//! over a full cache only when its words are asked for more often than the entry it evicts.

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use tantivy::Searcher;

use super::collector::{Matches, SearchCollector};
use super::walk::WordsQuery;
use super::walked_matches::WordMatches;

const TIME_TO_LIVE: Duration = Duration::from_secs(600);
/// A walk whose driving word has fewer postings than this is not kept: it costs about as
/// much as a replay (tens of microseconds), and keeping it would only churn the cache.
const MIN_WALKED_POSTINGS: u64 = 4096;

/// What the walk of a query is keyed by: the words walked (as analysed, ignored words left
/// out), which of them every match has, and whether the matches carry ranks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MatchKey {
    /// The words in the order the walk takes them: the required ones, then the dropped ones
    /// (relaxation may drop any word, not only from the right), each with whether it was the
    /// query's last word (which expands to its prefix terms too).
    pub words: Vec<(String, bool)>,
    /// The first `required` words must match.
    pub required: usize,
    /// Whether ranks were computed (relevance order).
    pub scored: bool,
    /// The generation of the synonym sets and rules the words were expanded with: a change
    /// makes every earlier walk unreachable.
    pub curation: u64,
    /// Products kept out of the walk (the rules' hides and pins), ascending ids.
    pub excluded: Vec<u64>,
}

/// Cheap to clone (the cache is shared). With no bytes allowed it keeps nothing and every
/// search walks.
#[derive(Clone)]
pub struct MatchCache {
    entries: Option<Cache<MatchKey, (u64, Arc<WordMatches>)>>,
}

impl MatchCache {
    /// A cache of at most `max_bytes` of matches (0: none kept).
    pub fn new(max_bytes: u64) -> Self {
        let entries = (max_bytes > 0).then(|| {
            Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|key: &MatchKey, (_, matches): &(u64, Arc<WordMatches>)| entry_bytes(key, matches))
                .time_to_live(TIME_TO_LIVE)
                .build()
        });
        Self { entries }
    }

    /// Runs `query` (keyed by `key`) on `searcher` through `collector`: from the kept matches
    /// when this very searcher's are kept, otherwise by walking, keeping what the walk found.
    pub fn collect(
        &self,
        searcher: &Searcher,
        key: MatchKey,
        collector: &SearchCollector,
        query: impl FnOnce() -> tantivy::Result<WordsQuery>,
    ) -> tantivy::Result<Matches> {
        let Some(entries) = &self.entries else {
            return query()?.collect(searcher, collector);
        };
        let generation = searcher.generation().generation_id();
        if let Some((stamp, kept)) = entries.get(&key)
            && stamp == generation
        {
            return kept.collect(searcher, collector);
        }
        let mut walked = WordMatches::default();
        let matches = query()?.collect_recording(searcher, collector, Some(&mut walked))?;
        if walked.walked_postings >= MIN_WALKED_POSTINGS {
            entries.insert(key, (generation, Arc::new(walked)));
        }
        Ok(matches)
    }

    /// Whether the matches of `key` are kept for `searcher`.
    #[cfg(test)]
    fn keeps(&self, key: &MatchKey, searcher: &Searcher) -> bool {
        let generation = searcher.generation().generation_id();
        self.entries.as_ref().and_then(|entries| entries.get(key)).is_some_and(|(stamp, _)| stamp == generation)
    }
}

fn entry_bytes(key: &MatchKey, matches: &WordMatches) -> u32 {
    let key_bytes: usize = key.words.iter().map(|(word, _)| word.len() + 32).sum::<usize>() + key.excluded.len() * 8;
    u32::try_from(key_bytes + matches.bytes() + 64).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use tantivy::{Index, IndexWriter, Term};

    use super::*;
    use crate::db::store::view_rows::ProductRow;
    use crate::search::collector::{MatchFilter, StockCondition, StockFirst};
    use crate::search::columns::FastColumns;
    use crate::search::expand::expand_words;
    use crate::search::request::SortOrder;
    use crate::search::schema::product_document;
    use crate::search::schema::{ProductFields, in_ram_index};

    const TEXTS: [&str; 5] = ["steel kettle", "kettle", "copper kettle lamp", "desk lamp", "lamp shade"];

    fn add(writer: &IndexWriter, fields: &ProductFields, id: usize) {
        let id = i64::try_from(id).expect("small");
        let texts = usize::try_from(id).expect("small");
        let product = ProductRow {
            id,
            // A rare word, for a walk too short to keep.
            title: if texts % 97 == 0 { "brass lantern" } else { TEXTS[texts % TEXTS.len()] },
            description: TEXTS[texts / 3 % TEXTS.len()],
            price_cents: id % 1_000,
            category_id: id % 3,
            created_at: id,
            category: "home",
        };
        writer.add_document(product_document(&product, fields)).expect("add");
    }

    /// Two segments of 6,000 products each, every eleventh deleted.
    fn index() -> (Index, ProductFields, IndexWriter) {
        let (index, fields, mut writer) = in_ram_index();
        for id in 0..12_000 {
            add(&writer, &fields, id);
            if id == 6_000 {
                writer.commit().expect("first segment");
            }
        }
        writer.commit().expect("second segment");
        for id in (0..12_000u64).step_by(11) {
            writer.delete_term(Term::from_field_u64(fields.id, id));
        }
        writer.commit().expect("deletes");
        (index, fields, writer)
    }

    fn collector(
        searcher: &Searcher,
        sort: SortOrder,
        category_id: Option<u64>,
        prices: (u64, u64),
    ) -> SearchCollector {
        SearchCollector {
            filter: MatchFilter { category_id, price_cents: prices.0..=prices.1, stock: StockCondition::Unfiltered },
            sort,
            stock_first: StockFirst::Off,
            scored: sort == SortOrder::Relevance,
            top_n: 30,
            columns: Arc::new(FastColumns::refresh(&FastColumns::default(), searcher).expect("columns")),
        }
    }

    /// Everything a search answers from its matches: count, category facet, price range, and
    /// the page's ids and packed ranks.
    type Answer = (u64, Vec<(u64, u64)>, Option<(u64, u64)>, Vec<(u64, u32)>);

    fn answer(matches: &Matches) -> Answer {
        let categories = matches.categories.iter().map(|(id, count)| (*id, *count)).collect();
        let page = matches.top.iter().map(|hit| (hit.product_id, hit.score.to_bits())).collect();
        (matches.count, categories, matches.price_cents, page)
    }

    fn words(query: &[&str]) -> Vec<String> {
        query.iter().map(|word| (*word).to_owned()).collect()
    }

    /// A key's words for `query` walked in query order.
    fn key_words(query: &[&str]) -> Vec<(String, bool)> {
        query.iter().enumerate().map(|(i, word)| ((*word).to_owned(), i + 1 == query.len())).collect()
    }

    #[test]
    fn a_replay_answers_exactly_what_the_walk_answers_under_any_filter_and_sort() {
        let (index, fields, _writer) = index();
        let searcher = index.reader().expect("reader").searcher();
        // One word, two words, and two words of which only the first is required (relaxed).
        for (query, required) in [(&["kettle"][..], 1), (&["lamp", "kettle"], 2), (&["kettle", "shade"], 1)] {
            let expanded = expand_words(&searcher, &fields, &words(query)).expect("expand");
            for sort in [SortOrder::Relevance, SortOrder::PriceDescending, SortOrder::Newest] {
                let scored = sort == SortOrder::Relevance;
                let walk = || WordsQuery::new(&searcher, &expanded, required, scored).expect("weights").expect("words");
                // Recorded under no filter, replayed under others.
                let mut kept = WordMatches::default();
                let unfiltered = collector(&searcher, sort, None, (0, u64::MAX));
                let recorded = walk().collect_recording(&searcher, &unfiltered, Some(&mut kept)).expect("walk");
                assert_eq!(answer(&recorded), answer(&walk().collect(&searcher, &unfiltered).expect("walk")));
                assert!(recorded.count > 1_000, "{query:?} finds too little to test");
                for (category_id, prices) in [(None, (0, u64::MAX)), (Some(1), (0, u64::MAX)), (Some(2), (100, 400))] {
                    let filtered = collector(&searcher, sort, category_id, prices);
                    let replayed = kept.collect(&searcher, &filtered).expect("replay");
                    let walked = walk().collect(&searcher, &filtered).expect("walk");
                    assert_eq!(answer(&replayed), answer(&walked), "{query:?} {sort:?} {category_id:?} {prices:?}");
                }
            }
        }
    }

    #[test]
    fn kept_matches_serve_only_their_own_searcher_and_a_new_product_is_found_at_once() {
        let (index, fields, mut writer) = index();
        let reader = index.reader().expect("reader");
        let cache = MatchCache::new(64 * 1024 * 1024);
        let key =
            MatchKey { words: key_words(&["kettle"]), required: 1, scored: true, curation: 0, excluded: Vec::new() };
        let search = |searcher: &Searcher| {
            let expanded = expand_words(searcher, &fields, &words(&["kettle"])).expect("expand");
            let query = || Ok(WordsQuery::new(searcher, &expanded, 1, true)?.expect("words"));
            let collector = collector(searcher, SortOrder::Relevance, None, (0, u64::MAX));
            answer(&cache.collect(searcher, key.clone(), &collector, query).expect("search"))
        };
        let before = reader.searcher();
        let walked = search(&before);
        assert!(cache.keeps(&key, &before), "a walk of thousands of postings is kept");
        assert_eq!(search(&before), walked, "the replay answers what the walk did");

        add(&writer, &fields, 12_001); // titled `kettle`
        writer.commit().expect("commit");
        reader.reload().expect("reload");
        let after = reader.searcher();
        assert!(!cache.keeps(&key, &after));
        assert_eq!(search(&after).0, walked.0 + 1, "the next searcher's search walks and finds it");
        assert!(cache.keeps(&key, &after));
    }

    #[test]
    fn a_short_walk_is_not_kept_and_no_bytes_keep_nothing() {
        let (index, fields, _writer) = index();
        let searcher = index.reader().expect("reader").searcher();
        let run = |cache: &MatchCache, query: &[&str]| {
            let key = MatchKey {
                words: key_words(query),
                required: query.len(),
                scored: true,
                curation: 0,
                excluded: Vec::new(),
            };
            let expanded = expand_words(&searcher, &fields, &words(query)).expect("expand");
            let walk = || Ok(WordsQuery::new(&searcher, &expanded, key.required, true)?.expect("words"));
            let collector = collector(&searcher, SortOrder::Relevance, None, (0, u64::MAX));
            cache.collect(&searcher, key.clone(), &collector, walk).expect("search");
            cache.keeps(&key, &searcher)
        };
        let cache = MatchCache::new(64 * 1024 * 1024);
        assert!(run(&cache, &["kettle"]));
        assert!(!run(&cache, &["lantern"]), "`lantern` has fewer than {MIN_WALKED_POSTINGS} postings");
        assert!(!run(&MatchCache::new(0), &["kettle"]));
    }
}
