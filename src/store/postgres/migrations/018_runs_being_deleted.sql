-- Retention deletes an ended run's history and logs a few thousand rows per statement (one statement for a run with
-- 100,000 log lines held a transaction open for seconds, and could outlast postgres.queryTimeoutMs, so that the run
-- was never deleted), the run's row last. It marks the run first: a run whose deletion began reads as gone (getRun,
-- listRuns) instead of a run with part of its history, also after a crash in the middle, until a sweep finishes it.
ALTER TABLE runs ADD COLUMN deleting boolean;
