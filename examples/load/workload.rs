//! One request of each workload, drawn at random from the catalog.
//!
//! Searches and suggestions follow a skewed popularity (a few words are asked for far more
//! often than most, as in real shop traffic), so the servers' caches see a realistic hit rate
//! rather than none or all.

use clap::ValueEnum;
use rand::Rng;
use rand::seq::IndexedRandom;

use crate::catalog::{Catalog, HOT_PRODUCTS_PER_STORE};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Workload {
    /// Random 1–3 line orders; half the lines ask for a store's hot products.
    Orders,
    /// Random 1–3 line holds on `/reservations/` (the orders' lines, never released): to
    /// compare a hold's cost with an order's.
    Reservations,
    /// A mix of words, filters, sorts and pages on `/api/search/products/`.
    Search,
    /// Prefixes, two-word prefixes and misspellings on `/api/search/suggest/`.
    Suggest,
    /// 10% orders, 60% searches, 30% suggestions.
    Mixed,
    /// The search mix from `--clients` clients while `--login-clients` more send admin logins,
    /// each under a new unknown name with a wrong password (so every one costs the server an
    /// Argon2 check, 19 MiB): what a login flood does to the server's memory and to the public
    /// API's latency beside it.
    LoginFlood,
}

impl Workload {
    pub(crate) fn places_orders(self) -> bool {
        matches!(self, Self::Orders | Self::Mixed)
    }
}

/// The endpoint a request exercises: results are reported per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Kind {
    Order,
    Reservation,
    Search,
    Suggest,
    Login,
}

/// An order line as sent: `(store_id, product_id, quantity)`.
pub(crate) type Line = (i64, i64, i64);

pub(crate) enum Request {
    Order { body: String, lines: Vec<Line> },
    Reservation { body: String },
    Get { kind: Kind, path_and_query: String },
    Login { body: String },
}

impl Request {
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Self::Order { .. } => Kind::Order,
            Self::Reservation { .. } => Kind::Reservation,
            Self::Get { kind, .. } => *kind,
            Self::Login { .. } => Kind::Login,
        }
    }
}

pub(crate) fn next(workload: Workload, catalog: &Catalog, rng: &mut impl Rng) -> Request {
    match workload {
        Workload::Orders => order(catalog, rng),
        Workload::Reservations => reservation(catalog, rng),
        Workload::Search => search(catalog, rng),
        Workload::Suggest => suggest(catalog, rng),
        Workload::Mixed => match rng.random_range(0..10) {
            0 => order(catalog, rng),
            1..=6 => search(catalog, rng),
            _ => suggest(catalog, rng),
        },
        // The flood's public side; its login clients draw `login` instead (see `drive`).
        Workload::LoginFlood => search(catalog, rng),
    }
}

/// An admin login under a name no account has, with a wrong password: the throttle keys it
/// afresh (a new name), so the server runs a full Argon2 check for it.
pub(crate) fn login(rng: &mut impl Rng) -> Request {
    let body = format!(r#"{{"username":"flood-{:016x}","password":"not the password"}}"#, rng.random::<u64>());
    Request::Login { body }
}

fn order(catalog: &Catalog, rng: &mut impl Rng) -> Request {
    let (body, lines) = lines_body(catalog, rng, "quantity_requested");
    Request::Order { body, lines }
}

/// A hold of the lines an order would have: the same draw, each line's units named `quantity`.
fn reservation(catalog: &Catalog, rng: &mut impl Rng) -> Request {
    let (body, _) = lines_body(catalog, rng, "quantity");
    Request::Reservation { body }
}

/// A store's 1–3 random lines (half of them its hot products) as a request body whose lines
/// name their units `quantity_field`.
fn lines_body(catalog: &Catalog, rng: &mut impl Rng, quantity_field: &str) -> (String, Vec<Line>) {
    let (store_id, products) = catalog.stores.choose(rng).expect("the catalog has stores");
    let hot = &products[..products.len().min(HOT_PRODUCTS_PER_STORE)];
    let line_count = rng.random_range(1..=3).min(products.len());
    let mut lines: Vec<Line> = Vec::with_capacity(line_count);
    while lines.len() < line_count {
        let pool = if rng.random_bool(0.5) { hot } else { products.as_slice() };
        let product_id = *pool.choose(rng).expect("stores carry products");
        if lines.iter().all(|line| line.1 != product_id) {
            lines.push((*store_id, product_id, rng.random_range(1..=3)));
        }
    }
    let items: Vec<String> = lines
        .iter()
        .map(|(_, product_id, quantity)| format!(r#"{{"product_id":{product_id},"{quantity_field}":{quantity}}}"#))
        .collect();
    let body = format!(r#"{{"store_id":{store_id},"items":[{}]}}"#, items.join(","));
    (body, lines)
}

/// A word drawn with a skew towards the most frequent ones (index ∝ u³).
fn popular_word<'a>(catalog: &'a Catalog, rng: &mut impl Rng) -> &'a str {
    let u: f64 = rng.random();
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "u is in 0..1")]
    let index = ((catalog.words.len() as f64) * u * u * u) as usize;
    &catalog.words[index.min(catalog.words.len() - 1)]
}

/// The search mix's `q`, in twentieths: one word 35%, two words 20%, one misspelt word 10%,
/// a word being typed (2-5 letters, alone or after a whole word) 15%, no words 20%.
fn search_words(catalog: &Catalog, rng: &mut impl Rng) -> Option<String> {
    match rng.random_range(0..20) {
        0..=6 => Some(popular_word(catalog, rng).to_owned()),
        7..=10 => Some(format!("{} {}", popular_word(catalog, rng), popular_word(catalog, rng))),
        11..=12 => Some(misspelt(popular_word(catalog, rng), rng)),
        13..=15 => {
            let word = popular_word(catalog, rng);
            let typed: String = word.chars().take(rng.random_range(2..=5)).collect();
            Some(if rng.random_bool(0.5) { typed } else { format!("{} {typed}", popular_word(catalog, rng)) })
        }
        _ => None,
    }
}

fn search(catalog: &Catalog, rng: &mut impl Rng) -> Request {
    let mut params: Vec<(&str, String)> = Vec::new();
    if let Some(q) = search_words(catalog, rng) {
        params.push(("q", q));
        // A fifth of the searches with words ask for highlights (a results page would).
        if rng.random_ratio(1, 5) {
            params.push(("highlight", "true".to_owned()));
        }
    }
    if rng.random_ratio(1, 5)
        && let Some((id, name)) = catalog.categories.choose(rng)
    {
        params.push(("category", if rng.random_bool(0.5) { id.to_string() } else { name.clone() }));
    }
    if rng.random_ratio(1, 5) {
        let min = rng.random_range(1..200);
        params.push(("min_price", format!("{min}.00")));
        params.push(("max_price", format!("{}.00", min + rng.random_range(10..500))));
    }
    if rng.random_ratio(3, 20) {
        let (store_id, _) = catalog.stores.choose(rng).expect("the catalog has stores");
        params.push(("store_id", store_id.to_string()));
        if rng.random_ratio(2, 3) {
            params.push(("in_stock", "true".to_owned()));
        }
    }
    if rng.random_ratio(1, 4) {
        params.push(("sort", ["price", "-price", "newest"].choose(rng).expect("non-empty").to_string()));
    }
    // Shoppers page through broad answers; a filtered one is often a single page, and a page
    // past the end is a 404 (contract), which would only measure the error path.
    if params.iter().all(|(name, _)| matches!(*name, "q" | "highlight")) && rng.random_ratio(1, 5) {
        params.push(("page", rng.random_range(2..=3).to_string()));
    }
    let query = serde_urlencoded::to_string(&params).expect("plain pairs encode");
    Request::Get { kind: Kind::Search, path_and_query: format!("/api/search/products/?{query}") }
}

fn suggest(catalog: &Catalog, rng: &mut impl Rng) -> Request {
    let word = popular_word(catalog, rng);
    let prefix: String = word.chars().take(rng.random_range(3..=word.chars().count().max(3))).collect();
    let q = match rng.random_range(0..10) {
        0..=6 => prefix,
        7..=8 => format!("{} {prefix}", popular_word(catalog, rng)),
        _ => misspelt(word, rng),
    };
    let query = serde_urlencoded::to_string([("q", q)]).expect("plain pairs encode");
    Request::Get { kind: Kind::Suggest, path_and_query: format!("/api/search/suggest/?{query}") }
}

/// The word with two neighbouring letters swapped: the commonest typing slip.
fn misspelt(word: &str, rng: &mut impl Rng) -> String {
    let mut chars: Vec<char> = word.chars().collect();
    if chars.len() >= 4 {
        let at = rng.random_range(1..chars.len() - 1);
        chars.swap(at, at + 1);
    }
    chars.into_iter().collect()
}
