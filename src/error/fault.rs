//! Storage faults: the SQLite errors that mean the data volume, not the request or the code,
//! is at fault (full, failing, read-only), each with a detail an operator can act on.
//!
//! They are answered `503` with `Retry-After` rather than `500`: the request was fine and the
//! same request succeeds once the volume is fixed, which needs no restart (SQLite rolls the
//! failed transaction back whole).

use std::fmt;

use rusqlite::ErrorCode;

/// Why the store of record cannot write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StorageFault {
    /// `SQLITE_FULL`: no space left on the data volume (or the database's size limit).
    Full,
    /// `SQLITE_IOERR` and its extended codes: the volume failed a read, write or sync.
    IoError,
    /// `SQLITE_READONLY`: the volume (or the file) cannot be written.
    ReadOnly,
}

impl StorageFault {
    /// The fault behind `error`, if it is one.
    pub fn classify(error: &rusqlite::Error) -> Option<Self> {
        match error.sqlite_error_code()? {
            ErrorCode::DiskFull => Some(Self::Full),
            ErrorCode::SystemIoFailure => Some(Self::IoError),
            ErrorCode::ReadOnly => Some(Self::ReadOnly),
            _ => None,
        }
    }

    /// The `cause` label of the failed-commit counter.
    pub fn label(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::IoError => "io_error",
            Self::ReadOnly => "read_only",
        }
    }

    /// What a person reading a 503 or `/readyz` can do about it.
    pub fn detail(self) -> &'static str {
        match self {
            Self::Full => "the data volume is full: writes fail until space is freed on it; they resume by themselves",
            Self::IoError => {
                "the data volume reports I/O errors: writes fail until it answers again; check the disk and the kernel log"
            }
            Self::ReadOnly => {
                "the data volume is read-only: writes fail until it is writable again (remount it read-write)"
            }
        }
    }
}

impl fmt::Display for StorageFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.detail())
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::ffi;

    use super::StorageFault;

    fn sqlite_error(extended_code: i32) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(extended_code), None)
    }

    #[test]
    fn full_failing_and_read_only_volumes_are_faults_and_other_errors_are_not() {
        assert_eq!(StorageFault::classify(&sqlite_error(ffi::SQLITE_FULL)), Some(StorageFault::Full));
        assert_eq!(StorageFault::classify(&sqlite_error(ffi::SQLITE_IOERR_WRITE)), Some(StorageFault::IoError));
        assert_eq!(StorageFault::classify(&sqlite_error(ffi::SQLITE_IOERR_FSYNC)), Some(StorageFault::IoError));
        assert_eq!(StorageFault::classify(&sqlite_error(ffi::SQLITE_READONLY)), Some(StorageFault::ReadOnly));
        assert_eq!(StorageFault::classify(&sqlite_error(ffi::SQLITE_CONSTRAINT_UNIQUE)), None);
        assert_eq!(StorageFault::classify(&sqlite_error(ffi::SQLITE_BUSY)), None);
        assert_eq!(StorageFault::classify(&rusqlite::Error::QueryReturnedNoRows), None);
    }

    #[test]
    fn a_full_volume_says_so_in_words() {
        assert!(StorageFault::Full.detail().starts_with("the data volume is full"));
    }
}
