-- The job-state index keeps only the states that can pile up (issue 14).
-- Never edit a migration that has been applied anywhere: add a new file instead.
--
-- `jobs_state_newest (state, id DESC)` moved every job's entry at each state change: an
-- insert and a delete for `running`, another insert for `done`, three B-tree writes per order
-- (docs/performance.md, "Why an order writes few index pages"). Its readers count jobs by state: the dashboard's failed
-- tile and `/metrics`. Running jobs already have `jobs_leased` and done ones
-- `jobs_done_updated` (both partial); this one now holds only queued and failed jobs, which an
-- order handed to the workers never is.
DROP INDEX jobs_state_newest;
CREATE INDEX jobs_queued_failed ON jobs (state, id DESC) WHERE state IN ('queued', 'failed');
