//! The search analytics' named writes: one flush of everything counted since the last, and
//! the pruning of old days.

use crate::db::admin::search_analytics::{self, AnalyticsBatch};
use crate::db::records::Written;
use crate::db::writer::WriterHandle;
use crate::error::Result;

/// The search analytics' named writes.
impl WriterHandle {
    /// [`search_analytics::flush`] through the writer: the whole batch in one write.
    pub async fn flush_search_analytics(&self, batch: AnalyticsBatch) -> Result<usize> {
        self.write(move |conn| Ok(Written::quietly(search_analytics::flush(conn, &batch)?))).await
    }

    /// [`search_analytics::prune_before`] through the writer.
    pub async fn prune_search_analytics(&self, before_day: i64) -> Result<usize> {
        self.write(move |conn| Ok(Written::quietly(search_analytics::prune_before(conn, before_day)?))).await
    }
}
