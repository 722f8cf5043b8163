//! The search analytics tables (`search_queries`, `search_days`): the flush of what the server
//! counted in memory, the admin's listings (with the unflushed counts the caller passes in),
//! the popular queries suggest offers, and the pruning of old days.
//!
//! Days are whole UTC days, as days since 1970-01-01 ([`day_of`]).

use rusqlite::{Connection, params};
use serde::Serialize;

use crate::db::store::listings::PageOf;
use crate::domain::{PageRequest, Timestamp};
use crate::error::{Error, Result};

/// Microseconds in a day.
const DAY_MICROS: i64 = 86_400 * 1_000_000;

/// The UTC day of `at`, as days since 1970-01-01.
pub fn day_of(at: Timestamp) -> i64 {
    at.micros.div_euclid(DAY_MICROS)
}

/// The counts of one query on one day (a flush's delta, or what is not flushed yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryCount {
    /// UTC day ([`day_of`]).
    pub day: i64,
    /// The normalised query.
    pub q: String,
    /// Searches counted.
    pub searches: i64,
    /// Of them, those that found nothing.
    pub no_result_searches: i64,
    /// The count of the latest of them.
    pub last_count: i64,
    /// When the latest of them was.
    pub last_seen: Timestamp,
}

/// Every counted search of one day (a flush's delta), capped queries included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCount {
    /// UTC day ([`day_of`]).
    pub day: i64,
    /// Searches counted.
    pub searches: i64,
    /// Of them, those that found nothing.
    pub no_result_searches: i64,
    /// Of them, those of queries beyond the day's cap of distinct queries.
    pub uncapped_searches: i64,
}

/// What one flush writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnalyticsBatch {
    /// Per (day, query).
    pub queries: Vec<QueryCount>,
    /// Per day.
    pub days: Vec<DayCount>,
}

impl AnalyticsBatch {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.queries.is_empty() && self.days.is_empty()
    }
}

/// Which queries a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnalyticsKind {
    /// Every query.
    Popular,
    /// Only queries whose last search found nothing.
    NoResults,
}

impl AnalyticsKind {
    /// The contract's spellings: `popular`, `no_results`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "popular" => Some(Self::Popular),
            "no_results" => Some(Self::NoResults),
            _ => None,
        }
    }
}

/// One query's totals over the days asked for, as the contract shows them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct QueryStats {
    /// The normalised query.
    pub q: String,
    /// Searches over the days.
    pub searches: i64,
    /// Of them, those that found nothing.
    pub no_result_searches: i64,
    /// The count of its latest search.
    pub last_count: i64,
    /// When its latest search was.
    pub last_seen: Timestamp,
}

/// Adds `batch` to the tables: one upsert per (day, query) and per day.
pub fn flush(conn: &Connection, batch: &AnalyticsBatch) -> Result<usize> {
    let mut upsert_query = conn.prepare_cached(
        "INSERT INTO search_queries (day, q, searches, no_result_searches, last_count, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (day, q) DO UPDATE SET
             searches = searches + excluded.searches,
             no_result_searches = no_result_searches + excluded.no_result_searches,
             last_count = CASE WHEN excluded.last_seen >= last_seen THEN excluded.last_count ELSE last_count END,
             last_seen = max(last_seen, excluded.last_seen)",
    )?;
    for query in &batch.queries {
        upsert_query.execute(params![
            query.day,
            query.q,
            query.searches,
            query.no_result_searches,
            query.last_count,
            query.last_seen.micros
        ])?;
    }
    let mut upsert_day = conn.prepare_cached(
        "INSERT INTO search_days (day, searches, no_result_searches, uncapped_searches) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (day) DO UPDATE SET
             searches = searches + excluded.searches,
             no_result_searches = no_result_searches + excluded.no_result_searches,
             uncapped_searches = uncapped_searches + excluded.uncapped_searches",
    )?;
    for day in &batch.days {
        upsert_day.execute(params![day.day, day.searches, day.no_result_searches, day.uncapped_searches])?;
    }
    Ok(batch.queries.len() + batch.days.len())
}

/// Deletes every day before `day`; returns the rows deleted.
pub fn prune_before(conn: &Connection, day: i64) -> Result<usize> {
    let queries = conn.execute("DELETE FROM search_queries WHERE day < ?1", [day])?;
    let days = conn.execute("DELETE FROM search_days WHERE day < ?1", [day])?;
    Ok(queries + days)
}

/// The queries stored for `day` (a server starting mid-day knows which queries the day's cap
/// already holds).
pub fn queries_of_day(conn: &Connection, day: i64) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT q FROM search_queries WHERE day = ?1")?;
    let rows = stmt.query_map([day], |row| row.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One page of the queries searched from `from_day` on, with `pending` (counts not flushed
/// yet) added: most searched first, then by `q`.
pub fn list(
    conn: &Connection,
    kind: AnalyticsKind,
    from_day: i64,
    pending: &[QueryCount],
    page: PageRequest,
) -> Result<PageOf<QueryStats>> {
    let pending = pending_json(pending, from_day)?;
    let only_no_results = kind == AnalyticsKind::NoResults;
    // SQLite takes a bare column of an aggregate query with one max() from the row holding
    // the maximum: `last_count` is that of the latest search.
    let totals = "WITH counted (q, searches, no_result_searches, last_count, last_seen) AS (
             SELECT q, searches, no_result_searches, last_count, last_seen FROM search_queries WHERE day >= ?1
             UNION ALL
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?2)
         ),
         totals AS (
             SELECT q, sum(searches) AS searches, sum(no_result_searches) AS no_result_searches,
                    last_count, max(last_seen) AS last_seen
             FROM counted GROUP BY q
         )";
    let count: i64 = conn.query_row(
        &format!("{totals} SELECT count(*) FROM totals WHERE NOT ?3 OR last_count = 0"),
        params![from_day, pending, only_no_results],
        |row| row.get(0),
    )?;
    let mut stmt = conn.prepare(&format!(
        "{totals} SELECT q, searches, no_result_searches, last_count, last_seen FROM totals
         WHERE NOT ?3 OR last_count = 0 ORDER BY searches DESC, q LIMIT ?4 OFFSET ?5"
    ))?;
    let rows = stmt.query_map(params![from_day, pending, only_no_results, page.limit(), page.offset()], |row| {
        Ok(QueryStats {
            q: row.get(0)?,
            searches: row.get(1)?,
            no_result_searches: row.get(2)?,
            last_count: row.get(3)?,
            last_seen: Timestamp::from_micros(row.get(4)?),
        })
    })?;
    Ok(PageOf { count, rows: rows.collect::<rusqlite::Result<_>>()? })
}

/// `pending` from `from_day` on as a JSON array of `[q, searches, no_result_searches,
/// last_count, last_seen]` rows, for [`list`]'s `json_each`.
fn pending_json(pending: &[QueryCount], from_day: i64) -> Result<String> {
    let rows: Vec<(&str, i64, i64, i64, i64)> = pending
        .iter()
        .filter(|count| count.day >= from_day)
        .map(|count| {
            (count.q.as_str(), count.searches, count.no_result_searches, count.last_count, count.last_seen.micros)
        })
        .collect();
    serde_json::to_string(&rows).map_err(|error| Error::Invariant(format!("pending analytics: {error}")))
}

/// Searches per day from `from_day` on, oldest first (days without searches absent).
pub fn days_from(conn: &Connection, from_day: i64) -> Result<Vec<DayCount>> {
    let mut stmt = conn.prepare(
        "SELECT day, searches, no_result_searches, uncapped_searches FROM search_days WHERE day >= ?1 ORDER BY day",
    )?;
    let rows = stmt.query_map([from_day], |row| {
        Ok(DayCount {
            day: row.get(0)?,
            searches: row.get(1)?,
            no_result_searches: row.get(2)?,
            uncapped_searches: row.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The queries searched from `from_day` on at least `min_searches` times whose latest search
/// found something, with their searches, sorted by query (what suggest's `queries=true`
/// offers from).
pub fn popular_with_results(conn: &Connection, from_day: i64, min_searches: i64) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare(
        "SELECT q, searches FROM (
             SELECT q, sum(searches) AS searches, last_count, max(last_seen)
             FROM search_queries WHERE day >= ?1 GROUP BY q
         ) WHERE searches >= ?2 AND last_count > 0 ORDER BY q",
    )?;
    let rows = stmt.query_map(params![from_day, min_searches], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let mut conn = Connection::open_in_memory().expect("in-memory db");
        crate::db::migrate::migrate(&mut conn).expect("migrate");
        conn
    }

    fn count(day: i64, q: &str, searches: i64, last_count: i64, last_seen: i64) -> QueryCount {
        let no_result_searches = if last_count == 0 { searches } else { 0 };
        QueryCount {
            day,
            q: q.to_owned(),
            searches,
            no_result_searches,
            last_count,
            last_seen: Timestamp::from_micros(last_seen),
        }
    }

    #[test]
    fn flushes_add_up_and_the_listing_adds_what_is_pending() {
        let conn = conn();
        let batch = AnalyticsBatch {
            queries: vec![count(10, "red scarf", 2, 0, 5), count(9, "kettle", 5, 3, 1)],
            days: vec![],
        };
        flush(&conn, &batch).expect("flush");
        flush(&conn, &AnalyticsBatch { queries: vec![count(10, "kettle", 1, 4, 7)], days: vec![] }).expect("flush");
        let page = PageRequest::default();
        let all = list(&conn, AnalyticsKind::Popular, 9, &[count(10, "red scarf", 3, 0, 9)], page).expect("list");
        assert_eq!(all.count, 2);
        let found: Vec<(&str, i64, i64, i64)> =
            all.rows.iter().map(|row| (row.q.as_str(), row.searches, row.no_result_searches, row.last_count)).collect();
        assert_eq!(found, [("kettle", 6, 0, 4), ("red scarf", 5, 5, 0)]);
        let no_results = list(&conn, AnalyticsKind::NoResults, 9, &[], page).expect("list");
        assert_eq!(no_results.rows.iter().map(|row| row.q.as_str()).collect::<Vec<_>>(), ["red scarf"]);
        let today_only = list(&conn, AnalyticsKind::Popular, 10, &[count(9, "old", 1, 1, 1)], page).expect("list");
        assert_eq!(today_only.rows.iter().map(|row| row.searches).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(prune_before(&conn, 10).expect("prune"), 1);
        assert_eq!(queries_of_day(&conn, 9).expect("read"), Vec::<String>::new());
    }

    #[test]
    fn suggestions_need_three_searches_and_results_last_time() {
        let conn = conn();
        let batch = AnalyticsBatch {
            queries: vec![
                count(1, "steel kettle", 2, 5, 1),
                count(2, "steel kettle", 1, 5, 2),
                count(2, "steel pan", 2, 9, 2),
                count(1, "red scarf", 4, 3, 1),
                count(2, "red scarf", 1, 0, 2),
            ],
            days: vec![DayCount { day: 2, searches: 4, no_result_searches: 1, uncapped_searches: 0 }],
        };
        flush(&conn, &batch).expect("flush");
        assert_eq!(popular_with_results(&conn, 0, 3).expect("read"), [("steel kettle".to_owned(), 3)]);
        assert_eq!(days_from(&conn, 0).expect("read"), batch.days);
    }
}
