-- Whether the lookback of a wait (the engine's search of the inbox for events that arrived before the wait was
-- registered: a signal sent before the run waits for it) is done (Store.markWaitsLookedBack). It runs after the commit
-- that registers the wait; a node that stopped in between, or a lookback that failed, left events that arrived before
-- the wait undelivered for good. Waits from before this migration count as not looked back: a node looks back for
-- them once (a lookback delivers an event only once), which mends runs this left waiting. The inserts of
-- autoflow_commit_tasks and the retry function name their columns: new waits take the default.
ALTER TABLE waits ADD COLUMN looked_back boolean NOT NULL DEFAULT false;
CREATE INDEX waits_to_look_back ON waits (registered_at, run_id, step) WHERE NOT looked_back;
