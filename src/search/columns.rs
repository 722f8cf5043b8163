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
//! Memory: 8 bytes per document and column, 32 MB at 1M products, plus 8 more per document
//! for category and price packed in one word (40 MB in all): a word search reads that one
//! array for each match's facets instead of two, 4–5 % off one- and two-word searches at 1M
//! (criterion, alternated, docs/performance.md). A segment not found here (a searcher older or
//! newer than the last refresh) is read from its columns as before.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::columnar::column_values::VecColumn;
use tantivy::columnar::{Cardinality, Column, ColumnValues};
use tantivy::index::SegmentId;
use tantivy::{Searcher, SegmentReader};

use super::carried_docs::CarriedDocs;
use super::same_lists::SameLists;

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
    /// Category id and price of each document in one word (see [`pack_fact`]), when the
    /// segment was decoded and every value fits; a word search's facets read one array, not
    /// two, for each match.
    pub facts: Option<Arc<[u64]>>,
    /// Which of the segment's stem lists repeat an exact list (learnt as searches ask).
    pub same_lists: Arc<SameLists>,
    /// Per store, which documents it carries (built as store-filtered searches ask).
    pub carried_docs: Arc<CarriedDocs>,
}

/// Bits of a packed fact (see [`pack_fact`]) that hold the price; the category takes the rest.
pub const FACT_PRICE_BITS: u32 = 48;
/// The price bits of a packed fact.
const FACT_PRICE_MASK: u64 = (1 << FACT_PRICE_BITS) - 1;

impl SegmentColumns {
    /// The segment's columns as stored: valid for any segment, decoded value by value.
    pub fn open(segment: &SegmentReader) -> tantivy::Result<Self> {
        let fast = segment.fast_fields();
        Ok(Self {
            ids: dense(fast.u64("id")?, 0),
            categories: dense(fast.u64("category_id")?, 0),
            prices: dense(fast.u64("price_cents")?, 0),
            created_at: dense(fast.i64("created_at")?, 0),
            facts: None,
            same_lists: Arc::default(),
            carried_docs: Arc::default(),
        })
    }

    /// The same values decoded into arrays.
    fn decode(segment: &SegmentReader) -> tantivy::Result<Self> {
        let stored = Self::open(segment)?;
        // Decoded once for both their own arrays and the packed facts.
        let (categories, prices) = (values(stored.categories.as_ref()), values(stored.prices.as_ref()));
        let facts = categories.iter().zip(&prices).map(|(&category, &price)| pack_fact(category, price)).collect();
        Ok(Self {
            ids: to_vec(stored.ids.as_ref()),
            categories: Arc::new(VecColumn::from(categories)),
            prices: Arc::new(VecColumn::from(prices)),
            created_at: to_vec(stored.created_at.as_ref()),
            facts,
            same_lists: Arc::default(),
            carried_docs: Arc::default(),
        })
    }
}

/// `category << 48 | price_cents`; `None` when the category needs more than 16 bits or the
/// price more than 48 (a segment with such a value has no packed facts: its two columns are
/// read as they are).
pub fn pack_fact(category: u64, price_cents: u64) -> Option<u64> {
    (category < 1 << (64 - FACT_PRICE_BITS) && price_cents <= FACT_PRICE_MASK)
        .then_some((category << FACT_PRICE_BITS) | price_cents)
}

/// The (category, price in cents) of a packed fact.
#[inline(always)]
pub fn unpack_fact(fact: u64) -> (u64, u64) {
    (fact >> FACT_PRICE_BITS, fact & FACT_PRICE_MASK)
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

    /// What the segment's searches learnt of its stem lists (nothing yet, and not kept, for a
    /// segment this refresh did not see).
    pub fn same_lists(&self, segment: &SegmentReader) -> Arc<SameLists> {
        self.segments.get(&segment.segment_id()).map(|columns| Arc::clone(&columns.same_lists)).unwrap_or_default()
    }

    /// The same columns with folding turned off (see `same_lists`), to compare the walk with
    /// and without it.
    #[cfg(test)]
    pub fn without_folding(mut self) -> Self {
        for columns in self.segments.values_mut() {
            columns.same_lists = Arc::new(SameLists::never());
        }
        self
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

fn to_vec<T>(column: &dyn ColumnValues<T>) -> Arc<dyn ColumnValues<T>>
where
    T: PartialOrd + Default + std::fmt::Debug + Send + Sync + Copy + 'static,
{
    Arc::new(VecColumn::from(values(column)))
}

/// Every value of the column, by doc id.
fn values<T>(column: &dyn ColumnValues<T>) -> Vec<T>
where
    T: PartialOrd + Default + std::fmt::Debug + Send + Sync + Copy + 'static,
{
    let mut values = vec![T::default(); column.num_vals() as usize];
    column.get_range(0, &mut values);
    values
}

#[cfg(test)]
mod tests {
    use tantivy::{IndexWriter, Term};

    use super::*;
    use crate::db::store::view_rows::ProductRow;
    use crate::search::schema::product_document;
    use crate::search::schema::{ProductFields, in_ram_index};

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
        let (index, fields, mut writer) = in_ram_index();
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
        let facts = decoded.facts.as_ref().expect("every value fits");
        let unpacked: Vec<(u64, u64)> = facts.iter().map(|&fact| unpack_fact(fact)).collect();
        let stored_facts: Vec<(u64, u64)> =
            values(&stored, segment.max_doc()).into_iter().map(|(_, category, price, _)| (category, price)).collect();
        assert_eq!(unpacked, stored_facts);

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
