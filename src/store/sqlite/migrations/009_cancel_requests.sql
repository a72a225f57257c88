-- A run takes one cancel (Store.addPending): this is when it was first asked, by a person or by its
-- parent's cancellation. A second request appends nothing, so the run's history records one, and the
-- API can answer that the cancel was requested already.
ALTER TABLE runs ADD COLUMN cancel_requested_at INTEGER;
