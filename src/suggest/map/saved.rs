//! The autocomplete map saved beside the index (`views/autocomplete.view`), stamped with the
//! catalog watermark it was built from: a restart whose catalog has not changed maps the fst
//! in place and reads the posting lists back (tens of milliseconds at 1M products) instead of
//! rebuilding (seconds). See [`crate::view_files`] for the file itself.
//!
//! Popularity (units ordered, stock) decides the ranks but is not in the stamp: between
//! builds the service only refreshes it every `--suggest-refresh-secs`, and a saved map is as
//! fresh as the last build before the stop.

use std::path::Path;

use fst::{Map, Streamer};

use super::{FstBytes, SuggestMap, TitleId};
use crate::db::store::catalog::CatalogWatermark;
use crate::view_files::{self, Section, Unusable};

/// Bumped whenever the sections below change meaning.
pub const FORMAT: u32 = 1;
/// The file under the views folder.
pub const FILE_NAME: &str = "autocomplete.view";

/// What a map built from the catalog at `watermark` is stamped with.
pub fn map_stamp(watermark: &CatalogWatermark) -> String {
    format!("lineage {} catalog {}", watermark.lineage, watermark.version)
}

impl SuggestMap {
    /// Writes the map to `path` under `stamp` (atomically); returns the bytes written.
    pub fn save(&self, path: &Path, stamp: &str) -> std::io::Result<u64> {
        view_files::write(
            path,
            FORMAT,
            stamp,
            &[
                Section::Bytes(self.words.as_fst().as_bytes()),
                Section::U32s(&self.first_starts),
                Section::U32s(&self.first_postings),
                Section::U32s(&self.any_starts),
                Section::U32s(&self.any_postings),
                Section::Bytes(self.title_text.as_bytes()),
                Section::U32s(&self.title_ends),
                Section::I64s(&self.product_ids),
                Section::U32s(&self.product_titles),
            ],
        )
    }

    /// The map saved at `path`, if it is whole and stamped `expected`: the fst stays mapped,
    /// the rest is read into memory after checking that every offset and id points inside it
    /// (so no lookup can panic on a file the checksum did not catch).
    pub fn open_saved(path: &Path, expected: &str) -> Result<Self, Unusable> {
        let file = view_files::open(path, FORMAT, expected)?;
        if file.section_count() != 9 {
            return Err(Unusable::Damaged("autocomplete sections"));
        }
        let words = Map::new(FstBytes::Mapped(file.mapped(0))).map_err(|_| Unusable::Damaged("autocomplete fst"))?;
        let u32s = |index| file.u32s(index).ok_or(Unusable::Damaged("autocomplete lists"));
        let title_text = String::from_utf8(file.bytes(5).to_vec()).map_err(|_| Unusable::Damaged("title text"))?;
        let product_ids = file.i64s(7).ok_or(Unusable::Damaged("product ids"))?;
        let map = Self {
            words,
            first_starts: u32s(1)?,
            first_postings: u32s(2)?,
            any_starts: u32s(3)?,
            any_postings: u32s(4)?,
            title_text,
            title_ends: u32s(6)?,
            product_ids,
            product_titles: u32s(8)?,
        };
        map.check().map_err(Unusable::Damaged)?;
        Ok(map)
    }

    /// Whether every offset and id of a map read from disk stays inside it.
    fn check(&self) -> Result<(), &'static str> {
        let words = self.words.len();
        let titles = self.title_ends.len();
        let lists_fit = |starts: &[u32], postings: &[TitleId]| {
            starts.len() == words + 1
                && starts.first() == Some(&0)
                && starts.windows(2).all(|pair| pair[0] <= pair[1])
                && starts.last().map(|last| *last as usize) == Some(postings.len())
                && postings.iter().all(|title| (*title as usize) < titles)
        };
        if !lists_fit(&self.first_starts, &self.first_postings) || !lists_fit(&self.any_starts, &self.any_postings) {
            return Err("posting lists out of range");
        }
        let ends_fit = self.title_ends.windows(2).all(|pair| pair[0] <= pair[1])
            && self
                .title_ends
                .last()
                .map_or(self.title_text.is_empty(), |last| *last as usize == self.title_text.len())
            && self.title_ends.iter().all(|end| self.title_text.is_char_boundary(*end as usize));
        if !ends_fit {
            return Err("title offsets out of range");
        }
        if self.product_ids.len() != self.product_titles.len()
            || !self.product_ids.windows(2).all(|pair| pair[0] < pair[1])
            || !self.product_titles.iter().all(|title| (*title as usize) < titles)
        {
            return Err("product titles out of range");
        }
        let mut stream = self.words.stream();
        while let Some((_, index)) = stream.next() {
            if !usize::try_from(index).is_ok_and(|index| index < words) {
                return Err("word index out of range");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::SuggestMap;
    use crate::db::store::popularity::ProductPopularity;
    use crate::domain::ProductId;
    use crate::view_files::Unusable;

    fn map() -> SuggestMap {
        let product = |id, title: &str, units_ordered| ProductPopularity {
            product_id: ProductId(id),
            title: title.to_owned(),
            units_ordered,
            stock: 0,
        };
        SuggestMap::build(vec![product(1, "Steel Kettle", 3), product(2, "Kettle Água", 1), product(3, "Toaster", 0)])
    }

    #[test]
    fn a_saved_map_reads_back_the_same() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("autocomplete.view");
        let built = map();
        built.save(&path, "catalog 1").expect("save");
        let read = SuggestMap::open_saved(&path, "catalog 1").expect("open");
        assert_eq!(read.title_count(), built.title_count());
        for id in 0..3 {
            assert_eq!(read.title(id), built.title(id));
        }
        let kettle = read.word("kettle").expect("a word");
        assert_eq!(read.any_word_titles(kettle), built.any_word_titles(built.word("kettle").expect("a word")));
        assert_eq!(read.title_of_product(ProductId(2)), built.title_of_product(ProductId(2)));
        assert!(matches!(SuggestMap::open_saved(&path, "catalog 2"), Err(Unusable::OtherStamp { .. })));
    }
}
