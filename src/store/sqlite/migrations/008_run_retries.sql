-- The retries of failed runs (Store.retryRun). A retry cuts the failed workflow task out of the
-- run's history, so the failure it answered, who asked, and from where the run went on are kept
-- here, in the retry's transaction. A run's retries go with the run.
CREATE TABLE run_retries (
  run_id         TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  n              INTEGER NOT NULL,     -- 1 for the run's first retry, 2 for the next…
  at             INTEGER NOT NULL,
  by             TEXT,
  version        TEXT NOT NULL,
  kept_history   INTEGER NOT NULL,
  previous_error TEXT,                -- JSON ErrorInfo
  PRIMARY KEY (run_id, n)
) STRICT, WITHOUT ROWID;
