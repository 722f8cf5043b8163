//! The tantivy schema of the product index, a product's document in it, its text analyser and
//! the stamp (format, migration, catalog watermark) every commit records in its payload.

use serde::{Deserialize, Serialize};

use crate::db::store::catalog::CatalogWatermark;
use crate::db::store::view_rows::ProductRow;
use tantivy::TantivyDocument;
use tantivy::schema::{FAST, Field, INDEXED, IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
};

/// Bump when the schema, the analyser or the meaning of a field changes: an index written
/// with another format is rebuilt at start.
pub const INDEX_FORMAT_VERSION: u32 = 3;

/// Name the analyser is registered under (tantivy keeps names in the schema, not the code).
const ANALYZER_NAME: &str = "aforro_text";
/// Name of the stemming analyser of the `*_stem` fields.
const STEM_ANALYZER_NAME: &str = "aforro_stem";

/// Tokens longer than this are dropped: no product word is that long, and it bounds the
/// terms a hostile query can produce.
const MAX_TOKEN_BYTES: usize = 40;

/// The fields of the product index. Only the text fields are searched; the rest are fast
/// (columnar) fields the collector reads per matching document. Nothing is stored: result
/// rows are read from SQLite by id, so the index never serves a stale title.
#[derive(Debug, Clone, Copy)]
pub struct ProductFields {
    /// Product id: fast (read by the collector) and indexed (`delete_term` on update).
    pub id: Field,
    /// Each searchable text is indexed twice: exact (folded) terms, and English stems beside
    /// them, so `kettles` meets `kettle` while an exact match can still rank first.
    pub title: Field,
    /// The title's English stems.
    pub title_stem: Field,
    /// The description, exact terms.
    pub description: Field,
    /// The description's English stems.
    pub description_stem: Field,
    /// The category's name, so `q=kitchen` finds Kitchen products.
    pub category: Field,
    /// The category name's English stems.
    pub category_stem: Field,
    /// Fast for facets; indexed so a category filter walks that category's postings
    /// instead of scanning every document.
    pub category_id: Field,
    /// Fast for the price filter, facet and sort.
    pub price_cents: Field,
    /// Microseconds since the epoch, as in SQLite.
    pub created_at: Field,
}

impl ProductFields {
    /// Finds the fields in `schema`; `None` when it is not this format's schema.
    pub fn from_schema(schema: &Schema) -> Option<Self> {
        Some(Self {
            id: schema.get_field("id").ok()?,
            title: schema.get_field("title").ok()?,
            title_stem: schema.get_field("title_stem").ok()?,
            description: schema.get_field("description").ok()?,
            description_stem: schema.get_field("description_stem").ok()?,
            category: schema.get_field("category").ok()?,
            category_stem: schema.get_field("category_stem").ok()?,
            category_id: schema.get_field("category_id").ok()?,
            price_cents: schema.get_field("price_cents").ok()?,
            created_at: schema.get_field("created_at").ok()?,
        })
    }
}

/// The schema this build of the binary writes.
pub fn product_schema() -> Schema {
    // Frequencies without positions: BM25 needs term frequencies; we build no phrase queries,
    // so positions would only make the index bigger and the build slower.
    let text = |analyzer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default().set_tokenizer(analyzer).set_index_option(IndexRecordOption::WithFreqs),
        )
    };
    let mut builder = Schema::builder();
    builder.add_u64_field("id", INDEXED | FAST);
    for name in ["title", "description", "category"] {
        builder.add_text_field(name, text(ANALYZER_NAME));
        builder.add_text_field(&format!("{name}{STEM_SUFFIX}"), text(STEM_ANALYZER_NAME));
    }
    builder.add_u64_field("category_id", INDEXED | FAST);
    builder.add_u64_field("price_cents", FAST);
    builder.add_i64_field("created_at", FAST);
    builder.build()
}

/// Suffix of a stem field's name after its exact field's (`title_stem` beside `title`).
const STEM_SUFFIX: &str = "_stem";

/// The field whose norms (token counts per document) BM25 reads for `field`: a stem field's
/// are its exact field's, since the stem analyser rewrites each token and never adds or
/// drops one, so both hold the same counts. Reading one array for both keeps a search's
/// scoring on half the cache lines (the two are read for the same documents).
pub fn norms_field(schema: &Schema, field: Field) -> Field {
    schema
        .get_field_name(field)
        .strip_suffix(STEM_SUFFIX)
        .and_then(|exact| schema.get_field(exact).ok())
        .unwrap_or(field)
}

/// A product's document: its text fields twice (as typed and stemmed), its numbers as fast
/// fields.
pub fn product_document(product: &ProductRow<'_>, fields: &ProductFields) -> TantivyDocument {
    // Ids and prices are non-negative by the schema's CHECKs; 0 is a safe floor anyway.
    let unsigned = |value: i64| u64::try_from(value).unwrap_or(0);
    let mut document = TantivyDocument::new();
    document.add_u64(fields.id, unsigned(product.id));
    for (exact, stem, text) in [
        (fields.title, fields.title_stem, product.title),
        (fields.description, fields.description_stem, product.description),
        (fields.category, fields.category_stem, product.category),
    ] {
        document.add_text(exact, text);
        document.add_text(stem, text);
    }
    document.add_u64(fields.category_id, unsigned(product.category_id));
    document.add_u64(fields.price_cents, unsigned(product.price_cents));
    document.add_i64(fields.created_at, product.created_at);
    document
}

/// An empty in-memory index of this schema, its fields and a one-thread writer: where the
/// search modules' tests start.
#[cfg(test)]
pub fn in_ram_index() -> (tantivy::Index, ProductFields, tantivy::IndexWriter) {
    let index = tantivy::Index::create_in_ram(product_schema());
    register_analyzer(&index);
    let fields = ProductFields::from_schema(&index.schema()).expect("product schema");
    let writer = index.writer_with_num_threads(1, 50_000_000).expect("writer");
    (index, fields, writer)
}

/// Lowercase + ASCII folding, so `Élan` and `elan` are one term.
pub fn text_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// [`text_analyzer`] followed by tantivy's English (Snowball) stemmer, for the `*_stem` fields.
pub fn stem_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// The English stem of one already analysed word (`kettles` → `kettl`).
pub fn stem_of(word: &str) -> String {
    let mut analyzer = stem_analyzer();
    let mut stream = analyzer.token_stream(word);
    if stream.advance() { stream.token().text.clone() } else { word.to_owned() }
}

/// Registers the analysers on an index (created or opened: tantivy does not persist them).
pub fn register_analyzer(index: &tantivy::Index) {
    index.tokenizers().register(ANALYZER_NAME, text_analyzer());
    index.tokenizers().register(STEM_ANALYZER_NAME, stem_analyzer());
}

/// What an index was built from; stored as JSON in every commit's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexStamp {
    /// The index's field and analyser layout version (`INDEX_FORMAT_VERSION`).
    pub format: u32,
    /// The newest migration of the database the index was built from.
    pub migration: String,
    /// The lineage of the database the index was built from (see `CatalogWatermark`).
    pub lineage: String,
    /// `catalog_version` of the database when the index was last committed.
    pub catalog_version: i64,
}

impl IndexStamp {
    /// The stamp an index must carry to match a database at `watermark`.
    pub fn current(watermark: CatalogWatermark) -> Self {
        Self {
            format: INDEX_FORMAT_VERSION,
            migration: crate::db::migrate::latest_migration().to_owned(),
            lineage: watermark.lineage,
            catalog_version: watermark.version,
        }
    }

    /// The stamp as the commit payload stores it (JSON).
    pub(crate) fn to_payload(&self) -> String {
        serde_json::to_string(self).expect("a stamp of plain numbers and a string always serialises")
    }

    /// `None` for a missing or foreign payload: such an index is treated as stale.
    pub fn from_payload(payload: Option<&str>) -> Option<Self> {
        serde_json::from_str(payload?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        let mut analyzer = text_analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    #[test]
    fn the_analyzer_lowercases_and_folds_accents() {
        assert_eq!(tokens("Élève CRÈME brûlée"), ["eleve", "creme", "brulee"]);
    }

    #[test]
    fn plurals_and_gerunds_share_a_stem_and_short_words_keep_theirs() {
        assert_eq!(stem_of("kettles"), stem_of("kettle"));
        assert_eq!(stem_of("kettling"), stem_of("kettle"));
        assert_eq!(stem_of("500ml"), "500ml");
    }

    #[test]
    fn query_syntax_is_just_punctuation_to_the_analyzer() {
        assert_eq!(tokens("title:x AND (\"*"), ["title", "x", "and"]);
    }

    #[test]
    fn a_stem_field_has_exactly_the_norms_of_its_exact_field() {
        let (index, fields, mut writer) = in_ram_index();
        let long_word = "x".repeat(MAX_TOKEN_BYTES + 1);
        let texts = [
            "Kettles, kettling & KETTLE!".to_owned(),
            "Élève crème brûlée".to_owned(),
            format!("a {long_word} word too long to keep"),
            "500ml 2-pack ... ??? running runner runs".to_owned(),
            String::new(),
            "日本語 emoji 🙂 caf\u{e9}".to_owned(),
        ];
        for text in &texts {
            let mut document = tantivy::TantivyDocument::default();
            for field in [fields.title, fields.title_stem, fields.description, fields.description_stem] {
                document.add_text(field, text);
            }
            writer.add_document(document).expect("add");
        }
        writer.commit().expect("commit");
        let searcher = index.reader().expect("reader").searcher();
        let segment = &searcher.segment_readers()[0];
        let schema = index.schema();
        for (exact, stem) in [(fields.title, fields.title_stem), (fields.description, fields.description_stem)] {
            assert_eq!(norms_field(&schema, stem), exact);
            assert_eq!(norms_field(&schema, exact), exact);
            let norms = |field| segment.get_fieldnorms_reader(field).expect("norms");
            let (exact_norms, stem_norms) = (norms(exact), norms(stem));
            for doc in 0..segment.max_doc() {
                assert_eq!(exact_norms.fieldnorm(doc), stem_norms.fieldnorm(doc), "{:?}", texts[doc as usize]);
            }
        }
    }

    #[test]
    fn a_stamp_survives_its_payload_and_garbage_is_no_stamp() {
        let stamp = IndexStamp::current(CatalogWatermark { lineage: "0f1e".to_owned(), version: 42 });
        assert_eq!(IndexStamp::from_payload(Some(&stamp.to_payload())), Some(stamp));
        assert_eq!(IndexStamp::from_payload(Some("not json")), None);
        assert_eq!(IndexStamp::from_payload(None), None);
    }

    #[test]
    fn stamps_of_two_databases_at_the_same_version_differ() {
        let stamp = |lineage: &str| IndexStamp::current(CatalogWatermark { lineage: lineage.to_owned(), version: 7 });
        assert_ne!(stamp("aa"), stamp("bb"));
    }
}
