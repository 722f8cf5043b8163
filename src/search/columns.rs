//! The fast-field columns every search reads (product id, category, price, creation time),
//! decoded once per segment into plain arrays and kept while the segment lives.
//!
//! Why: opening a column per search and segment deserialises its codec (its block headers
//! for the blockwise-linear price column), and reading it unpacks bits per value through a
//! dynamic call; at 1M products both were a fifth of a one-word search (perf on the bench,
//! docs/performance.md). A segment's documents never change (deletions are a separate
//! bitset), so the decoded arrays stay right for as long as the segment exists; a reload
//! decodes only the segments it has not seen (a catalog change adds one small segment).
//!
//! Memory: 32 bytes per document (one row of four values), 32 MB at 1M products. A segment not found here
//! (a searcher older or newer than the last refresh) is read from its columns as before.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::columnar::{Cardinality, Column, ColumnValues};
use tantivy::index::SegmentId;
use tantivy::{Searcher, SegmentReader};

/// One segment's columns, by doc id.
#[derive(Clone)]
pub struct SegmentColumns {
    /// The product's id.
    pub ids: Arc<dyn ColumnValues<u64>>,
    /// Its category's id.
    pub categories: Arc<dyn ColumnValues<u64>>,
    /// Its price in cents.
    pub prices: Arc<dyn ColumnValues<u64>>,
    /// When it was created (microseconds).
    pub created_at: Arc<dyn ColumnValues<i64>>,
    /// The same values by document, when decoded: what a search reads at random.
    pub rows: Option<Arc<[DocValues]>>,
}

/// One document's fast-field values side by side: a search that reads them at random (the
/// matches of a word are spread over the whole segment) then misses the cache once per
/// document instead of once per column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DocValues {
    /// The product's id.
    pub product_id: u64,
    /// Its category's id.
    pub category_id: u64,
    /// Its price in cents.
    pub price_cents: u64,
    /// When it was created (microseconds).
    pub created_at: i64,
}

impl SegmentColumns {
    /// The segment's columns as stored: valid for any segment, decoded value by value.
    pub fn open(segment: &SegmentReader) -> tantivy::Result<Self> {
        let fast = segment.fast_fields();
        Ok(Self {
            ids: dense(fast.u64("id")?, 0),
            categories: dense(fast.u64("category_id")?, 0),
            prices: dense(fast.u64("price_cents")?, 0),
            created_at: dense(fast.i64("created_at")?, 0),
            rows: None,
        })
    }

    /// The same values decoded into one array of rows, which the columns then read.
    fn decode(segment: &SegmentReader) -> tantivy::Result<Self> {
        let stored = Self::open(segment)?;
        let len = segment.max_doc() as usize;
        let (mut ids, mut categories, mut prices, mut created_at) =
            (vec![0; len], vec![0; len], vec![0; len], vec![0; len]);
        stored.ids.get_range(0, &mut ids);
        stored.categories.get_range(0, &mut categories);
        stored.prices.get_range(0, &mut prices);
        stored.created_at.get_range(0, &mut created_at);
        let rows: Arc<[DocValues]> = (0..len)
            .map(|doc| DocValues {
                product_id: ids[doc],
                category_id: categories[doc],
                price_cents: prices[doc],
                created_at: created_at[doc],
            })
            .collect();
        Ok(Self {
            ids: RowColumn::<u64, ID>::over(&rows, stored.ids.as_ref()),
            categories: RowColumn::<u64, CATEGORY>::over(&rows, stored.categories.as_ref()),
            prices: RowColumn::<u64, PRICE>::over(&rows, stored.prices.as_ref()),
            created_at: RowColumn::<i64, CREATED_AT>::over(&rows, stored.created_at.as_ref()),
            rows: Some(rows),
        })
    }
}

const ID: u8 = 0;
const CATEGORY: u8 = 1;
const PRICE: u8 = 2;
const CREATED_AT: u8 = 3;

/// One field of the decoded rows, seen as a column (for the sequential scans).
struct RowColumn<T, const FIELD: u8> {
    rows: Arc<[DocValues]>,
    min: T,
    max: T,
}

impl<T, const FIELD: u8> RowColumn<T, FIELD>
where
    T: PartialOrd + Copy + Send + Sync + 'static,
    Self: ColumnValues<T>,
{
    fn over(rows: &Arc<[DocValues]>, stored: &dyn ColumnValues<T>) -> Arc<dyn ColumnValues<T>> {
        Arc::new(Self { rows: rows.clone(), min: stored.min_value(), max: stored.max_value() })
    }
}

impl<const FIELD: u8> ColumnValues<u64> for RowColumn<u64, FIELD> {
    #[inline]
    fn get_val(&self, doc: u32) -> u64 {
        let row = &self.rows[doc as usize];
        match FIELD {
            ID => row.product_id,
            CATEGORY => row.category_id,
            _ => row.price_cents,
        }
    }

    fn min_value(&self) -> u64 {
        self.min
    }

    fn max_value(&self) -> u64 {
        self.max
    }

    fn num_vals(&self) -> u32 {
        u32::try_from(self.rows.len()).unwrap_or(u32::MAX)
    }
}

impl<const FIELD: u8> ColumnValues<i64> for RowColumn<i64, FIELD> {
    #[inline]
    fn get_val(&self, doc: u32) -> i64 {
        self.rows[doc as usize].created_at
    }

    fn min_value(&self) -> i64 {
        self.min
    }

    fn max_value(&self) -> i64 {
        self.max
    }

    fn num_vals(&self) -> u32 {
        u32::try_from(self.rows.len()).unwrap_or(u32::MAX)
    }
}

/// Decoded columns of the segments of the last searcher refreshed.
#[derive(Default)]
pub struct FastColumns {
    segments: HashMap<SegmentId, SegmentColumns>,
}

impl FastColumns {
    /// The columns of `searcher`'s segments, reusing those of `previous` still there.
    pub fn refresh(previous: &Self, searcher: &Searcher) -> tantivy::Result<Self> {
        let mut segments = HashMap::with_capacity(searcher.segment_readers().len());
        for segment in searcher.segment_readers() {
            let id = segment.segment_id();
            let columns = match previous.segments.get(&id) {
                Some(columns) => columns.clone(),
                None => SegmentColumns::decode(segment)?,
            };
            segments.insert(id, columns);
        }
        Ok(Self { segments })
    }

    /// The segment's columns: decoded when this refresh saw it, else opened from the index.
    pub fn segment(&self, segment: &SegmentReader) -> tantivy::Result<SegmentColumns> {
        match self.segments.get(&segment.segment_id()) {
            Some(columns) => Ok(columns.clone()),
            None => SegmentColumns::open(segment),
        }
    }
}

/// The column's values by doc id. Every document has every field, so the column is normally
/// full and its values are read directly; the wrapper (a per-read index lookup, measured at
/// a third of a full scan's time) is only for a column that is not.
fn dense<T>(column: Column<T>, default: T) -> Arc<dyn ColumnValues<T>>
where
    T: PartialOrd + Default + std::fmt::Debug + Send + Sync + Copy + 'static,
{
    if column.get_cardinality() == Cardinality::Full { column.values } else { column.first_or_default_col(default) }
}

#[cfg(test)]
mod tests {
    use tantivy::{Index, IndexWriter, Term};

    use super::*;
    use crate::db::view_rows::ProductRow;
    use crate::search::build::product_document;
    use crate::search::schema::{ProductFields, product_schema, register_analyzer};

    fn add(writer: &IndexWriter, fields: &ProductFields, id: i64) {
        let product = ProductRow {
            id,
            title: "kettle",
            description: "steel",
            price_cents: 100 + id,
            category_id: id % 3,
            created_at: -id,
            category: "kitchen",
        };
        writer.add_document(product_document(&product, fields)).expect("add");
    }

    fn values(columns: &SegmentColumns, max_doc: u32) -> Vec<(u64, u64, u64, i64)> {
        (0..max_doc)
            .map(|doc| {
                let (ids, categories) = (&columns.ids, &columns.categories);
                (
                    ids.get_val(doc),
                    categories.get_val(doc),
                    columns.prices.get_val(doc),
                    columns.created_at.get_val(doc),
                )
            })
            .collect()
    }

    #[test]
    fn decoded_columns_equal_the_stored_ones_and_survive_only_with_their_segment() {
        let index = Index::create_in_ram(product_schema());
        register_analyzer(&index);
        let fields = ProductFields::from_schema(&index.schema()).expect("product schema");
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 50_000_000).expect("writer");
        for id in 1..=500 {
            add(&writer, &fields, id);
        }
        writer.commit().expect("first segment");
        let reader = index.reader().expect("reader");
        let first = FastColumns::refresh(&FastColumns::default(), &reader.searcher()).expect("decode");
        let searcher = reader.searcher();
        let segment = &searcher.segment_readers()[0];
        let decoded = first.segment(segment).expect("decoded");
        let stored = SegmentColumns::open(segment).expect("stored");
        assert_eq!(values(&decoded, segment.max_doc()), values(&stored, segment.max_doc()));
        assert_eq!(values(&decoded, 2)[1], (2, 2, 102, -2));
        let rows = decoded.rows.as_deref().expect("decoded rows");
        let by_row: Vec<_> = rows.iter().map(|r| (r.product_id, r.category_id, r.price_cents, r.created_at)).collect();
        assert_eq!(by_row, values(&stored, segment.max_doc()));
        assert!(stored.rows.is_none());

        // A new segment is decoded, the old one reused as is.
        writer.delete_term(Term::from_field_u64(fields.id, 7));
        add(&writer, &fields, 501);
        writer.commit().expect("second segment");
        reader.reload().expect("reload");
        let second = FastColumns::refresh(&first, &reader.searcher()).expect("refresh");
        assert_eq!(second.segments.len(), 2);
        let kept = second.segment(segment).expect("kept");
        assert!(Arc::ptr_eq(&kept.ids, &decoded.ids), "a segment still there is not decoded again");
        let searcher = reader.searcher();
        let added = searcher.segment_readers().iter().find(|s| s.segment_id() != segment.segment_id()).expect("new");
        assert_eq!(values(&second.segment(added).expect("added"), 1), vec![(501, 0, 601, -501)]);
    }
}
