//! Keeping the derived views in step with the database: the writer calls
//! [`SearchIndex::committed`] after each commit and before replying, so the client that made
//! a change, and everyone after it, searches a view that already has it.
//!
//! Stock changes are atomic stores into the stock view (microseconds). Catalog changes are
//! re-read from SQLite, replaced in tantivy (`delete_term` + `add_document`), committed with
//! the new watermark and made visible by reloading the reader: milliseconds, and catalog
//! writes are rare.

use std::sync::atomic::Ordering;

use rusqlite::Connection;
use tantivy::{IndexWriter, Term};

use super::SearchIndex;
use super::build::commit_with_stamp;
use super::columns::FastColumns;
use super::scan::DocsByProduct;
use super::schema::product_document;
use super::schema::{IndexStamp, ProductFields};
use crate::db::records::{CommitEffects, CommitObserver};
use crate::db::store::catalog::catalog_watermark;
use crate::db::store::view_rows::{category_names, products_in_categories, with_product};
use crate::domain::{CategoryId, ProductId};
use crate::error::{Error, Result};
use crate::locking::lock;

impl CommitObserver for SearchIndex {
    fn committed(&self, effects: &CommitEffects) {
        self.inner.stock.apply(&effects.stock_changes);
        self.inner.stock.apply_thresholds(&effects.threshold_changes);
        self.inner.stock.remove(&effects.removed_inventory);
        self.inner.stock.apply_held(&effects.held_changes);
        // A category change alone still goes through the reindex: it commits the new catalog
        // watermark and bumps the generation, so no cached result shows the old name.
        if effects.changed_products.is_empty() && !effects.categories_changed {
            return;
        }
        let mut changed = effects.changed_products.clone();
        if effects.categories_changed {
            match self.products_of_renamed_categories() {
                Ok(products) => changed.extend(products),
                Err(error) => {
                    tracing::error!(%error, "cannot find the products of renamed categories");
                    self.inner.in_sync.store(false, Ordering::Relaxed);
                }
            }
        }
        if let Err(error) = self.reindex_products(&changed) {
            // The commit stands; the index is behind until the next start rebuilds it.
            tracing::error!(%error, "cannot apply catalog changes to the search index");
            self.inner.in_sync.store(false, Ordering::Relaxed);
        }
    }
}

impl SearchIndex {
    /// The products whose category's name differs from the one their documents carry
    /// (category names are searchable, so a rename must reach every product of it); records
    /// the current names.
    fn products_of_renamed_categories(&self) -> Result<Vec<ProductId>> {
        let mut indexed = lock(&self.inner.category_names);
        self.inner.reads.run_blocking(|conn| {
            let current = category_names(conn)?;
            let renamed: Vec<CategoryId> =
                current.iter().filter(|(id, name)| indexed.get(id) != Some(*name)).map(|(id, _)| *id).collect();
            let products = products_in_categories(conn, &renamed)?;
            *indexed = current;
            Ok(products)
        })
    }

    /// [`SearchIndex::reindex_products`].
    pub(super) fn apply_reindex(&self, product_ids: &[ProductId]) -> Result<()> {
        let inner = &self.inner;
        let mut writer = lock(&inner.writer);
        let stamp = inner.reads.run_blocking(|conn| {
            for product_id in product_ids {
                replace_document(conn, &writer, &inner.fields, *product_id)?;
            }
            Ok(IndexStamp::current(catalog_watermark(conn)?))
        })?;
        commit_with_stamp(&mut writer, &stamp).map_err(index_error)?;
        let reloaded = inner.reader.reload().map_err(index_error);
        // One searcher for both views, so they describe the same segments.
        let searcher = inner.reader.searcher();
        match DocsByProduct::build(&searcher) {
            Ok(docs) => inner.docs_by_product.store(std::sync::Arc::new(docs)),
            // Searches notice the stale table by its generation and take the general path.
            Err(error) => tracing::error!(%error, "cannot map products to documents"),
        }
        match FastColumns::refresh(&inner.columns.load(), &searcher) {
            Ok(columns) => inner.columns.store(std::sync::Arc::new(columns)),
            // Segments missing from the old columns are read from the index instead.
            Err(error) => tracing::error!(%error, "cannot decode the fast-field columns"),
        }
        // Bumped even if the reload failed: cached results from before this change must go.
        inner.catalog_generation.fetch_add(1, Ordering::Release);
        reloaded
    }
}

/// Deletes the product's document and adds it again from its row (if the row still exists).
fn replace_document(
    conn: &Connection,
    writer: &IndexWriter,
    fields: &ProductFields,
    product_id: ProductId,
) -> Result<()> {
    let id =
        u64::try_from(product_id.0).map_err(|_| Error::Invariant(format!("product id {product_id} is negative")))?;
    writer.delete_term(Term::from_field_u64(fields.id, id));
    with_product(conn, product_id, |product| {
        writer.add_document(product_document(&product, fields)).map_err(index_error)?;
        Ok(())
    })?;
    Ok(())
}

fn index_error(error: tantivy::TantivyError) -> Error {
    Error::Index(error)
}
