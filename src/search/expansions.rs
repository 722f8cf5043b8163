//! The expansions of recent query words, kept for the searcher they were computed on.
//!
//! A word's expansion (its stem, typo and prefix terms, see `expand`) depends only on the
//! index's term dictionaries, so it is the same for every search on one searcher, whatever
//! the filters, sort or page. Computing it runs a Levenshtein automaton and a prefix scan
//! over three dictionaries: 18 µs of a 336 µs one-word search at 1M (`q=kettle`, timed per
//! phase in the criterion bench), and the HTTP mix asks for the same few words under many
//! filter combinations that the result cache keeps apart.
//!
//! An entry is keyed by the word (and whether it was the last, which may match as a prefix)
//! and stamped with the generation of the searcher it was computed on, as the result cache
//! stamps its entries: a lookup from any other searcher is a miss and replaces it, so a
//! catalog change is seen by the next search exactly as without the cache. Bounded in bytes
//! (8 MiB) and in time (10 minutes).

use std::sync::Arc;
use std::time::Duration;

use moka::sync::Cache;
use tantivy::Searcher;

use super::expand::{WordMatch, expand_word};
use super::schema::ProductFields;

/// Bytes of words and expansions kept (as [`entry_bytes`] counts them): a two-letter prefix
/// brings some 200 terms (about 20 KiB), most words a handful.
const MAX_BYTES: u64 = 8 * 1024 * 1024;
const TIME_TO_LIVE: Duration = Duration::from_secs(600);

/// (word, is the last word).
type Key = (String, bool);

/// Cheap to clone (the cache is shared).
#[derive(Clone)]
pub struct ExpansionCache {
    entries: Cache<Key, (u64, Arc<WordMatch>)>,
}

impl Default for ExpansionCache {
    fn default() -> Self {
        let entries = Cache::builder()
            .max_capacity(MAX_BYTES)
            .weigher(|key: &Key, (_, found): &(u64, Arc<WordMatch>)| entry_bytes(key, found))
            .time_to_live(TIME_TO_LIVE)
            .build();
        Self { entries }
    }
}

impl ExpansionCache {
    /// Expands every word of `words` against `searcher`, from the cache when it holds that
    /// word for this very searcher.
    pub fn expand_words(
        &self,
        searcher: &Searcher,
        fields: &ProductFields,
        words: &[String],
    ) -> tantivy::Result<Vec<WordMatch>> {
        let last = words.len().saturating_sub(1);
        words.iter().enumerate().map(|(i, word)| self.expand_one(searcher, fields, word, i == last)).collect()
    }

    /// Expands one word (`is_last`: it may match as a prefix), from the cache when it holds
    /// it for this very searcher.
    pub fn expand_one(
        &self,
        searcher: &Searcher,
        fields: &ProductFields,
        word: &str,
        is_last: bool,
    ) -> tantivy::Result<WordMatch> {
        let generation = searcher.generation().generation_id();
        let key = (word.to_owned(), is_last);
        if let Some((stamp, found)) = self.entries.get(&key)
            && stamp == generation
        {
            return Ok(WordMatch::clone(&found));
        }
        let found = expand_word(searcher, fields, word, is_last)?;
        self.entries.insert(key, (generation, Arc::new(found.clone())));
        Ok(found)
    }
}

/// Roughly the heap bytes of an entry: the word, its terms and its alternatives.
fn entry_bytes((word, _): &Key, found: &WordMatch) -> u32 {
    let terms: usize = found.terms.iter().map(|term| term.len() + 32).sum();
    let alternatives: usize =
        found.alternatives.iter().map(|alternative| alternative.term.serialized_value_bytes().len() + 48).sum();
    let bytes = 2 * word.len() + found.stem.len() + terms + alternatives + 128;
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use tantivy::IndexWriter;

    use super::*;
    use crate::db::store::view_rows::ProductRow;
    use crate::search::expand::expand_words;
    use crate::search::schema::in_ram_index;
    use crate::search::schema::product_document;

    fn add(writer: &IndexWriter, fields: &ProductFields, id: i64, title: &str) {
        let product = ProductRow {
            id,
            title,
            description: "",
            price_cents: 100,
            category_id: 1,
            created_at: 0,
            category: "home",
        };
        writer.add_document(product_document(&product, fields)).expect("add");
    }

    fn terms(found: &[WordMatch]) -> Vec<Vec<String>> {
        found.iter().map(|word| word.terms.iter().cloned().collect()).collect()
    }

    #[test]
    fn a_cached_expansion_is_the_fresh_one_and_a_new_searcher_sees_new_terms() {
        let (index, fields, mut writer) = in_ram_index();
        add(&writer, &fields, 1, "steel kettle");
        writer.commit().expect("commit");
        let reader = index.reader().expect("reader");
        let cache = ExpansionCache::default();
        let query = ["steel".to_owned(), "kettle".to_owned()];

        let searcher = reader.searcher();
        let first = cache.expand_words(&searcher, &fields, &query).expect("expand");
        let again = cache.expand_words(&searcher, &fields, &query).expect("expand");
        let fresh = expand_words(&searcher, &fields, &query).expect("expand");
        assert_eq!(terms(&again), terms(&fresh));
        assert_eq!(terms(&first), vec![vec!["steel".to_owned()], vec!["kettle".to_owned()]]);

        // `kettles` is a typo and a prefix of `kettle`: the next searcher's expansion has it.
        add(&writer, &fields, 2, "copper kettles");
        writer.commit().expect("commit");
        reader.reload().expect("reload");
        let searcher = reader.searcher();
        let after = cache.expand_words(&searcher, &fields, &query).expect("expand");
        assert_eq!(terms(&after)[1], vec!["kettle".to_owned(), "kettles".to_owned()]);
        assert_eq!(terms(&after), terms(&expand_words(&searcher, &fields, &query).expect("expand")));
    }
}
