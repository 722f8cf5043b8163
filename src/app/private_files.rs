//! The database and its backups hold the admin password hashes and every order: they are
//! created readable and writable by their owner only (mode 0600), whatever the umask.
//!
//! SQLite creates a new database file `0644` less the umask, so on most systems anyone on the
//! machine could read it. Creating the file first, empty and `0600`, is enough: SQLite opens an
//! empty file as a new database, and gives the `-wal` and `-shm` files it creates later the
//! database file's own permissions (`findCreateFileMode` and `unixOpenSharedMemory` in its
//! unix VFS). A file that already exists is left as its owner set it (they may have reasons),
//! with a warning when others can read it.

use std::fs::OpenOptions;
use std::io;
use std::path::Path;

/// The permissions of a file only its owner may read or write.
pub const PRIVATE_MODE: u32 = 0o600;

/// Creates `path` empty with mode [`PRIVATE_MODE`] unless it exists; returns whether it did.
pub fn create_private(path: &Path) -> io::Result<bool> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, PRIVATE_MODE);
    match options.open(path) {
        Ok(_) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(error) => Err(error),
    }
}

/// Logs a warning when the existing file at `path` can be read by its group or others.
pub fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    if let Ok(metadata) = std::fs::metadata(path) {
        let mode = std::os::unix::fs::PermissionsExt::mode(&metadata.permissions()) & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{mode:o}"),
                "the database can be read by other users of this machine (it holds the admin password \
                 hashes); `chmod 600` it and its -wal and -shm files"
            );
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
    }

    #[test]
    fn a_new_file_is_private_and_an_existing_one_is_left_alone() {
        let dir = tempfile::tempdir().expect("temp dir");
        let new = dir.path().join("new.db");
        assert!(create_private(&new).expect("create"));
        assert_eq!(mode(&new), 0o600);

        let existing = dir.path().join("existing.db");
        std::fs::write(&existing, b"kept").expect("write");
        std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o640)).expect("chmod");
        assert!(!create_private(&existing).expect("exists"));
        assert_eq!((mode(&existing), std::fs::read(&existing).expect("read")), (0o640, b"kept".to_vec()));
    }
}
