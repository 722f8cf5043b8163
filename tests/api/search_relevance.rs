//! Judged relevance on the seeded demo catalog: queries a shopper would type, built from the
//! catalog's own words, in classes (typos, prefixes, plurals, two-word AND, digits). Each class
//! must succeed for at least 95% of its queries; a failure message lists the class's misses.

use std::collections::{BTreeMap, BTreeSet};

use aforro::seed::{SeedOptions, seed};
use reqwest::StatusCode;
use rusqlite::Connection;
use serde_json::Value;

use crate::helpers::{TestApp, json_with_status};
use crate::search_brute_force::words;

/// Queries per class: enough for a percentage, few enough for a quick test.
const MAX_QUERIES_PER_CLASS: usize = 60;
const GOAL: f64 = 0.95;

/// Products with sizes and years, so digits have something to (not) match.
const DIGIT_PRODUCTS: &str = "
    INSERT INTO products (title, description, price_cents, category_id, created_at) VALUES
      ('Steel Bottle 500ml', 'holds 500ml of water', 1500, 1, 1),
      ('Steel Bottle 750ml', 'holds 750ml of water', 1700, 1, 2),
      ('Camp Lantern 2024', 'the 2024 model', 2500, 1, 3),
      ('Camp Lantern 2025', 'the 2025 model', 2600, 1, 4),
      ('Travel Charger 65w', 'charges at 65w', 3000, 1, 5),
      ('Travel Charger 45w', 'charges at 45w', 2800, 1, 6);";

struct Catalog {
    /// Product id → its words (title, description and category name).
    products: BTreeMap<i64, BTreeSet<String>>,
    /// Every distinct title word, and the products whose titles have it.
    title_words: BTreeMap<String, BTreeSet<i64>>,
    /// (first, last) word of every title.
    title_ends: BTreeSet<(String, String)>,
}

impl Catalog {
    fn load(conn: &Connection) -> Self {
        let mut stmt = conn
            .prepare(
                "SELECT p.id, p.title, p.description, c.name FROM products p JOIN categories c ON c.id = p.category_id",
            )
            .expect("products");
        let rows: Vec<(i64, String, String, String)> = stmt
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        let mut catalog = Self { products: BTreeMap::new(), title_words: BTreeMap::new(), title_ends: BTreeSet::new() };
        for (id, title, description, category) in rows {
            let title_words = words(&title);
            for word in &title_words {
                catalog.title_words.entry(word.clone()).or_default().insert(id);
            }
            if let (Some(first), Some(last)) = (title_words.first(), title_words.last())
                && first != last
            {
                catalog.title_ends.insert((first.clone(), last.clone()));
            }
            catalog.products.insert(id, words(&format!("{title} {description} {category}")).into_iter().collect());
        }
        catalog
    }

    fn is_word(&self, word: &str) -> bool {
        self.products.values().any(|words| words.contains(word))
    }

    fn having(&self, word: &str) -> usize {
        self.products.values().filter(|words| words.contains(word)).count()
    }

    /// Title words of only letters with a length in `lengths`, in order.
    fn plain_title_words(&self, lengths: std::ops::RangeInclusive<usize>) -> Vec<String> {
        self.title_words
            .keys()
            .filter(|word| word.chars().all(|c| c.is_ascii_lowercase()) && lengths.contains(&word.len()))
            .cloned()
            .collect()
    }
}

/// The words of a result row.
fn row_words(row: &Value) -> BTreeSet<String> {
    let text = |field: &str| row[field].as_str().unwrap_or_default().to_owned();
    words(&format!("{} {} {}", text("title"), text("description"), text("category"))).into_iter().collect()
}

async fn search(app: &TestApp, q: &str) -> Value {
    let query = serde_urlencoded::to_string([("q", q), ("page_size", "20")]).expect("encodable");
    json_with_status(app.get(&format!("/api/search/products/?{query}")).await, StatusCode::OK).await
}

fn results(body: &Value) -> &[Value] {
    body["results"].as_array().map_or(&[], Vec::as_slice)
}

/// Runs a class: `judge` says whether one query's answer succeeded.
async fn judge_class(
    app: &TestApp,
    class: &str,
    queries: Vec<(String, String)>,
    judge: impl Fn(&str, &Value) -> bool,
) -> String {
    assert!(queries.len() >= 10, "the {class} class needs queries, has {}", queries.len());
    let mut misses = Vec::new();
    // Spread over the whole (sorted) list, not its first letters.
    let total = queries.len().min(MAX_QUERIES_PER_CLASS);
    let sample = (0..total).map(|i| &queries[i * queries.len() / total]);
    for (q, intended) in sample {
        let body = search(app, q).await;
        if !judge(intended, &body) {
            misses.push(format!("{q:?} (for {intended:?}: {} results)", body["count"]));
        }
    }
    let rate = (total - misses.len()) as f64 / total as f64;
    assert!(rate >= GOAL, "{class}: {:.0}% of {total} queries succeeded; misses: {misses:?}", rate * 100.0);
    format!("{class}: {:.0}% of {total}, misses {misses:?}", rate * 100.0)
}

/// A word one typo away: deleted, transposed or substituted letter in the middle.
fn typo_variants(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    let middle = chars.len() / 2;
    let mut deleted = chars.clone();
    deleted.remove(middle);
    let mut transposed = chars.clone();
    transposed.swap(middle - 1, middle);
    let mut substituted = chars.clone();
    substituted[middle] = if chars[middle] == 'q' { 'z' } else { 'q' };
    [deleted, transposed, substituted].into_iter().map(|chars| chars.into_iter().collect()).collect()
}

fn plural(word: &str) -> String {
    if word.ends_with(['s', 'x', 'z']) || word.ends_with("ch") || word.ends_with("sh") {
        format!("{word}es")
    } else {
        format!("{word}s")
    }
}

async fn spawn_judged_app() -> (TestApp, Catalog) {
    let app = TestApp::builder()
        .fixture(|conn| {
            let mut conn = Connection::open(conn.path().expect("file database")).expect("own connection");
            let options =
                SeedOptions { categories: 12, products: 1200, stores: 3, inventory_per_store: 100, random_seed: 42 };
            seed(&mut conn, &options).expect("seed");
            conn.execute_batch(DIGIT_PRODUCTS).expect("digit products");
        })
        .spawn()
        .await;
    let catalog = Catalog::load(&app.db());
    (app, catalog)
}

#[tokio::test]
async fn each_class_of_judged_queries_succeeds_at_least_95_percent_of_the_time() {
    let (app, catalog) = spawn_judged_app().await;
    let top_has =
        |intended: &str, body: &Value| results(body).first().is_some_and(|row| row_words(row).contains(intended));
    let mut report = Vec::new();

    // One-word typos: the top result has the word meant. Variants that are words of the
    // catalog themselves are not typos, so they are left out, and so are variants shorter
    // than 5 letters: the contract (like Meilisearch's default) forgives no typo in those.
    let typos: Vec<(String, String)> = catalog
        .plain_title_words(5..=14)
        .into_iter()
        .flat_map(|word| typo_variants(&word).into_iter().map(move |typo| (typo, word.clone())))
        .filter(|(typo, word)| typo != word && typo.len() >= 5 && !catalog.is_word(typo))
        .collect();
    report.push(judge_class(&app, "one-word typo", typos, top_has).await);

    // One-word prefixes (the first 4 letters of a 6+ letter word): every product with the
    // word is found, and the top result has a word starting with the prefix.
    let prefixes: Vec<(String, String)> =
        catalog.plain_title_words(6..=20).into_iter().map(|word| (word[..4].to_owned(), word)).collect();
    report.push(
        judge_class(&app, "one-word prefix", prefixes, |intended, body| {
            let count = count_of(body);
            let prefix = &intended[..4];
            count >= catalog.having(intended)
                && results(body).first().is_some_and(|row| row_words(row).iter().any(|w| w.starts_with(prefix)))
        })
        .await,
    );

    // Plurals of title words: the top result has the singular, and none is missed.
    let plurals: Vec<(String, String)> = catalog
        .plain_title_words(4..=20)
        .into_iter()
        .filter(|word| !word.ends_with('s'))
        .map(|word| (plural(&word), word))
        .filter(|(plural, _)| !catalog.is_word(plural))
        .collect();
    report.push(
        judge_class(&app, "plural", plurals, |intended, body| {
            top_has(intended, body) && count_of(body) >= catalog.having(intended)
        })
        .await,
    );

    // Two words (a title's first and last): the top results, as many as there are products
    // with both words (up to 10), all have both.
    let pairs: Vec<(String, String)> =
        catalog.title_ends.iter().map(|(first, last)| (format!("{first} {last}"), format!("{first} {last}"))).collect();
    report.push(
        judge_class(&app, "two-word AND precision", pairs, |pair, body| {
            let (first, last) = pair.split_once(' ').expect("two words");
            let both = catalog.products.values().filter(|w| w.contains(first) && w.contains(last)).count();
            let top = &results(body)[..both.min(10).min(results(body).len())];
            top.len() == both.min(10)
                && top.iter().all(|row| row_words(row).contains(first) && row_words(row).contains(last))
        })
        .await,
    );

    // Words with digits match exactly: the word finds exactly its products, and a word one
    // edit away finds nothing.
    let mut digits = Vec::new();
    for word in ["500ml", "750ml", "2024", "2025", "65w", "45w"] {
        digits.push((word.to_owned(), word.to_owned()));
        for near in typo_variants(word).into_iter().chain([format!("{word}0"), format!("1{word}")]) {
            if !catalog.is_word(&near) {
                digits.push((near, String::new()));
            }
        }
    }
    report.push(
        judge_class(&app, "digits never fuzzy", digits, |exact, body| {
            let count = count_of(body);
            if exact.is_empty() {
                count == 0
            } else {
                count == catalog.having(exact) && results(body).iter().all(|row| row_words(row).contains(exact))
            }
        })
        .await,
    );
    eprintln!("judged relevance: {report:?}");
    app.shutdown().await;
}

/// The envelope's `count` (every search answer has one).
fn count_of(body: &Value) -> usize {
    body["count"].as_u64().and_then(|count| usize::try_from(count).ok()).expect("a count")
}
