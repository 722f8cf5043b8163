//! What a search returns, and how SQLite's rows complete it (read through `db::store::view_rows`):
//! the categories name the facets, the page's product rows fill the results.
//!
//! Rows come from SQLite by id rather than from tantivy's document store: the index stays
//! small (fast fields only), and a row is always the committed one.

use std::collections::BTreeMap;

use rusqlite::Connection;
use serde::Serialize;

use super::collector::{Hit, Matches};
use super::explain::Explain;
use super::highlight::Highlight;
use crate::db::store::view_rows::product_summaries;
use crate::domain::{CategoryId, Money, ProductId, Timestamp};
use crate::error::Result;

/// One result row, as the contract shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SearchRow {
    /// The product's id.
    pub id: ProductId,
    /// Its title.
    pub title: String,
    /// Its description.
    pub description: String,
    /// Its unit price.
    pub price: Money,
    /// Its category's name.
    pub category: String,
    /// Its category's id.
    pub category_id: CategoryId,
    /// When it was created.
    pub created_at: Timestamp,
    /// Only when sorted by relevance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    /// Only with `store_id`: that store's current stock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<i64>,
    /// Only with `highlight=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub highlight: Option<Highlight>,
    /// Only with `explain=true` and words in `q`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Explain>,
}

/// Facets over every match, not just the page.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Facets {
    /// Most matches first, then by id.
    pub category: Vec<CategoryFacet>,
    /// Lowest and highest price among the matches.
    pub price: PriceFacet,
}

/// How many matches one category has.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CategoryFacet {
    /// The category's id.
    pub id: CategoryId,
    /// The category's name.
    pub name: String,
    /// Matches in this category.
    pub count: u64,
}

/// Lowest and highest price among the matches; both `null` when nothing matches.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PriceFacet {
    /// The lowest price.
    pub min: Option<Money>,
    /// The highest price.
    pub max: Option<Money>,
}

/// How `q` matched: every word, or only after ignoring or dropping words.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MatchInfo {
    /// Every word matched, or some were ignored or dropped.
    pub mode: MatchMode,
    /// The words dropped by relaxation, in query order.
    pub dropped: Vec<String>,
    /// The words that match no term of the catalog, in query order.
    pub ignored: Vec<String>,
    /// The query, ignored words left out, with each word that matched only through typos
    /// replaced by its most frequent matching term; `None` when no word needed that or no
    /// match has every corrected term.
    pub did_you_mean: Option<String>,
    /// Each query word or phrase that was expanded through a synonym set, with the synonyms
    /// that matched some product.
    pub synonyms: BTreeMap<String, Vec<String>>,
    /// The names of the search rules applied, in name order.
    pub rules: Vec<String>,
}

/// How `q`'s words matched.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MatchMode {
    /// Every word matched.
    All,
    /// Words were ignored, or dropped until something matched.
    Relaxed,
}

/// A page of results with the total and facets of the whole match set.
#[derive(Debug, Clone, Default)]
pub struct SearchResults {
    /// Matches in all (every page).
    pub count: i64,
    /// This page's rows.
    pub rows: Vec<SearchRow>,
    /// Facets over every match.
    pub facets: Facets,
    /// Only when `q` has words.
    pub match_info: Option<MatchInfo>,
}

/// The id of the category named `name`, compared case-insensitively.
pub fn category_named(categories: &BTreeMap<CategoryId, String>, name: &str) -> Option<CategoryId> {
    let wanted = name.trim().to_lowercase();
    categories.iter().find(|(_, candidate)| candidate.to_lowercase() == wanted).map(|(id, _)| *id)
}

/// The facets of `matches`, named from `categories`.
pub fn facets(matches: &Matches, categories: &BTreeMap<CategoryId, String>) -> Facets {
    let mut category: Vec<CategoryFacet> = matches
        .categories
        .iter()
        .map(|(id, count)| {
            let id = CategoryId(i64::try_from(*id).unwrap_or(i64::MAX));
            CategoryFacet { id, name: categories.get(&id).cloned().unwrap_or_default(), count: *count }
        })
        .collect();
    category.sort_by(|a, b| b.count.cmp(&a.count).then(a.id.cmp(&b.id)));
    let money = |cents: u64| Money::from_cents(i64::try_from(cents).unwrap_or(i64::MAX));
    let price = PriceFacet {
        min: matches.price_cents.map(|(min, _)| money(min)),
        max: matches.price_cents.map(|(_, max)| money(max)),
    };
    Facets { category, price }
}

/// The rows of `hits`, in the hits' order. A hit whose product is gone from SQLite (deleted
/// by another process since the index was built) is skipped rather than shown half-empty.
pub fn rows_for(conn: &Connection, hits: &[Hit], with_score: bool) -> Result<Vec<SearchRow>> {
    let ids: Vec<ProductId> =
        hits.iter().map(|hit| ProductId(i64::try_from(hit.product_id).unwrap_or(i64::MAX))).collect();
    let summaries = product_summaries(conn, &ids)?;
    let rows = hits.iter().zip(ids).zip(summaries).filter_map(|((hit, id), summary)| {
        summary.map(|summary| SearchRow {
            id,
            title: summary.title,
            description: summary.description,
            price: Money::from_cents(summary.price_cents),
            category_id: summary.category_id,
            category: summary.category,
            created_at: Timestamp::from_micros(summary.created_at),
            score: with_score.then_some(hit.score),
            quantity: hit.quantity.map(i64::from),
            highlight: None,
            explain: None,
        })
    });
    Ok(rows.collect())
}
