-- listRuns in the order of when runs last changed (RunFilter.order 'updated'): "what failed in the last hour", the
-- latest failures first, even of runs started days ago. Partial: only runs that no longer advance on their own (ended,
-- or stuck) are in it. A running run's updated_at changes at every workflow task, and an index over it would be one
-- more index entry written by every step; this one is written once per run, by the commit that ends it.
-- listRunsQuery repeats the IN list as a literal, so that a generic plan of the prepared statement (status a
-- parameter) can still prove the index applies.
CREATE INDEX runs_by_end ON runs (status, updated_at, id)
  WHERE status IN ('completed', 'failed', 'cancelled', 'continued', 'stuck');
