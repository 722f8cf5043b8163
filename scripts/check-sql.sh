#!/usr/bin/env bash
# Parameterised SQL only: lists every place SQL text is not a string literal written in the
# call, and fails if one is not in the reviewed list below (docs/reliability.md explains each).
set -euo pipefail
cd "$(dirname "$0")/.."

# SQL assembled with format! (the injection-shaped mistake).
formatted=$(grep -rnE 'format!\(.*\b(SELECT|INSERT|UPDATE|DELETE|REPLACE|PRAGMA|CREATE|DROP|ALTER|ATTACH|EXPLAIN)\b' src/ || true)
# SQL passed as a variable or constant rather than a literal.
indirect=$(grep -rnE '\b(conn|tx|snapshot|transaction)\.(prepare|prepare_cached|execute|execute_batch|query_row|query_map)\(\s*[A-Za-z_&]' src/ || true)

# Reviewed: constants built with concat! from literals; a test-only EXPLAIN of those constants;
# private helpers called with literals; the admin's PRODUCT_COLUMNS constant completed with
# literal clauses; migrations embedded with include_str!; the admin list pages' statements
# (admin/listing.rs), each chosen from a match of concat!-built literals, one per sort; the CLI's
# job list (jobs.rs), which runs the admin job list's page statement; the API keys' column list
# (COLUMNS, literal names) completed with literal clauses; the constraint mapping's test, which
# runs literal statements from a table; the synonym sets' and search rules' statements
# (curation.rs), whose one variable part is the table name, a literal associated constant
# (T::TABLE); the search analytics' listing, a literal WITH clause ({totals}) completed with
# literal clauses; the stock ledger's chain walks (MOVEMENTS_PAGE, PRODUCT_MOVEMENTS_DELETE).
reviewed='T::TABLE|curation.rs:[0-9]+: .*prepare_cached\(&sql\)|\{totals\}|search_analytics.rs:[0-9]+: +let mut stmt = conn.prepare\(&format!\($|MOVEMENTS_PAGE|PRODUCT_MOVEMENTS_DELETE|PRODUCT_COLUMNS|\{COLUMNS\}|ATTEMPTS_OF|constraint.rs:[0-9]+: +let error = conn.execute\(sql, |admin/listing.rs:[0-9]+: +let mut stmt = conn.prepare_cached\((product_page_sql|inventory_page_sql|page_sql|count_sql|sql)\b|ADMIN_[A-Z_]+|writer/mod.rs:[0-9]+: +conn.prepare_cached\(sql\)|include_str!\("(\.\./)+migrations/|STORE_ORDERS_COUNT|CLAIM_DUE_JOBS|PURGE_DONE_BEFORE|COUNT_BY_STATE|STORE_ORDERS_PAGE|listings.rs:[0-9]+: +let mut stmt = conn.prepare_cached\(sql\)|jobs.rs:[0-9]+: +let mut stmt = conn.prepare_cached\(page_sql\)|INVENTORY_COUNT|INVENTORY_PAGE|INVENTORY_ROW|PRODUCT_ROWS_BY_ID|PRODUCT_ROW\)|EXPLAIN QUERY PLAN \{sql\}|popularity.rs:[0-9]+: +let mut stmt = conn.prepare\(sql\)|migrate.rs:[0-9]+: +tx.execute_batch\(sql\)|writer/mod.rs:[0-9]+: +Ok\(conn.query_row\(pragma, '
unreviewed=$(printf '%s\n%s\n' "$formatted" "$indirect" | grep -v '^$' | grep -vE "$reviewed" || true)
if [ -n "$unreviewed" ]; then
    echo "SQL not written as a literal, and not in the reviewed list of scripts/check-sql.sh:"
    echo "$unreviewed"
    exit 1
fi
echo "SQL: every statement is a literal or a reviewed constant; values are bound parameters"
