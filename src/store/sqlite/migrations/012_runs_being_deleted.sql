-- Retention deletes an ended run's history and logs a few thousand rows per transaction (one transaction for a run
-- with 100,000 log lines held the database for seconds), the run's row last. It marks the run first: a run whose
-- deletion began reads as gone (getRun, listRuns) instead of a run with part of its history, also after a crash in
-- the middle, until the next sweep finishes it. Its id is free once the row is gone.
ALTER TABLE runs ADD COLUMN deleting INTEGER;
