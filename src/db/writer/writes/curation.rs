//! Search curation's named writes: synonym sets and search rules, each saved or deleted with
//! its history entry in one savepoint (`db::admin::curation`). Search reloads them from the
//! database after the write answers (see `SearchIndex::reload_curation`).

use crate::db::admin::curation;
use crate::db::admin::history::Actor;
use crate::db::records::Written;
use crate::db::writer::WriterHandle;
use crate::domain::curation::{SearchRule, SynonymSet};
use crate::error::Result;

/// The curation's named writes.
impl WriterHandle {
    /// [`curation::save_synonym_set`] through the writer: whether the set is new.
    pub async fn save_synonym_set_as(&self, actor: Actor, set: SynonymSet) -> Result<bool> {
        self.write(move |conn| Ok(Written::quietly(curation::save_synonym_set(conn, &actor, &set)?))).await
    }

    /// [`curation::delete_synonym_set`] through the writer.
    pub async fn delete_synonym_set_as(&self, actor: Actor, name: String) -> Result<()> {
        self.write(move |conn| Ok(Written::quietly(curation::delete_synonym_set(conn, &actor, &name)?))).await
    }

    /// [`curation::save_search_rule`] through the writer: whether the rule is new.
    pub async fn save_search_rule_as(&self, actor: Actor, rule: SearchRule) -> Result<bool> {
        self.write(move |conn| Ok(Written::quietly(curation::save_search_rule(conn, &actor, &rule)?))).await
    }

    /// [`curation::delete_search_rule`] through the writer.
    pub async fn delete_search_rule_as(&self, actor: Actor, name: String) -> Result<()> {
        self.write(move |conn| Ok(Written::quietly(curation::delete_search_rule(conn, &actor, &name)?))).await
    }
}
