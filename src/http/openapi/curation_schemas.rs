//! The search administration's shapes as OpenAPI schemas: synonym sets and search rules.

#![allow(dead_code)] // Fields are read by the schema derive, never by code.

use utoipa::ToSchema;

/// A synonym set: multi-way (no `root`: each entry finds the others) or one-way (`root` finds
/// the entries, not the reverse). Entries are 1 to 3 words.
#[derive(ToSchema)]
#[schema(as = SynonymSet)]
pub struct SynonymSetDoc {
    /// 1..=64 of `a-z 0-9 _ -` (the path's name).
    name: String,
    /// The one-way set's source entry, or null.
    root: Option<String>,
    /// 2..=20 entries (1..=20 with a root).
    #[schema(min_items = 1, max_items = 20)]
    synonyms: Vec<String>,
}

/// `PUT /api/admin/synonyms/<name>/` body.
#[derive(ToSchema)]
pub struct SynonymSetBody {
    /// One-way sets only.
    root: Option<String>,
    #[schema(min_items = 1, max_items = 20)]
    synonyms: Vec<String>,
}

/// A page of synonym sets, by name.
#[derive(ToSchema)]
pub struct SynonymSetPage {
    count: i64,
    #[schema(format = "uri")]
    next: Option<String>,
    #[schema(format = "uri")]
    previous: Option<String>,
    results: Vec<SynonymSetDoc>,
}

/// A pinned product and its 1-based place.
#[derive(ToSchema)]
pub struct PinDoc {
    product_id: i64,
    #[schema(minimum = 1)]
    position: u32,
}

/// A search rule (curation).
#[derive(ToSchema)]
#[schema(as = SearchRule)]
pub struct SearchRuleDoc {
    name: String,
    /// The words it is about.
    query: String,
    /// `exact` or `contains` (whole consecutive words of the normalised `q`).
    #[schema(rename = "match", pattern = "^(exact|contains)$")]
    match_kind: String,
    /// At most 100.
    pin: Vec<PinDoc>,
    /// At most 1,000 product ids.
    hide: Vec<i64>,
    active_from: Option<String>,
    active_until: Option<String>,
}

/// `PUT /api/admin/search-rules/<name>/` body.
#[derive(ToSchema)]
pub struct SearchRuleBody {
    query: String,
    #[schema(rename = "match", pattern = "^(exact|contains)$")]
    match_kind: Option<String>,
    pin: Option<Vec<PinDoc>>,
    hide: Option<Vec<i64>>,
    active_from: Option<String>,
    active_until: Option<String>,
}

/// A page of search rules, by name.
#[derive(ToSchema)]
pub struct SearchRulePage {
    count: i64,
    #[schema(format = "uri")]
    next: Option<String>,
    #[schema(format = "uri")]
    previous: Option<String>,
    results: Vec<SearchRuleDoc>,
}
