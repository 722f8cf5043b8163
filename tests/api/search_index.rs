//! The search index's lifecycle: built when missing, rebuilt when it no longer matches the
//! database, reused when it does.

use std::collections::BTreeSet;
use std::path::Path;

use aforro::app::open_store;
use aforro::config::Config;
use aforro::search::{SearchIndex, index_path};

use crate::helpers::small_catalog;

fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .expect("index folder")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

/// A migrated database with the small catalog, in a fresh folder.
fn store_with_small_catalog() -> (tempfile::TempDir, Config) {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = Config::in_dir(dir.path());
    let store = open_store(&config).expect("open store");
    small_catalog(&store.write_conn);
    (dir, config)
}

fn open_index(config: &Config) -> SearchIndex {
    let store = open_store(config).expect("open store");
    SearchIndex::open(&config.index_dir, store.reads, config.match_cache_bytes()).expect("open index")
}

#[test]
fn the_index_is_built_at_start_and_rebuilt_when_its_folder_is_deleted() {
    let (_dir, config) = store_with_small_catalog();
    assert_eq!(open_index(&config).num_docs(), 5);

    std::fs::remove_dir_all(index_path(&config.index_dir)).expect("delete the index");

    assert_eq!(open_index(&config).num_docs(), 5);
}

#[test]
fn a_current_index_is_reused_as_it_is() {
    let (_dir, config) = store_with_small_catalog();
    drop(open_index(&config));
    let before = files_in(&index_path(&config.index_dir));

    let index = open_index(&config);

    assert_eq!(files_in(&index_path(&config.index_dir)), before);
    assert_eq!(index.num_docs(), 5);
}

#[test]
fn a_catalog_changed_behind_the_index_is_noticed_by_its_watermark() {
    let (_dir, config) = store_with_small_catalog();
    drop(open_index(&config));

    let store = open_store(&config).expect("open store");
    store.write_conn.execute("INSERT INTO products VALUES (6, 'Late Arrival', '', 100, 1, 6000)", []).expect("insert");
    drop(store);

    assert_eq!(open_index(&config).num_docs(), 6);
}

#[test]
fn garbage_in_the_index_folder_is_replaced_by_a_fresh_index() {
    let (_dir, config) = store_with_small_catalog();
    let path = index_path(&config.index_dir);
    std::fs::create_dir_all(&path).expect("folder");
    std::fs::write(path.join("meta.json"), "{not json").expect("garbage");

    assert_eq!(open_index(&config).num_docs(), 5);
}
