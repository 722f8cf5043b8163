-- Fewer index entries per job (issue 14): every order queues a job, and each index on `jobs`
-- is written again at each of the job's state changes.
-- Never edit a migration that has been applied anywhere: add a new file instead.
--
-- `jobs_state_updated (state, updated_at)` served one query, the purge of `done` jobs by age
-- (`DELETE … WHERE state = 'done' AND updated_at < ?`), yet its entry moved at every state
-- change: queued, running, done. Kept only for `done` rows, it is written once per job, when
-- the job is finished, and the purge reads the same entries as before.
DROP INDEX jobs_state_updated;
CREATE INDEX jobs_done_updated ON jobs (updated_at) WHERE state = 'done';
