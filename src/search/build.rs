//! Building the product index from SQLite in one pass, and deciding at start whether the
//! index on disk still matches the database.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use rusqlite::Connection;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy};

use super::schema::{IndexStamp, ProductFields, product_document, product_schema, register_analyzer};
use crate::db::store::catalog::{catalog_watermark, count_products};
use crate::db::store::view_rows::for_each_product;

/// Indexing heap per thread for a full build. Large enough that 1M products make a few
/// segments rather than dozens; freed when the build ends.
const BUILD_HEAP_BYTES_PER_THREAD: usize = 200 * 1024 * 1024;
/// More threads than this buy nothing: reading SQLite on one thread is the limit.
const MAX_BUILD_THREADS: usize = 4;
/// Products between progress updates.
const PROGRESS_STEP: u64 = 50_000;

/// Why the index on disk cannot be used as it is.
#[derive(Debug)]
pub enum Staleness {
    /// No index has been built in that folder yet.
    Missing,
    /// Tantivy could not open or read it.
    Unreadable(tantivy::TantivyError),
    /// A segment file whose checksum does not match its contents (truncated, overwritten).
    Damaged(PathBuf),
    /// Built with another field layout than this binary's.
    OtherSchema,
    /// Built by another format or migration, or before the catalog's last change.
    /// Boxed: two stamps would make every `Result<_, Staleness>` large.
    OtherStamp {
        /// The stamp the index carries (`None`: none, or one this binary cannot read).
        found: Box<Option<IndexStamp>>,
        /// The stamp the database needs.
        expected: Box<IndexStamp>,
    },
}

impl std::fmt::Display for Staleness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing => write!(f, "there is no index yet"),
            Self::Unreadable(error) => write!(f, "the index cannot be opened: {error}"),
            Self::Damaged(file) => write!(f, "the index file {} is damaged", file.display()),
            Self::OtherSchema => write!(f, "the index has another schema"),
            Self::OtherStamp { found, expected } => {
                write!(f, "the index is stamped {found:?}, the database needs {expected:?}")
            }
        }
    }
}

/// What a build did.
#[derive(Debug, Clone)]
pub struct BuildReport {
    /// Products indexed.
    pub products: u64,
    /// The stamp the new index carries.
    pub stamp: IndexStamp,
    /// How long the build took.
    pub elapsed: Duration,
}

/// Opens the index at `path` if its schema and stamp match `expected` and its files are whole.
pub fn open_if_current(path: &Path, expected: &IndexStamp) -> Result<Index, Staleness> {
    if !path.join("meta.json").exists() {
        return Err(Staleness::Missing);
    }
    let index = Index::open_in_dir(path).map_err(Staleness::Unreadable)?;
    if index.schema() != product_schema() {
        return Err(Staleness::OtherSchema);
    }
    let metas = index.load_metas().map_err(Staleness::Unreadable)?;
    let found = IndexStamp::from_payload(metas.payload.as_deref());
    if found.as_ref() != Some(expected) {
        return Err(Staleness::OtherStamp { found: Box::new(found), expected: Box::new(expected.clone()) });
    }
    crate::telemetry::start_step("search index checksums", || verify_files(path, &index))?;
    register_analyzer(&index);
    Ok(index)
}

/// A stamp vouches for what was committed, not for what is on disk now: a file truncated,
/// deleted or overwritten while the server was stopped would fail at start or, worse, in the
/// middle of a search (a 500). So every segment file's checksum is checked, and a reader is
/// opened and walked once, exactly as serving will. Costs one sequential read of the index.
fn verify_files(path: &Path, index: &Index) -> Result<(), Staleness> {
    let metas = index.load_metas().map_err(Staleness::Unreadable)?;
    // Listed for every extension a segment may have; the reader below fails on a missing one.
    for file in metas.list_segment_files().into_iter().filter(|file| path.join(file).exists()) {
        if !index.directory().validate_checksum(&file).unwrap_or(false) {
            return Err(Staleness::Damaged(file));
        }
    }
    let reader: IndexReader =
        index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into().map_err(Staleness::Unreadable)?;
    super::scan::DocsByProduct::build(&reader.searcher()).map_err(Staleness::Unreadable)?;
    Ok(())
}

/// Rebuilds the index at `path` from the database behind `conn`. Builds beside it and swaps
/// folders at the end, so a crash mid-build leaves no half index under `path`.
pub fn rebuild(conn: &Connection, path: &Path) -> anyhow::Result<BuildReport> {
    let started = Instant::now();
    let building = sibling(path, "building");
    remove_dir_if_present(&building)?;
    std::fs::create_dir_all(&building).with_context(|| format!("cannot create {}", building.display()))?;
    let index = Index::create_in_dir(&building, product_schema()).context("cannot create the index")?;
    register_analyzer(&index);
    let (products, stamp) = write_all_products(conn, &index).context("cannot index the catalog")?;
    remove_dir_if_present(path)?;
    std::fs::rename(&building, path).with_context(|| format!("cannot move the new index to {}", path.display()))?;
    Ok(BuildReport { products, stamp, elapsed: started.elapsed() })
}

/// One read transaction, so the stamp's watermark is exactly the snapshot indexed.
fn write_all_products(conn: &Connection, index: &Index) -> anyhow::Result<(u64, IndexStamp)> {
    let fields = ProductFields::from_schema(&index.schema()).expect("the index was just created with this schema");
    let threads = std::thread::available_parallelism().map_or(1, usize::from).clamp(1, MAX_BUILD_THREADS);
    let mut writer: IndexWriter = index.writer_with_num_threads(threads, threads * BUILD_HEAP_BYTES_PER_THREAD)?;
    let snapshot = conn.unchecked_transaction()?;
    let watermark = catalog_watermark(&snapshot)?;
    let total = count_products(&snapshot)?;
    let progress = crate::progress::progress_bar(u64::try_from(total).unwrap_or(0), "indexing");
    let mut done = 0;
    for_each_product(&snapshot, |product| {
        writer.add_document(product_document(&product, &fields))?;
        done += 1;
        if done % PROGRESS_STEP == 0 {
            report_progress(&progress, done);
        }
        Ok(())
    })?;
    progress.finish_and_clear();
    let stamp = IndexStamp::current(watermark);
    commit_with_stamp(&mut writer, &stamp)?;
    merge_into_one_segment(index, &mut writer)?;
    writer.wait_merging_threads()?;
    Ok((done, stamp))
}

/// Commits what the writer holds, recording what it now reflects.
pub fn commit_with_stamp(writer: &mut IndexWriter, stamp: &IndexStamp) -> tantivy::Result<()> {
    let mut commit = writer.prepare_commit()?;
    commit.set_payload(&stamp.to_payload());
    commit.commit()?;
    Ok(())
}

/// One segment searches fastest (one pass per query instead of one per segment); a full
/// build is the one moment a big merge costs nobody a request.
fn merge_into_one_segment(index: &Index, writer: &mut IndexWriter) -> tantivy::Result<()> {
    let segments = index.searchable_segment_ids()?;
    if segments.len() > 1 {
        writer.merge(&segments).wait()?;
    }
    Ok(())
}

fn report_progress(progress: &indicatif::ProgressBar, done: u64) {
    progress.set_position(done);
    let total = progress.length().unwrap_or(0);
    // Off a terminal, one line per tenth is enough to show it is moving (as `seed` does).
    let tenth = (total / 10 / PROGRESS_STEP).max(1) * PROGRESS_STEP;
    if progress.is_hidden() && done.is_multiple_of(tenth) {
        tracing::info!(done, total, "indexing");
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().map(std::ffi::OsStr::to_os_string).unwrap_or_default();
    name.push(format!(".{suffix}"));
    path.with_file_name(name)
}

fn remove_dir_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_dir_all(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(error).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}
