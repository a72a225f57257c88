-- Concurrency groups (`workflow({ concurrency })`, core/concurrency.ts): the group a run belongs to and its limit.
-- A run created while `limit` runs of its group are running or stuck is `queued`; the oldest queued run of a group
-- starts when one of those ends (store/ARCHITECTURE.md, "Concurrency groups").
ALTER TABLE runs ADD COLUMN concurrency_group TEXT;
ALTER TABLE runs ADD COLUMN concurrency_limit INTEGER;
-- 'latest': once queued, the run cancelled the runs of its group queued before it (ConcurrencySpec.queue).
ALTER TABLE runs ADD COLUMN concurrency_queue TEXT;
-- Counting a group's running runs and finding its oldest queued one: only runs in a group are in it.
-- Without `id`: an index entry ends in the rowid, so the oldest queued run (created_at, rowid) is read in order.
CREATE INDEX runs_by_concurrency_group ON runs (concurrency_group, status, created_at) WHERE concurrency_group IS NOT NULL;
