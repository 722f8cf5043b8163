//! The autocomplete map: an `fst::Map` from every normalised title word to its posting lists,
//! and the table of distinct titles those lists point into.
//!
//! Title ids *are* ranks: titles are numbered best first (more units ordered, then more
//! stock, then shorter, then alphabetical), so every posting list sorted by id is also sorted
//! best first, and the top 10 of any match is the 10 smallest ids — found without looking at
//! the thousands of other postings a 3-letter prefix matches in a million titles.

use std::cmp::Reverse;
use std::collections::HashMap;

use fst::Map;

use super::normalise::{normalise, words};
use crate::db::store::popularity::ProductPopularity;
use crate::domain::ProductId;
use crate::view_files::MappedBytes;

pub mod saved;

/// The fst's bytes: built in memory, or mapped from the saved map ([`saved`]).
pub enum FstBytes {
    /// Just built.
    Built(Vec<u8>),
    /// Read back from `views/autocomplete.view`, mapped.
    Mapped(MappedBytes),
}

impl AsRef<[u8]> for FstBytes {
    fn as_ref(&self) -> &[u8] {
        match self {
            Self::Built(bytes) => bytes,
            Self::Mapped(bytes) => bytes.as_ref(),
        }
    }
}

/// A distinct title's rank: its position in the best-first order.
pub type TitleId = u32;

/// The built map; immutable once built (a catalog change builds a new one).
pub struct SuggestMap {
    /// Normalised word → index of its posting lists in `first_starts` / `any_starts`.
    words: Map<FstBytes>,
    /// Titles whose first word is word `w`: `first_postings[first_starts[w]..first_starts[w + 1]]`.
    first_starts: Vec<u32>,
    first_postings: Vec<TitleId>,
    /// Titles containing word `w` anywhere, laid out as the first-word lists.
    any_starts: Vec<u32>,
    any_postings: Vec<TitleId>,
    /// Every distinct title, in rank order, concatenated; title `t` ends at `title_ends[t]`.
    title_text: String,
    title_ends: Vec<u32>,
    /// Product ids, sorted, and the title each had at build time (parallel to `product_ids`):
    /// a catalog change hides the old title of a changed product until the next build.
    product_ids: Vec<i64>,
    product_titles: Vec<TitleId>,
}

/// A distinct title and the popularity of all the products that carry it.
struct DistinctTitle {
    title: String,
    units_ordered: i64,
    stock: i64,
}

/// Posting lists while building, keyed by word.
#[derive(Default)]
struct WordPostings {
    first: Vec<TitleId>,
    any: Vec<TitleId>,
}

impl SuggestMap {
    /// A map with no titles (before the first build finishes).
    pub fn empty() -> Self {
        Self::build(Vec::new())
    }

    /// Builds the map from every product. Products sharing a title count as one title whose
    /// popularity is their sum.
    pub fn build(products: Vec<ProductPopularity>) -> Self {
        let (distinct, product_title_index) = distinct_titles(products);
        let rank_of = ranks(&distinct);
        let mut ranked: Vec<(TitleId, DistinctTitle)> =
            distinct.into_iter().enumerate().map(|(index, title)| (rank_of[index], title)).collect();
        ranked.sort_unstable_by_key(|(rank, _)| *rank);

        let mut title_text = String::new();
        let mut title_ends = Vec::with_capacity(ranked.len());
        let mut postings: HashMap<String, WordPostings> = HashMap::new();
        for (rank, title) in &ranked {
            title_text.push_str(&title.title);
            title_ends.push(u32::try_from(title_text.len()).expect("title text stays under 4 GiB"));
            add_postings(&mut postings, *rank, &normalise(&title.title));
        }

        let mut product_pairs: Vec<(i64, TitleId)> =
            product_title_index.into_iter().map(|(product_id, index)| (product_id.0, rank_of[index])).collect();
        product_pairs.sort_unstable();
        let (product_ids, product_titles) = product_pairs.into_iter().unzip();

        let mut sorted_words: Vec<(String, WordPostings)> = postings.into_iter().collect();
        sorted_words.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
        let words = Map::from_iter(sorted_words.iter().enumerate().map(|(index, (word, _))| (word, index as u64)))
            .expect("words are sorted and distinct, as fst requires");
        let words =
            Map::new(FstBytes::Built(words.into_fst().into_inner())).expect("the bytes of a map just built are a map");
        let (first_starts, first_postings) = pack(sorted_words.iter().map(|(_, lists)| &lists.first));
        let (any_starts, any_postings) = pack(sorted_words.iter().map(|(_, lists)| &lists.any));
        Self {
            words,
            first_starts,
            first_postings,
            any_starts,
            any_postings,
            title_text,
            title_ends,
            product_ids,
            product_titles,
        }
    }

    /// The word fst (for prefix and typo searches).
    pub fn words(&self) -> &Map<FstBytes> {
        &self.words
    }

    /// The word index of an exact word.
    pub fn word(&self, word: &str) -> Option<u64> {
        self.words.get(word)
    }

    /// Titles whose first word is word `index`, best first.
    pub fn first_word_titles(&self, index: u64) -> &[TitleId] {
        slice(&self.first_starts, &self.first_postings, index)
    }

    /// Titles containing word `index`, best first.
    pub fn any_word_titles(&self, index: u64) -> &[TitleId] {
        slice(&self.any_starts, &self.any_postings, index)
    }

    /// The title stored under `id`.
    pub fn title(&self, id: TitleId) -> &str {
        let end = self.title_ends[id as usize] as usize;
        let start = if id == 0 { 0 } else { self.title_ends[id as usize - 1] as usize };
        &self.title_text[start..end]
    }

    /// Titles in the map.
    pub fn title_count(&self) -> usize {
        self.title_ends.len()
    }

    /// The title a product had when the map was built.
    pub fn title_of_product(&self, product_id: ProductId) -> Option<TitleId> {
        self.product_ids.binary_search(&product_id.0).ok().map(|index| self.product_titles[index])
    }

    /// Bytes of heap the map holds (the fst unless it is mapped, the postings, the titles and
    /// the product index).
    pub fn memory_bytes(&self) -> usize {
        let u32s = self.first_starts.capacity()
            + self.first_postings.capacity()
            + self.any_starts.capacity()
            + self.any_postings.capacity()
            + self.title_ends.capacity()
            + self.product_titles.capacity();
        let fst = match self.words.as_fst().as_inner() {
            FstBytes::Built(bytes) => bytes.capacity(),
            FstBytes::Mapped(_) => 0,
        };
        fst + u32s * size_of::<u32>() + self.title_text.capacity() + self.product_ids.capacity() * size_of::<i64>()
    }
}

/// Groups products by exact title, summing popularity; also returns which title each product has.
///
/// The titles are moved, never copied: at 1M products a copy per title was a million small
/// allocations per rebuild, freed memory that glibc's arena then kept.
fn distinct_titles(mut products: Vec<ProductPopularity>) -> (Vec<DistinctTitle>, Vec<(ProductId, usize)>) {
    // For each distinct title: the product that first carried it, and the summed popularity.
    let mut first_carrier: Vec<(usize, i64, i64)> = Vec::new();
    let mut product_title_index = Vec::with_capacity(products.len());
    {
        let mut index_of: HashMap<&str, usize> = HashMap::with_capacity(products.len());
        for (position, product) in products.iter().enumerate() {
            let index = *index_of.entry(product.title.as_str()).or_insert_with(|| {
                first_carrier.push((position, 0, 0));
                first_carrier.len() - 1
            });
            first_carrier[index].1 += product.units_ordered;
            first_carrier[index].2 += product.stock;
            product_title_index.push((product.product_id, index));
        }
    }
    let distinct = first_carrier
        .into_iter()
        .map(|(position, units_ordered, stock)| DistinctTitle {
            title: std::mem::take(&mut products[position].title),
            units_ordered,
            stock,
        })
        .collect();
    (distinct, product_title_index)
}

/// `rank[i]` is title `i`'s position in the best-first order.
fn ranks(titles: &[DistinctTitle]) -> Vec<TitleId> {
    let mut order: Vec<usize> = (0..titles.len()).collect();
    order.sort_unstable_by_key(|&index| {
        let title = &titles[index];
        (Reverse(title.units_ordered), Reverse(title.stock), title.title.chars().count(), title.title.as_str())
    });
    let mut rank = vec![0; titles.len()];
    for (position, index) in order.into_iter().enumerate() {
        rank[index] = TitleId::try_from(position).expect("fewer than 4 billion distinct titles");
    }
    rank
}

/// Records title `rank` under each of its words once, and under its first word as first.
fn add_postings(postings: &mut HashMap<String, WordPostings>, rank: TitleId, normalised: &str) {
    for (position, word) in words(normalised).enumerate() {
        if !postings.contains_key(word) {
            postings.insert(word.to_owned(), WordPostings::default());
        }
        let lists = postings.get_mut(word).expect("inserted just above");
        if position == 0 {
            lists.first.push(rank);
        }
        // Titles arrive in rank order, so a repeated word in the same title is the last entry.
        if lists.any.last() != Some(&rank) {
            lists.any.push(rank);
        }
    }
}

/// Concatenates lists into one array plus start offsets (one more offset than lists).
fn pack<'a>(lists: impl Iterator<Item = &'a Vec<TitleId>>) -> (Vec<u32>, Vec<TitleId>) {
    let mut starts = vec![0];
    let mut packed = Vec::new();
    for list in lists {
        packed.extend_from_slice(list);
        starts.push(u32::try_from(packed.len()).expect("fewer than 4 billion postings"));
    }
    starts.shrink_to_fit();
    packed.shrink_to_fit();
    (starts, packed)
}

fn slice<'a>(starts: &[u32], postings: &'a [TitleId], index: u64) -> &'a [TitleId] {
    #[allow(clippy::cast_possible_truncation, reason = "map values are our own title positions, < titles.len()")]
    let index = index as usize;
    &postings[starts[index] as usize..starts[index + 1] as usize]
}

#[cfg(test)]
mod tests {
    use super::SuggestMap;
    use crate::db::store::popularity::ProductPopularity;
    use crate::domain::ProductId;

    fn product(id: i64, title: &str, units_ordered: i64, stock: i64) -> ProductPopularity {
        ProductPopularity { product_id: ProductId(id), title: title.to_owned(), units_ordered, stock }
    }

    #[test]
    fn titles_are_numbered_by_units_ordered_then_stock_then_length_then_alphabet() {
        let map = SuggestMap::build(vec![
            product(1, "Bb", 0, 0),
            product(2, "Aa", 0, 0),
            product(3, "Long title", 0, 5),
            product(4, "Sold", 2, 0),
            product(5, "Ccc", 0, 0),
        ]);
        let titles: Vec<&str> = (0..5).map(|id| map.title(id)).collect();
        assert_eq!(titles, ["Sold", "Long title", "Aa", "Bb", "Ccc"]);
    }

    #[test]
    fn products_sharing_a_title_make_one_title_with_summed_popularity() {
        let map = SuggestMap::build(vec![
            product(1, "Kettle", 1, 0),
            product(2, "Toaster", 2, 0),
            product(3, "Kettle", 2, 0),
        ]);
        assert_eq!(map.title_count(), 2);
        assert_eq!(map.title(0), "Kettle");
        assert_eq!(map.title_of_product(ProductId(3)), Some(0));
        assert_eq!(map.title_of_product(ProductId(9)), None);
    }

    #[test]
    fn postings_list_first_words_and_every_word_once() {
        let map = SuggestMap::build(vec![product(1, "Steel Kettle Steel", 0, 0), product(2, "Kettle", 0, 0)]);
        let steel = map.word("steel").expect("indexed");
        let kettle = map.word("kettle").expect("indexed");
        assert_eq!(map.first_word_titles(steel), [1]);
        assert_eq!(map.any_word_titles(steel), [1]);
        assert_eq!(map.first_word_titles(kettle), [0]);
        assert_eq!(map.any_word_titles(kettle), [0, 1]);
    }
}
