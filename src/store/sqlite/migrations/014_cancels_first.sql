-- Runs whose cancel was requested are claimed before any other (rules.ts, takeInTurn): a cancel that waited its turn
-- behind a workflow starting children of itself never caught up with its growth. This index finds the oldest of them.
CREATE INDEX runs_ready_cancelling ON runs (ready_at, id) WHERE ready_at IS NOT NULL AND cancel_requested_at IS NOT NULL;
