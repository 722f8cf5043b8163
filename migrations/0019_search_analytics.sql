-- Search analytics (contract, "Search administration"): what shoppers searched for, per UTC
-- day. The server counts in memory and writes what it counted since its last flush in one
-- write at most every few seconds (src/analytics/mod.rs); rows older than 90 days are pruned
-- by the maintenance schedule.
-- Never edit a migration that has been applied anywhere: add a new file instead.

-- One row per (day, normalised query): folded words, single spaces, at most 8 words. At most
-- 100,000 rows per day; searches of later new queries count only in `search_days`.
CREATE TABLE search_queries (
    -- Days since 1970-01-01, UTC.
    day                INTEGER NOT NULL,
    q                  TEXT    NOT NULL CHECK (length(q) > 0),
    searches           INTEGER NOT NULL CHECK (searches >= 0),
    -- Searches of `q` that found nothing (count = 0 under their filters).
    no_result_searches INTEGER NOT NULL CHECK (no_result_searches BETWEEN 0 AND searches),
    -- The count of the day's last search of `q`, and when it was (microseconds since the epoch).
    last_count         INTEGER NOT NULL CHECK (last_count >= 0),
    last_seen          INTEGER NOT NULL,
    PRIMARY KEY (day, q)
) WITHOUT ROWID;

-- Every counted search per day, the queries beyond the day's cap included: the searches-per-day
-- chart, and how many searches the cap kept out of `search_queries`.
CREATE TABLE search_days (
    day                INTEGER PRIMARY KEY,
    searches           INTEGER NOT NULL CHECK (searches >= 0),
    no_result_searches INTEGER NOT NULL CHECK (no_result_searches BETWEEN 0 AND searches),
    -- Searches of queries that arrived after the day already had its cap of distinct queries.
    uncapped_searches  INTEGER NOT NULL CHECK (uncapped_searches BETWEEN 0 AND searches)
);
