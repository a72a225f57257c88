-- Whether the lookback of a wait (the engine's search of the inbox for events that arrived before the wait was
-- registered: a signal sent before the run waits for it) is done (Store.markWaitsLookedBack). It runs after the commit
-- that registers the wait; a server that stopped in between, or a lookback that failed, left events that arrived
-- before the wait undelivered for good. Waits from before this migration count as not looked back: a server looks
-- back for them once (a lookback delivers an event only once), which mends runs this left waiting.
ALTER TABLE waits ADD COLUMN looked_back INTEGER NOT NULL DEFAULT 0;
CREATE INDEX waits_to_look_back ON waits (registered_at, run_id, step) WHERE looked_back = 0;
