//! The title order saved beside the index (`views/titles.view`) each time it is computed,
//! stamped with the catalog watermark it was read at: a start whose catalog has not changed
//! reads it back (tens of milliseconds at 1M products) instead of reading every title from
//! SQLite (about a second), so the first listings after a restart are served from memory. See
//! [`crate::view_files`] for the file itself.

use std::path::Path;

use super::{NO_RANK, TitleOrder};
use crate::view_files::{self, Section, Unusable};

/// Bumped whenever the sections below change meaning.
pub const FORMAT: u32 = 1;
/// The file under the views folder.
pub const FILE_NAME: &str = "titles.view";

impl TitleOrder {
    /// Writes the order to `path` under `stamp` (atomically); returns the bytes written.
    pub fn save(&self, path: &Path, stamp: &str) -> std::io::Result<u64> {
        view_files::write(
            path,
            FORMAT,
            stamp,
            &[
                Section::U32s(&self.by_title),
                Section::U32s(&self.rank),
                Section::Bytes(&self.folded),
                Section::U32s(&self.starts),
                Section::I64s(&self.price_cents),
                Section::I64s(&self.category_id),
            ],
        )
    }

    /// The order saved at `path`, if it is whole and stamped `expected`, as the order of
    /// catalog `generation`; every offset and id is checked to stay inside it.
    pub fn open_saved(path: &Path, expected: &str, generation: u64) -> Result<Self, Unusable> {
        let file = view_files::open(path, FORMAT, expected)?;
        let damaged = || Unusable::Damaged("title order sections");
        if file.section_count() != 6 {
            return Err(damaged());
        }
        let order = Self {
            generation,
            by_title: file.u32s(0).ok_or_else(damaged)?,
            rank: file.u32s(1).ok_or_else(damaged)?,
            folded: file.bytes(2).to_vec(),
            starts: file.u32s(3).ok_or_else(damaged)?,
            price_cents: file.i64s(4).ok_or_else(damaged)?,
            category_id: file.i64s(5).ok_or_else(damaged)?,
        };
        if order.fits() { Ok(order) } else { Err(Unusable::Damaged("title order out of range")) }
    }

    /// Whether every offset and id of an order read from disk stays inside it, and ids and
    /// ranks agree both ways.
    fn fits(&self) -> bool {
        let ids = self.rank.len();
        self.starts.len() == self.by_title.len() + 1
            && self.starts.first() == Some(&0)
            && self.starts.windows(2).all(|pair| pair[0] <= pair[1])
            && self.starts.last().map(|last| *last as usize) == Some(self.folded.len())
            && self.price_cents.len() == ids
            && self.category_id.len() == ids
            && self.by_title.iter().enumerate().all(|(rank, id)| {
                (*id as usize) < ids && u32::try_from(rank).is_ok_and(|rank| self.rank[*id as usize] == rank)
            })
            && self.rank.iter().all(|rank| *rank == NO_RANK || (*rank as usize) < self.by_title.len())
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    #[test]
    fn a_saved_order_reads_back_the_same() {
        let conn = Connection::open_in_memory().expect("in-memory db");
        conn.execute_batch(
            "CREATE TABLE products (id INTEGER PRIMARY KEY, title TEXT, price_cents INTEGER, category_id INTEGER);
             INSERT INTO products VALUES (1, 'Zebra', 5, 1), (2, 'apple', 7, 2), (4, 'Mango', 3, 1);",
        )
        .expect("rows");
        let order = TitleOrder::load(&conn, 3).expect("load");
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(FILE_NAME);
        order.save(&path, "catalog 9").expect("save");
        let read = TitleOrder::open_saved(&path, "catalog 9", 3).expect("open");
        assert_eq!(
            (&read.by_title, &read.rank, &read.folded, &read.starts),
            (&order.by_title, &order.rank, &order.folded, &order.starts)
        );
        assert_eq!((&read.price_cents, &read.category_id), (&order.price_cents, &order.category_id));
        assert!(matches!(TitleOrder::open_saved(&path, "catalog 8", 3), Err(Unusable::OtherStamp { .. })));
    }
}
