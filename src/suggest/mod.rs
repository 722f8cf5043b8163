//! Autocomplete for `GET /api/search/suggest/`: an fst map of title words, ranked posting
//! lists, typo tolerance, and a cache kept consistent with the catalog.
//!
//! # Layout
//! - [`normalise`](normalise::normalise): the folding titles and queries share.
//! - [`query`]: `q` parsed and split into whole words and a last prefix.
//! - [`map`]: the fst map and the title table, built from the catalog; title ids are ranks.
//! - `postings`: best-first unions and intersections of posting lists.
//! - `typo`: the words a mistyped prefix may stand for (fst's Levenshtein automaton).
//! - [`rank`]: the three groups and the order of an answer.
//! - [`overlay`]: catalog changes the published map does not include yet.
//! - `cache`: the moka answer cache, tagged by map generation.
//! - [`service`]: the handle the HTTP layer uses, the rebuild thread and the commit observer.

mod cache;
pub mod map;
pub mod normalise;
pub mod overlay;
mod postings;
pub mod query;
pub mod rank;
pub mod service;
mod typo;

#[cfg(test)]
mod reference_tests;

pub use map::SuggestMap;
pub use overlay::Overlay;
pub use query::{QueryError, SuggestQuery};
pub use rank::{MAX_SUGGESTIONS, suggest};
pub use service::SuggestService;
