//! `count`, facets and price order checked against a brute-force computation over a seeded
//! catalog, for every combination of a grid of filters. The brute force restates the
//! contract's matching rules (every word; same word, stem, typo budget, prefix for the last
//! word; unknown words ignored; the contract's relaxation, weighing each word by its document
//! frequency) over each product's words.

use std::collections::{BTreeMap, HashMap};

use aforro::search::schema::stem_of;
use aforro::seed::{SeedOptions, seed};
use proptest::prelude::Strategy;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::helpers::{TestApp, json_with_status};

struct Product {
    id: i64,
    words: Vec<String>,
    /// The English stem of each word (tantivy's stemmer, as the index uses).
    stems: Vec<String>,
    /// The distinct words of the title, the description and the category's name, each field
    /// apart: a word's document frequency is counted per field and term, as the index does.
    fields: [Vec<String>; 3],
    price_cents: i64,
    category_id: i64,
    category: String,
}

struct Catalog {
    products: Vec<Product>,
    /// (store, product) → quantity.
    stock: HashMap<(i64, i64), i64>,
}

/// The analyser's rules, restated: split on anything not alphanumeric, fold, lowercase.
pub(crate) fn words(text: &str) -> Vec<String> {
    deunicode::deunicode(text)
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect()
}

fn load(conn: &Connection) -> Catalog {
    let mut stmt = conn
        .prepare("SELECT p.id, p.title, p.description, p.price_cents, c.id, c.name FROM products p JOIN categories c ON c.id = p.category_id")
        .expect("products");
    let products = stmt
        .query_map([], |row| {
            let (title, description, category) =
                (row.get::<_, String>(1)?, row.get::<_, String>(2)?, row.get::<_, String>(5)?);
            let words = words(&format!("{title} {description} {category}"));
            let distinct = |text: &str| {
                let mut field = self::words(text);
                field.sort_unstable();
                field.dedup();
                field
            };
            Ok(Product {
                fields: [distinct(&title), distinct(&description), distinct(&category)],
                id: row.get(0)?,
                stems: words.iter().map(|word| stem_of(word)).collect(),
                words,
                price_cents: row.get(3)?,
                category_id: row.get(4)?,
                category: row.get(5)?,
            })
        })
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    let mut stmt = conn.prepare("SELECT store_id, product_id, quantity FROM inventory").expect("inventory");
    let stock = stmt
        .query_map([], |row| Ok(((row.get(0)?, row.get(1)?), row.get(2)?)))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    Catalog { products, stock }
}

#[derive(Debug, Clone, Copy)]
enum StockFilter {
    Any,
    Store,
    StoreHasSome,
    NoStoreHasAny,
}

#[derive(Debug, Clone)]
struct Filters {
    q: Option<&'static str>,
    category: Option<&'static str>,
    price_cents: Option<(i64, i64)>,
    stock: StockFilter,
}

impl Filters {
    fn query_string(&self) -> String {
        let mut pairs: Vec<(&str, String)> = vec![("sort", "price".into())];
        if let Some(q) = self.q {
            pairs.push(("q", q.into()));
        }
        if let Some(category) = self.category {
            pairs.push(("category", category.into()));
        }
        if let Some((min, max)) = self.price_cents {
            pairs.push(("min_price", format!("{}.{:02}", min / 100, min % 100)));
            pairs.push(("max_price", format!("{}.{:02}", max / 100, max % 100)));
        }
        match self.stock {
            StockFilter::Any => {}
            StockFilter::Store => pairs.push(("store_id", "1".into())),
            StockFilter::StoreHasSome => pairs.extend([("store_id", "1".into()), ("in_stock", "true".into())]),
            StockFilter::NoStoreHasAny => pairs.push(("in_stock", "false".into())),
        }
        serde_urlencoded::to_string(pairs).expect("encodable")
    }

    /// Everything but the words.
    fn admits(&self, product: &Product, catalog: &Catalog) -> bool {
        let category_ok = self
            .category
            .is_none_or(|c| c == product.category_id.to_string() || c.eq_ignore_ascii_case(&product.category));
        let price_ok = self.price_cents.is_none_or(|(min, max)| (min..=max).contains(&product.price_cents));
        let in_store = catalog.stock.get(&(1, product.id));
        let stock_ok = match self.stock {
            StockFilter::Any => true,
            StockFilter::Store => in_store.is_some(),
            StockFilter::StoreHasSome => in_store.is_some_and(|quantity| *quantity > 0),
            StockFilter::NoStoreHasAny => {
                !catalog.stock.iter().any(|((_, id), quantity)| *id == product.id && *quantity > 0)
            }
        };
        category_ok && price_ok && stock_ok
    }

    /// The products that match: every word that matches anything in the catalog (the others
    /// are ignored), or, when none does, what the contract's relaxation leaves.
    fn matches<'a>(&self, catalog: &'a Catalog) -> Vec<&'a Product> {
        let candidates: Vec<&Product> = catalog.products.iter().filter(|p| self.admits(p, catalog)).collect();
        let Some(q) = self.q else {
            return candidates;
        };
        let mut query_words: Vec<String> = Vec::new();
        for word in words(q) {
            if !query_words.contains(&word) && query_words.len() < 8 {
                query_words.push(word);
            }
        }
        let Some(last) = query_words.len().checked_sub(1) else {
            return Vec::new();
        };
        // (word, is the query's last word), unknown words left out.
        let mut kept: Vec<(&str, bool)> = query_words
            .iter()
            .enumerate()
            .map(|(i, word)| (word.as_str(), i == last))
            .filter(|(word, is_last)| catalog.products.iter().any(|p| word_matches(word, *is_last, p)))
            .collect();
        let found = |kept: &[(&str, bool)]| -> Vec<&'a Product> {
            let all = |product: &&&Product| kept.iter().all(|(word, is_last)| word_matches(word, *is_last, product));
            candidates.iter().filter(all).copied().collect()
        };
        if kept.is_empty() {
            return Vec::new();
        }
        // Most products first, then the rightmost.
        let order = |kept: &[(&str, bool)]| {
            let mut order: Vec<usize> = (0..kept.len()).collect();
            order.sort_by_key(|&at| (std::cmp::Reverse(document_frequency(catalog, kept[at])), std::cmp::Reverse(at)));
            order
        };
        while found(&kept).is_empty() && kept.len() > 1 {
            let without = |at: usize| -> Vec<(&str, bool)> {
                kept.iter().enumerate().filter(|(i, _)| *i != at).map(|(_, word)| *word).collect()
            };
            let order = order(&kept);
            match order.iter().find(|&&at| !found(&without(at)).is_empty()) {
                Some(&at) => return found(&without(at)),
                None => kept = without(order[0]),
            }
        }
        found(&kept)
    }
}

/// Documents having each term `word` matches, summed over its distinct terms and the fields
/// (exact word, stem, typos, and prefix for the last word), as the index counts them.
fn document_frequency(catalog: &Catalog, (word, is_last): (&str, bool)) -> u64 {
    let budget = typo_budget(word);
    let stem = stem_of(word);
    let prefix = is_last && !word.chars().any(|c| c.is_ascii_digit()) && word.chars().count() >= 2;
    let mut docs = 0;
    for product in &catalog.products {
        for field in &product.fields {
            let exact = field.iter().any(|term| term == word);
            let stemmed = field.iter().any(|term| stem_of(term) == stem);
            let others = field
                .iter()
                .filter(|term| {
                    *term != word && ((budget > 0 && typos(word, term) <= budget) || (prefix && term.starts_with(word)))
                })
                .count();
            docs += u64::from(exact) + u64::from(stemmed) + others as u64;
        }
    }
    docs
}

fn typo_budget(word: &str) -> usize {
    match word.chars().count() {
        _ if word.chars().any(|c| c.is_ascii_digit()) => 0,
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// The contract's rules for one word against one product's words.
fn word_matches(word: &str, is_last: bool, product: &Product) -> bool {
    let has_digit = word.chars().any(|c| c.is_ascii_digit());
    let budget = typo_budget(word);
    let stem = stem_of(word);
    product.words.iter().zip(&product.stems).any(|(term, term_stem)| {
        term == word
            || *term_stem == stem
            || (budget > 0 && typos(word, term) <= budget)
            || (is_last && !has_digit && word.chars().count() >= 2 && term.starts_with(word))
    })
}

/// Damerau-Levenshtein distance (optimal string alignment: a swapped pair is one edit).
fn typos(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1).min(d[i][j - 1] + 1).min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

fn expected_body_parts(matches: &[&Product]) -> (Value, Vec<i64>) {
    let mut counts: BTreeMap<i64, (String, u64)> = BTreeMap::new();
    for product in matches {
        counts.entry(product.category_id).or_insert_with(|| (product.category.clone(), 0)).1 += 1;
    }
    let mut category: Vec<(i64, String, u64)> =
        counts.into_iter().map(|(id, (name, count))| (id, name, count)).collect();
    category.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    let money = |cents: i64| format!("{}.{:02}", cents / 100, cents % 100);
    let prices = matches.iter().map(|p| p.price_cents);
    let facets = json!({
        "category": category.iter().map(|(id, name, count)| json!({"id": id, "name": name, "count": count})).collect::<Vec<_>>(),
        "price": {"min": prices.clone().min().map(money), "max": prices.max().map(money)},
    });
    let mut by_price: Vec<(i64, i64)> = matches.iter().map(|p| (p.price_cents, p.id)).collect();
    by_price.sort_unstable();
    (facets, by_price.into_iter().map(|(_, id)| id).collect())
}

async fn check(app: &TestApp, catalog: &Catalog, filters: &Filters) {
    check_page(app, catalog, filters, 1, 100).await;
}

/// One page of `page_size` rows of the price order, with the count and facets of every match.
async fn check_page(app: &TestApp, catalog: &Catalog, filters: &Filters, page: usize, page_size: usize) {
    let query = format!("{}&page={page}&page_size={page_size}", filters.query_string());
    let matches = filters.matches(catalog);
    let response = app.get(&format!("/api/search/products/?{query}")).await;
    if page > 1 && (page - 1) * page_size >= matches.len() {
        json_with_status(response, StatusCode::NOT_FOUND).await; // a page past the end
        return;
    }
    let body = json_with_status(response, StatusCode::OK).await;
    let (facets, by_price) = expected_body_parts(&matches);
    let expected_page: Vec<i64> = by_price.into_iter().skip((page - 1) * page_size).take(page_size).collect();
    assert_eq!(body["count"], json!(matches.len()), "{query}");
    assert_eq!(body["facets"], facets, "{query}");
    let ids: Vec<i64> =
        body["results"].as_array().expect("results").iter().map(|r| r["id"].as_i64().expect("id")).collect();
    assert_eq!(ids, expected_page, "{query}");
}

async fn spawn_seeded_app() -> (TestApp, Catalog) {
    let app = TestApp::builder()
        .fixture(|conn| {
            let mut conn = Connection::open(conn.path().expect("file database")).expect("own connection");
            let options =
                SeedOptions { categories: 4, products: 400, stores: 3, inventory_per_store: 150, random_seed: 7 };
            seed(&mut conn, &options).expect("seed");
        })
        .spawn()
        .await;
    let catalog = load(&app.db());
    let has = |word: &str| catalog.products.iter().filter(|p| p.words.iter().any(|w| w == word)).count();
    let counts = (has("kettle"), has("steel"), has("tent"));
    assert!(counts.0 > 2 && counts.1 > 2 && counts.2 > 2, "the test's words must match something: {counts:?}");
    (app, catalog)
}

#[tokio::test]
async fn count_facets_and_order_match_a_brute_force_computation() {
    let (app, catalog) = spawn_seeded_app().await;

    for q in [
        None,
        Some("kettle"),
        Some("steel kettle"),
        Some("acme cotton tent"),
        Some("kettel"),
        Some("steel zzz"),
        Some("zzz tent steel"),
        Some("cotton steel kettle"),
    ] {
        for category in [None, Some("1"), Some("OUTDOOR")] {
            for price_cents in [None, Some((1000, 20000))] {
                for stock in
                    [StockFilter::Any, StockFilter::Store, StockFilter::StoreHasSome, StockFilter::NoStoreHasAny]
                {
                    check(&app, &catalog, &Filters { q, category, price_cents, stock }).await;
                }
            }
        }
    }
    app.shutdown().await;
}

/// Every browse without words (category, price range, store, stock), first and third page.
async fn check_browses(app: &TestApp, catalog: &Catalog) {
    for category in [None, Some("1"), Some("OUTDOOR"), Some("99")] {
        for price_cents in [None, Some((1000, 20000))] {
            for stock in [StockFilter::Any, StockFilter::Store, StockFilter::StoreHasSome, StockFilter::NoStoreHasAny] {
                let filters = Filters { q: None, category, price_cents, stock };
                check_page(app, catalog, &filters, 1, 100).await;
                check_page(app, catalog, &filters, 3, 7).await;
            }
        }
    }
}

/// Browses without words served from the precomputed price order (computed first, so no
/// request waits for it) answer what the brute force answers, also after orders empty some of
/// store 1's products.
#[tokio::test]
async fn browses_from_the_precomputed_order_match_a_brute_force_computation() {
    let (app, catalog) = spawn_seeded_app().await;
    let search = app.state.search.clone();
    tokio::task::spawn_blocking(move || search.compute_browse(aforro::search::SortOrder::PriceAscending))
        .await
        .expect("task")
        .expect("browse order");
    check_browses(&app, &catalog).await;

    let mut stocked: Vec<(i64, i64)> = catalog
        .stock
        .iter()
        .filter(|((store, _), quantity)| *store == 1 && **quantity > 0)
        .map(|((_, id), q)| (*id, *q))
        .collect();
    stocked.sort_unstable();
    for (product_id, quantity) in stocked.into_iter().take(25) {
        let order = json!({"store_id": 1, "items": [{"product_id": product_id, "quantity_requested": quantity}]});
        json_with_status(app.post_order(&order).await, StatusCode::CREATED).await;
    }
    check_browses(&app, &load(&app.db())).await;
    app.shutdown().await;
}

fn any_filters() -> impl Strategy<Value = Filters> {
    let words = [
        "kettle",
        "steel kettle",
        "acme cotton tent",
        "bamboo",
        "lamp wool",
        "zzz",
        "Élan crème",
        "kettel",
        "ket",
        "kettles",
        "stainles stel",
        "kitchen",
        "tent zzz kettle",
        "wool la",
    ];
    let categories = ["1", "2", "3", "4", "99", "OUTDOOR", "kitchen", "Nope"];
    let stock = [StockFilter::Any, StockFilter::Store, StockFilter::StoreHasSome, StockFilter::NoStoreHasAny];
    (
        proptest::option::of(proptest::sample::select(words.to_vec())),
        proptest::option::of(proptest::sample::select(categories.to_vec())),
        proptest::option::of((0i64..60_000, 0i64..100_000)).prop_map(|range| range.map(|(a, b)| (a.min(b), a.max(b)))),
        proptest::sample::select(stock.to_vec()),
    )
        .prop_map(|(q, category, price_cents, stock)| Filters { q, category, price_cents, stock })
}

#[test]
fn random_filter_combinations_match_the_brute_force_computation() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (app, catalog) = runtime.block_on(spawn_seeded_app());
    let mut runner = TestRunner::new(ProptestConfig { cases: 96, ..ProptestConfig::default() });

    let outcome = runner.run(&any_filters(), |filters| {
        runtime.block_on(check(&app, &catalog, &filters));
        Ok(())
    });
    runtime.block_on(app.shutdown());

    outcome.expect("every combination matches the brute force");
}

/// A price range without words or store, alone or with a category, in each sort, once its
/// browse order is precomputed (then counted from the price index and paged from the order:
/// binary search for the price sorts, a walk for `newest`), answers what the brute force
/// answers: wide, narrow, single-price and empty ranges, pages 1 and 3.
#[tokio::test]
async fn price_range_browses_in_every_sort_match_a_brute_force_computation() {
    use aforro::search::SortOrder;

    let (app, catalog) = spawn_seeded_app().await;
    let created_at: HashMap<i64, i64> = {
        let conn = app.db();
        let mut stmt = conn.prepare("SELECT id, created_at FROM products").expect("products");
        stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).expect("query").map(|row| row.expect("row")).collect()
    };
    let mut prices: Vec<i64> = catalog.products.iter().map(|p| p.price_cents).collect();
    prices.sort_unstable();
    let middle = prices[prices.len() / 2];
    let ranges = [(1000, 20000), (0, 1_000_000), (middle, middle), (middle - 150, middle + 150), (1, 2)];
    for (sort, name) in
        [(SortOrder::PriceAscending, "price"), (SortOrder::PriceDescending, "-price"), (SortOrder::Newest, "newest")]
    {
        let search = app.state.search.clone();
        tokio::task::spawn_blocking(move || search.compute_browse(sort)).await.expect("task").expect("browse order");
        let some_category = catalog.products[0].category_id;
        for ((min, max), category) in ranges.into_iter().flat_map(|range| [(range, None), (range, Some(some_category))])
        {
            let mut matches: Vec<&Product> = catalog
                .products
                .iter()
                .filter(|p| (min..=max).contains(&p.price_cents) && category.is_none_or(|id| p.category_id == id))
                .collect();
            let key = |p: &Product| match sort {
                SortOrder::PriceAscending => (p.price_cents, p.id),
                SortOrder::PriceDescending => (-p.price_cents, p.id),
                _ => (-created_at[&p.id], p.id),
            };
            matches.sort_by_key(|p| key(p));
            let (facets, _) = expected_body_parts(&matches);
            for (page, page_size) in [(1, 20), (3, 7)] {
                let category = category.map_or(String::new(), |id| format!("&category={id}"));
                let query = format!(
                    "sort={name}&min_price={}.{:02}&max_price={}.{:02}&page={page}&page_size={page_size}{category}",
                    min / 100,
                    min % 100,
                    max / 100,
                    max % 100
                );
                let response = app.get(&format!("/api/search/products/?{query}")).await;
                if page > 1 && (page - 1) * page_size >= matches.len() {
                    json_with_status(response, StatusCode::NOT_FOUND).await;
                    continue;
                }
                let body = json_with_status(response, StatusCode::OK).await;
                let expected: Vec<i64> =
                    matches.iter().skip((page - 1) * page_size).take(page_size).map(|p| p.id).collect();
                let ids: Vec<i64> = body["results"]
                    .as_array()
                    .expect("results")
                    .iter()
                    .map(|r| r["id"].as_i64().expect("id"))
                    .collect();
                assert_eq!((&body["count"], &body["facets"]), (&json!(matches.len()), &facets), "{query}");
                assert_eq!(ids, expected, "{query}");
            }
        }
    }
    app.shutdown().await;
}
