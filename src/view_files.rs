//! Derived views saved beside the index (`<index-dir>/views/`), so a restart maps them instead
//! of rebuilding them: one file per view, stamped with what it was built from, checked whole
//! (length and CRC-32) before use, written atomically (temporary file, fsync, rename).
//!
//! A file is a header and sections. The header: the magic `AFVIEW01`, the view's format
//! version, the CRC-32 of everything after it, the stamp (UTF-8) and each section's length;
//! each section then starts on an 8-byte boundary. Integers are little-endian. The caller says
//! what a stamp means (a catalog watermark, the newest commit) and what each section holds;
//! [`open`] refuses a file of another format, another stamp, or whose bytes do not add up.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const MAGIC: &[u8; 8] = b"AFVIEW01";
/// Magic, format version and CRC: what the checksum does not cover.
const FIXED_HEADER: usize = 8 + 4 + 4;
/// Refuses absurd headers before allocating for them.
const MAX_SECTIONS: usize = 64;
const MAX_STAMP_BYTES: usize = 4096;

/// The folder of saved views under an `--index-dir`.
pub fn views_dir(index_dir: &Path) -> PathBuf {
    index_dir.join("views")
}

/// One section to write.
#[derive(Clone, Copy)]
pub enum Section<'a> {
    /// Raw bytes (text, an fst).
    Bytes(&'a [u8]),
    /// 32-bit integers.
    U32s(&'a [u32]),
    /// 64-bit integers.
    I64s(&'a [i64]),
}

impl Section<'_> {
    fn len(self) -> usize {
        match self {
            Self::Bytes(bytes) => bytes.len(),
            Self::U32s(values) => values.len() * 4,
            Self::I64s(values) => values.len() * 8,
        }
    }
}

/// Why a saved view cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum Unusable {
    /// Never written (or removed).
    #[error("there is no saved file")]
    Missing,
    /// The file exists but could not be read.
    #[error("the file cannot be read: {0}")]
    Unreadable(#[source] std::io::Error),
    /// Truncated, overwritten or of another kind: never trusted.
    #[error("the file is damaged: {0}")]
    Damaged(&'static str),
    /// Written by another format of this view.
    #[error("the file has format {found}, this binary reads {expected}")]
    OtherFormat {
        /// The file's.
        found: u32,
        /// This binary's.
        expected: u32,
    },
    /// Built from another state of the database (stale).
    #[error("the file is stamped {found:?}, the database is at {expected:?}")]
    OtherStamp {
        /// The file's stamp.
        found: String,
        /// What the database needs.
        expected: String,
    },
}

/// Writes `sections` to `path` under `stamp`, atomically: readers see the old file or the
/// whole new one, never a part (a crash mid-write leaves a temporary file the next write
/// replaces). Returns the bytes written.
pub fn write(path: &Path, format: u32, stamp: &str, sections: &[Section<'_>]) -> std::io::Result<u64> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temporary = path.with_extension("tmp");
    let written = write_file(&temporary, format, stamp, sections);
    let written = match written {
        Ok(bytes) => bytes,
        Err(error) => {
            drop(std::fs::remove_file(&temporary));
            return Err(error);
        }
    };
    std::fs::rename(&temporary, path)?;
    if let Some(parent) = path.parent() {
        // The rename itself must survive a power cut, or a restart finds the old file.
        File::open(parent)?.sync_all()?;
    }
    Ok(written)
}

fn write_file(path: &Path, format: u32, stamp: &str, sections: &[Section<'_>]) -> std::io::Result<u64> {
    let described = describe(stamp, sections);
    let mut crc = crc32fast::Hasher::new();
    crc.update(&described);
    let mut padding_after = Vec::with_capacity(sections.len());
    let mut offset = FIXED_HEADER + described.len();
    for section in sections {
        let padding = padding(offset);
        crc.update(&[0; 8][..padding]);
        section_chunks(*section, |chunk| crc.update(chunk));
        padding_after.push(padding);
        offset += padding + section.len();
    }
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    out.write_all(MAGIC)?;
    out.write_all(&format.to_le_bytes())?;
    out.write_all(&crc.finalize().to_le_bytes())?;
    out.write_all(&described)?;
    for (section, padding) in sections.iter().zip(padding_after) {
        out.write_all(&[0; 8][..padding])?;
        let mut result = Ok(());
        section_chunks(*section, |chunk| {
            if result.is_ok() {
                result = out.write_all(chunk);
            }
        });
        result?;
    }
    let file = out.into_inner().map_err(std::io::IntoInnerError::into_error)?;
    file.sync_all()?;
    Ok(offset as u64)
}

/// The checksummed part of the header: stamp length, section count, stamp, section lengths.
fn describe(stamp: &str, sections: &[Section<'_>]) -> Vec<u8> {
    let mut described = Vec::new();
    described.extend_from_slice(&(stamp.len() as u64).to_le_bytes());
    described.extend_from_slice(&(sections.len() as u64).to_le_bytes());
    described.extend_from_slice(stamp.as_bytes());
    for section in sections {
        described.extend_from_slice(&(section.len() as u64).to_le_bytes());
    }
    described
}

/// Bytes of zeros that bring `offset` to the next multiple of 8.
fn padding(offset: usize) -> usize {
    (8 - offset % 8) % 8
}

/// Hands a section's bytes over in chunks, without a copy of the whole section.
fn section_chunks(section: Section<'_>, mut take: impl FnMut(&[u8])) {
    const PER_CHUNK: usize = 8192;
    match section {
        Section::Bytes(bytes) => take(bytes),
        Section::U32s(values) => {
            let mut buffer = Vec::with_capacity(PER_CHUNK * 4);
            for chunk in values.chunks(PER_CHUNK) {
                buffer.clear();
                chunk.iter().for_each(|value| buffer.extend_from_slice(&value.to_le_bytes()));
                take(&buffer);
            }
        }
        Section::I64s(values) => {
            let mut buffer = Vec::with_capacity(PER_CHUNK * 8);
            for chunk in values.chunks(PER_CHUNK) {
                buffer.clear();
                chunk.iter().for_each(|value| buffer.extend_from_slice(&value.to_le_bytes()));
                take(&buffer);
            }
        }
    }
}

/// A saved view, mapped and checked: its sections are slices of the mapping.
#[derive(Clone)]
pub struct Mapped {
    map: Arc<memmap2::Mmap>,
    sections: Vec<Range<usize>>,
}

/// One section of a [`Mapped`] file, owning its share of the mapping (fst reads through it).
#[derive(Clone)]
pub struct MappedBytes {
    map: Arc<memmap2::Mmap>,
    range: Range<usize>,
}

impl AsRef<[u8]> for MappedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.map[self.range.clone()]
    }
}

/// Opens the view saved at `path` if it has this `format` and `expected` stamp and its bytes
/// add up (length and checksum).
pub fn open(path: &Path, format: u32, expected: &str) -> Result<Mapped, Unusable> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(Unusable::Missing),
        Err(error) => return Err(Unusable::Unreadable(error)),
    };
    let map = crate::memory::map_file(&file).map_err(Unusable::Unreadable)?;
    let bytes: &[u8] = &map;
    if bytes.len() < FIXED_HEADER + 16 || &bytes[..8] != MAGIC {
        return Err(Unusable::Damaged("no header"));
    }
    let found_format = read_u32(bytes, 8);
    if found_format != format {
        return Err(Unusable::OtherFormat { found: found_format, expected: format });
    }
    let crc = read_u32(bytes, 12);
    let stamp_len = usize::try_from(read_u64(bytes, 16)).map_err(|_| Unusable::Damaged("stamp length"))?;
    let count = usize::try_from(read_u64(bytes, 24)).map_err(|_| Unusable::Damaged("section count"))?;
    if stamp_len > MAX_STAMP_BYTES || count > MAX_SECTIONS {
        return Err(Unusable::Damaged("header out of range"));
    }
    let stamp_start = FIXED_HEADER + 16;
    let lengths_start = stamp_start + stamp_len;
    let mut offset = lengths_start + count * 8;
    if bytes.len() < offset {
        return Err(Unusable::Damaged("truncated header"));
    }
    let mut sections = Vec::with_capacity(count);
    for index in 0..count {
        let len = usize::try_from(read_u64(bytes, lengths_start + index * 8))
            .map_err(|_| Unusable::Damaged("section length"))?;
        offset += padding(offset);
        let end = offset.checked_add(len).ok_or(Unusable::Damaged("section length"))?;
        sections.push(offset..end);
        offset = end;
    }
    if offset != bytes.len() {
        return Err(Unusable::Damaged("length differs from its header"));
    }
    if crc32fast::hash(&bytes[FIXED_HEADER..]) != crc {
        return Err(Unusable::Damaged("checksum mismatch"));
    }
    let stamp = std::str::from_utf8(&bytes[stamp_start..lengths_start]).map_err(|_| Unusable::Damaged("stamp"))?;
    if stamp != expected {
        return Err(Unusable::OtherStamp { found: stamp.to_owned(), expected: expected.to_owned() });
    }
    Ok(Mapped { map: Arc::new(map), sections })
}

impl Mapped {
    /// How many sections the file holds.
    pub fn section_count(&self) -> usize {
        self.sections.len()
    }

    /// Section `index`'s bytes (empty when there is no such section).
    pub fn bytes(&self, index: usize) -> &[u8] {
        self.sections.get(index).map_or(&[], |range| &self.map[range.clone()])
    }

    /// Section `index` as a shared handle on the mapping.
    pub fn mapped(&self, index: usize) -> MappedBytes {
        MappedBytes { map: Arc::clone(&self.map), range: self.sections.get(index).cloned().unwrap_or(0..0) }
    }

    /// Section `index` read as 32-bit integers; `None` when its length is not a multiple of 4.
    pub fn u32s(&self, index: usize) -> Option<Vec<u32>> {
        let bytes = self.bytes(index);
        bytes.len().is_multiple_of(4).then(|| {
            bytes.chunks_exact(4).map(|chunk| u32::from_le_bytes(chunk.try_into().expect("chunks of 4"))).collect()
        })
    }

    /// Section `index` read as 64-bit integers; `None` when its length is not a multiple of 8.
    pub fn i64s(&self, index: usize) -> Option<Vec<i64>> {
        let bytes = self.bytes(index);
        bytes.len().is_multiple_of(8).then(|| {
            bytes.chunks_exact(8).map(|chunk| i64::from_le_bytes(chunk.try_into().expect("chunks of 8"))).collect()
        })
    }
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(dir: &Path) -> PathBuf {
        let path = dir.join("views").join("example.view");
        let text = "some words";
        write(&path, 3, "stamp 7", &[Section::Bytes(text.as_bytes()), Section::U32s(&[1, 2, 3]), Section::I64s(&[-5])])
            .expect("write");
        path
    }

    #[test]
    fn a_written_view_reads_back_section_by_section() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = saved(dir.path());
        let mapped = open(&path, 3, "stamp 7").expect("open");
        assert_eq!(mapped.section_count(), 3);
        assert_eq!(mapped.bytes(0), b"some words");
        assert_eq!(mapped.mapped(0).as_ref(), b"some words");
        assert_eq!(mapped.u32s(1), Some(vec![1, 2, 3]));
        assert_eq!(mapped.i64s(2), Some(vec![-5]));
        assert!(!path.with_extension("tmp").exists(), "the temporary file was renamed");
    }

    #[test]
    fn another_stamp_or_format_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = saved(dir.path());
        assert!(matches!(open(&path, 3, "stamp 8"), Err(Unusable::OtherStamp { .. })));
        assert!(matches!(open(&path, 4, "stamp 7"), Err(Unusable::OtherFormat { found: 3, expected: 4 })));
        assert!(matches!(open(&dir.path().join("none"), 3, "stamp 7"), Err(Unusable::Missing)));
    }

    #[test]
    fn a_truncated_or_flipped_file_is_damaged() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = saved(dir.path());
        let bytes = std::fs::read(&path).expect("read");
        for cut in [0, 10, bytes.len() / 2, bytes.len() - 1] {
            std::fs::write(&path, &bytes[..cut]).expect("truncate");
            assert!(matches!(open(&path, 3, "stamp 7"), Err(Unusable::Damaged(_))), "cut at {cut}");
        }
        for flip in [FIXED_HEADER + 1, bytes.len() - 3] {
            let mut flipped = bytes.clone();
            flipped[flip] ^= 0x40;
            std::fs::write(&path, &flipped).expect("flip");
            assert!(matches!(open(&path, 3, "stamp 7"), Err(Unusable::Damaged(_))), "flip at {flip}");
        }
    }
}
