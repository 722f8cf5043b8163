//! Property test: the posting-list engine answers exactly as a brute-force scan of every
//! title would, on random small catalogs and queries (ties, shared titles, typos included).

use proptest::prelude::*;

use super::normalise::{normalise, words};
use super::query::SuggestQuery;
use super::rank::{MAX_SUGGESTIONS, suggest};
use super::typo::TypoMatcher;
use super::{Overlay, SuggestMap};
use crate::db::store::popularity::ProductPopularity;
use crate::domain::ProductId;

const VOCABULARY: &[&str] =
    &["Kettle", "Kettlebell", "Steel", "Steam", "Crème", "Blender", "Blend", "Lamp", "Tent", "Tents", "Headphones"];

/// Every distinct title, ranked, then filtered group by group: the contract written plainly.
fn brute_force(products: &[ProductPopularity], query: &SuggestQuery) -> Vec<String> {
    if query.prefix().is_empty() {
        return Vec::new();
    }
    let mut titles: Vec<(String, i64, i64)> = Vec::new();
    for product in products {
        match titles.iter_mut().find(|(title, _, _)| *title == product.title) {
            Some(entry) => (entry.1, entry.2) = (entry.1 + product.units_ordered, entry.2 + product.stock),
            None => titles.push((product.title.clone(), product.units_ordered, product.stock)),
        }
    }
    titles.sort_by_key(|(title, units, stock)| (-units, -stock, title.chars().count(), title.clone()));
    let typo = TypoMatcher::new(query.prefix());
    let has_whole_words = |normalised: &str| query.whole_words().all(|wanted| words(normalised).any(|w| w == wanted));
    let groups: [&dyn Fn(&str) -> bool; 3] = [
        &|normalised| normalised.starts_with(query.normalised()),
        &|normalised| has_whole_words(normalised) && words(normalised).any(|w| w.starts_with(query.prefix())),
        &|normalised| {
            has_whole_words(normalised) && typo.as_ref().is_some_and(|typo| words(normalised).any(|w| typo.matches(w)))
        },
    ];
    let mut results: Vec<String> = Vec::new();
    for in_group in groups {
        for (title, _, _) in &titles {
            if in_group(&normalise(title)) && !results.contains(title) {
                results.push(title.clone());
            }
        }
    }
    results.truncate(MAX_SUGGESTIONS);
    results
}

fn catalog() -> impl Strategy<Value = Vec<ProductPopularity>> {
    let title = prop::collection::vec(prop::sample::select(VOCABULARY), 1..4).prop_map(|words| words.join(" "));
    prop::collection::vec((title, 0..3i64, 0..3i64), 0..40).prop_map(|rows| {
        rows.into_iter()
            .zip(1..)
            .map(|((title, units_ordered, stock), id)| ProductPopularity {
                product_id: ProductId(id),
                title,
                units_ordered,
                stock,
            })
            .collect()
    })
}

/// Whole words, then a prefix of a word, sometimes with one letter dropped or swapped.
fn query_text() -> impl Strategy<Value = String> {
    let whole = prop::collection::vec(prop::sample::select(VOCABULARY), 0..2);
    (whole, prop::sample::select(VOCABULARY), 1..12usize, 0..3u8).prop_map(|(whole, last, keep, mistake)| {
        let mut prefix: Vec<char> = last.chars().take(keep).collect();
        if prefix.len() > 5 {
            match mistake {
                1 => drop(prefix.remove(2)),
                2 => prefix.swap(2, 3),
                _ => {}
            }
        }
        let mut text = whole.join(" ");
        text.push(' ');
        text.extend(prefix);
        text
    })
}

proptest! {
    #[test]
    fn the_engine_answers_like_a_brute_force_scan(products in catalog(), text in query_text()) {
        let Ok(query) = SuggestQuery::parse(Some(&text)) else { return Ok(()) };
        let map = SuggestMap::build(products.clone());
        prop_assert_eq!(suggest(&map, &Overlay::default(), &query), brute_force(&products, &query), "q={:?}", text);
    }
}
