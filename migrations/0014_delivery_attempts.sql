-- Every delivery attempt of an event to a receiver (issue 28): when, how long, what it answered.
-- Never edit a migration that has been applied anywhere: add a new file instead.
--
-- Written by the workers in the same write as the job's outcome (`db::jobs::record_outcomes`),
-- so a delivered job costs no extra writer command. `attempt` is the job's attempt number at
-- the time (`jobs.attempts`, which `aforro jobs retry` resets: the numbers then start again,
-- and `id` keeps the order). Deleted with their job by the retention purge (the cascade).
-- Times are µs since the epoch, as in every other table.
CREATE TABLE delivery_attempts (
    id              INTEGER PRIMARY KEY,
    job_id          INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt         INTEGER NOT NULL CHECK (attempt > 0),
    started_at      INTEGER NOT NULL,
    duration_micros INTEGER NOT NULL CHECK (duration_micros >= 0),
    -- The HTTP status, when an answer came; NULL for an error before one (refused, timeout).
    http_status     INTEGER CHECK (http_status BETWEEN 100 AND 999),
    -- Why the attempt failed; NULL when it delivered.
    error           TEXT,
    -- The first KiB of the answer's body (lossy UTF-8), when an answer came.
    answer_excerpt  TEXT
);

-- A job's attempts in order, and the cascade's lookup when the purge deletes a job.
CREATE INDEX delivery_attempts_job ON delivery_attempts (job_id, id);
