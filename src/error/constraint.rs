//! Constraint violations: a write the database refused because a row would break one of the
//! schema's rules (`CHECK`, `NOT NULL`, `UNIQUE`, a foreign key). The parsers in `domain` and
//! the named writes in `db` check what they can first, with a field named; this is the net
//! under them, so a rule they missed is the client's `400`/`409` with SQLite's own words for
//! the rule, never a `500`.

use std::fmt;

use rusqlite::ErrorCode;
use rusqlite::ffi;

/// Which kind of rule a write broke: it decides the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConstraintKind {
    /// `CHECK` or `NOT NULL`: a value the table does not take (400).
    Invalid,
    /// `UNIQUE` or `PRIMARY KEY`: a row like it exists already (409).
    Duplicate,
    /// A foreign key: the row names one that does not exist, or one still named elsewhere (409).
    Reference,
}

/// A write the database refused by one of its constraints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstraintViolation {
    /// Which kind of rule.
    pub kind: ConstraintKind,
    /// SQLite's message, e.g. `UNIQUE constraint failed: categories.name`: it names the rule
    /// and the column, nothing the client did not send.
    pub rule: String,
}

impl ConstraintViolation {
    /// The violation behind `error`, if it is one.
    pub fn classify(error: &rusqlite::Error) -> Option<Self> {
        let rusqlite::Error::SqliteFailure(failure, message) = error else { return None };
        if failure.code != ErrorCode::ConstraintViolation {
            return None;
        }
        let kind = match failure.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY | ffi::SQLITE_CONSTRAINT_ROWID => {
                ConstraintKind::Duplicate
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ConstraintKind::Reference,
            _ => ConstraintKind::Invalid,
        };
        let rule = message.clone().unwrap_or_else(|| "a constraint failed".to_owned());
        Some(Self { kind, rule })
    }
}

impl fmt::Display for ConstraintViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ConstraintKind::Invalid => "a value breaks a rule of the database",
            ConstraintKind::Duplicate => "the change would duplicate an existing record",
            ConstraintKind::Reference => "the change names a record that does not exist or is still in use",
        };
        write!(f, "{what} ({})", self.rule)
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;

    fn refused(sql: &str) -> ConstraintViolation {
        let conn = Connection::open_in_memory().expect("in-memory database");
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0));
             CREATE TABLE child (parent_id INTEGER NOT NULL REFERENCES parent (id));
             INSERT INTO parent (id, name) VALUES (1, 'one');",
        )
        .expect("schema");
        let error = conn.execute(sql, []).expect_err("refused");
        ConstraintViolation::classify(&error).expect("a constraint violation")
    }

    #[test]
    fn each_kind_of_rule_is_told_apart() {
        assert_eq!(refused("INSERT INTO parent (name) VALUES (char(0) || 'abc')").kind, ConstraintKind::Invalid);
        assert_eq!(refused("INSERT INTO parent (name) VALUES (NULL)").kind, ConstraintKind::Invalid);
        assert_eq!(refused("INSERT INTO parent (name) VALUES ('one')").kind, ConstraintKind::Duplicate);
        assert_eq!(refused("INSERT INTO parent (id, name) VALUES (1, 'two')").kind, ConstraintKind::Duplicate);
        assert_eq!(refused("INSERT INTO child (parent_id) VALUES (9)").kind, ConstraintKind::Reference);
    }

    #[test]
    fn the_detail_names_the_rule_in_sqlites_words() {
        let violation = refused("INSERT INTO parent (name) VALUES ('one')");
        assert_eq!(
            violation.to_string(),
            "the change would duplicate an existing record (UNIQUE constraint failed: parent.name)"
        );
    }

    #[test]
    fn other_errors_are_not_violations() {
        assert_eq!(ConstraintViolation::classify(&rusqlite::Error::QueryReturnedNoRows), None);
        let busy = rusqlite::Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_BUSY), None);
        assert_eq!(ConstraintViolation::classify(&busy), None);
    }
}
