//! Handing the heap memory that big rebuilds freed back to the operating system, and mapping
//! saved views into memory.
//!
//! glibc's malloc gives memory back to the kernel only from the top of an arena (and whole
//! mmapped blocks). A rebuild of the autocomplete map, of a browse order or of the title
//! order allocates and frees hundreds of MiB at 1M products in mid-sized blocks, and the
//! request threads churn through their arenas all the time; freed memory below live data
//! stayed resident. The 25-minute soaks at 1M showed it as steps of RssAnon at each
//! popularity rebuild that never came back: one `malloc_trim(0)` called from gdb into a 1M
//! server of `17d3cdb` under the mixed load took RssAnon from 781 MiB to 632 MiB (2026-11-30;
//! docs/reliability.md, "Why freed memory is handed back").
//! `malloc_trim(0)` walks every arena and returns each free page in it
//! (`madvise(MADV_DONTNEED)`), so it runs after each such rebuild and once a minute on the
//! maintenance schedule.
//!
//! [`map_file`] maps a saved view (src/view_files.rs) into memory.
//!
//! These are the crate's only `unsafe` calls (an FFI call with no arguments to get wrong, and
//! a file mapping); the lint is `deny`, and `unsafe_stays_in_the_memory_module` checks that
//! no other file allows it. Elsewhere (another libc) the trim does nothing; in the
//! `mimalloc`/`jemalloc` builds it trims only what little glibc's own malloc holds.

use std::time::Instant;

/// Returns the free pages of every malloc arena to the operating system; `true` when some
/// memory was returned. Takes each arena's lock in turn (0.08–5.2 ms at 1M products: the
/// longest right after an autocomplete rebuild, logged at debug level), so it belongs after a
/// rebuild or on a schedule, not on a request's path.
pub fn release_freed_memory(after: &'static str) -> bool {
    let started = Instant::now();
    let released = release();
    tracing::debug!(after, released, elapsed_us = started.elapsed().as_micros(), "returned freed heap memory");
    released
}

/// Maps `file` read-only. The views folder is this server's own: its files are replaced by
/// rename and never written in place, so the mapped bytes cannot change under a reader (a
/// file truncated by hand while mapped would fault; the data folder's lock keeps other aforro
/// processes away).
#[expect(unsafe_code, reason = "memmap2 cannot promise that no other process writes the file")]
pub fn map_file(file: &std::fs::File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: see above: nothing writes a saved view in place while it may be mapped.
    unsafe { memmap2::Mmap::map(file) }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[expect(unsafe_code, reason = "glibc's malloc_trim has no safe binding; see the module comment")]
fn release() -> bool {
    // SAFETY: malloc_trim takes no pointers and locks glibc's arenas itself; it is safe to
    // call from any thread at any time.
    unsafe { libc::malloc_trim(0) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Memory freed below a live allocation is out of reach of glibc's own trimming at the
    /// top of the heap; only the walk through the arenas gives it back.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn memory_freed_below_live_data_is_given_back() {
        // 64 KiB blocks stay under glibc's mmap threshold, so they come from the heap.
        let blocks: Vec<Vec<u8>> = (0..1024).map(|i| vec![u8::try_from(i % 251).unwrap_or(0); 64 * 1024]).collect();
        let pinned = vec![1_u8; 64 * 1024];
        drop(blocks);
        assert!(release_freed_memory("test"), "64 MiB freed below a live block should be returned");
        assert_eq!(pinned[0], 1);
    }

    #[test]
    fn unsafe_stays_in_the_memory_module() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut offenders = Vec::new();
        let mut folders = vec![src.clone()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).expect("src is readable") {
                let path = entry.expect("a directory entry").path();
                if path.is_dir() {
                    folders.push(path);
                } else if path.extension().is_some_and(|ext| ext == "rs") && path != src.join("memory.rs") {
                    let text = std::fs::read_to_string(&path).expect("a source file");
                    if text.contains(concat!("unsafe", "_code")) || text.contains(concat!("unsafe", " {")) {
                        offenders.push(path.display().to_string());
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "unsafe outside src/memory.rs: {offenders:?}");
    }
}
