-- AutoFlow schema, version 1. Append-only: never edit a migration that has shipped; add 002_….sql.
-- Every query the engine makes per workflow step is a lookup on one of the indexes below
-- (sqlite-store.test.ts checks the query plans). JSON columns hold JSON text.

-- definitions ---------------------------------------------------------------------------------

CREATE TABLE definitions (
  version     TEXT PRIMARY KEY,      -- sha256 of bundle + manifest
  name        TEXT NOT NULL,
  manifest    TEXT NOT NULL,         -- JSON WorkflowManifest
  bundle      TEXT NOT NULL,
  source_map  TEXT,
  origin      TEXT,
  deployed_at INTEGER NOT NULL
) STRICT;
CREATE INDEX definitions_by_name ON definitions (name, deployed_at);

CREATE TABLE active_definitions (
  name    TEXT PRIMARY KEY,
  version TEXT NOT NULL REFERENCES definitions (version)
) STRICT, WITHOUT ROWID;

-- inbox ---------------------------------------------------------------------------------------

-- AUTOINCREMENT so that a seq is never handed out twice, even after retention deletes the newest
-- rows: runs and consumptions refer to events by seq.
CREATE TABLE events (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  dedupe_key  TEXT NOT NULL UNIQUE,
  type        TEXT NOT NULL,
  body        TEXT NOT NULL,         -- JSON CloudEvent, as received
  received_at INTEGER NOT NULL,
  routed      INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX events_by_type_received ON events (type, received_at);  -- lookback of a new wait
CREATE INDEX events_by_type_seq ON events (type, seq);               -- listEvents filtered by type
CREATE INDEX events_unrouted ON events (seq) WHERE routed = 0;       -- the router's queue

-- runs ----------------------------------------------------------------------------------------

CREATE TABLE runs (
  id                TEXT PRIMARY KEY,
  workflow          TEXT NOT NULL,
  version           TEXT NOT NULL,
  input             TEXT NOT NULL,   -- JSON
  parent_id         TEXT,
  parent_step       INTEGER,
  trigger_event_seq INTEGER,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,
  status            TEXT NOT NULL,
  result            TEXT,            -- JSON; NULL when absent
  error             TEXT,            -- JSON ErrorInfo
  history_length    INTEGER NOT NULL DEFAULT 0,
  -- Set while the run needs a workflow task: when it became ready (oldest is claimed first).
  ready_at          INTEGER,
  lease_owner       TEXT,
  lease_until       INTEGER
) STRICT;
-- Partial: only ready runs are in it, so a claim walks ready runs in order and nothing else.
CREATE INDEX runs_ready ON runs (ready_at, id, lease_until, lease_owner) WHERE ready_at IS NOT NULL;
-- listRuns: newest first by (created_at, id), each filter combination on its own index.
CREATE INDEX runs_by_created ON runs (created_at, id);
CREATE INDEX runs_by_workflow ON runs (workflow, created_at, id);
CREATE INDEX runs_by_status ON runs (status, created_at, id);
CREATE INDEX runs_by_workflow_status ON runs (workflow, status, created_at, id);

CREATE TABLE history (
  run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq    INTEGER NOT NULL,
  body   TEXT NOT NULL,              -- JSON HistoryEvent
  PRIMARY KEY (run_id, seq)
) STRICT;

-- A run's mailbox: resolutions that arrived since its last workflow task.
CREATE TABLE pending (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  at         INTEGER NOT NULL,
  attempts   INTEGER,
  resolution TEXT NOT NULL           -- JSON Resolution
) STRICT;
CREATE INDEX pending_by_run ON pending (run_id, id);

-- Outstanding calls. due_at = max(next_at, lease_until): the moment the call can be claimed, so
-- that both claimDueCalls and nextDueAt are one range read on one index.
CREATE TABLE calls (
  run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step        INTEGER NOT NULL,
  capability  TEXT NOT NULL,
  method      TEXT NOT NULL,
  args        TEXT NOT NULL,         -- JSON
  options     TEXT,                  -- JSON CallOptions
  attempts    INTEGER NOT NULL,
  next_at     INTEGER NOT NULL,
  last_error  TEXT,                  -- JSON ErrorInfo
  lease_owner TEXT,
  lease_until INTEGER,
  due_at      INTEGER NOT NULL,
  PRIMARY KEY (run_id, step)
) STRICT;
CREATE INDEX calls_by_due ON calls (due_at, run_id, step);
-- A node's own leased calls, which it may claim again at once after a restart.
CREATE INDEX calls_by_owner ON calls (lease_owner, next_at, run_id, step) WHERE lease_owner IS NOT NULL;

CREATE TABLE timers (
  run_id  TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step    INTEGER NOT NULL,
  kind    TEXT NOT NULL,             -- 'sleep' | 'wait_timeout'
  fire_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, step)
) STRICT, WITHOUT ROWID;
CREATE INDEX timers_by_fire_at ON timers (fire_at, run_id, step);

CREATE TABLE waits (
  run_id        TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step          INTEGER NOT NULL,
  event_type    TEXT NOT NULL,
  paths         TEXT NOT NULL,       -- JSON array of sorted field paths: the wait's shape
  key           TEXT NOT NULL,       -- canonical JSON of the matched values
  timeout_at    INTEGER,
  registered_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, step)
) STRICT;
CREATE INDEX waits_by_key ON waits (event_type, key);
-- listWaitShapes hops from one distinct shape to the next on this index (a loose index scan).
CREATE INDEX waits_by_shape ON waits (event_type, paths);

-- Which inbox events a run has already received, so that one event reaches one run once.
CREATE TABLE consumed_events (
  run_id    TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  event_seq INTEGER NOT NULL,
  PRIMARY KEY (run_id, event_seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE logs (
  run_id  TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  idx     INTEGER NOT NULL,
  at      INTEGER NOT NULL,
  level   TEXT NOT NULL,
  message TEXT NOT NULL,
  PRIMARY KEY (run_id, idx)
) STRICT;

-- schedules and API tokens --------------------------------------------------------------------

CREATE TABLE schedule_ticks (
  schedule_id TEXT PRIMARY KEY,
  tick        INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE api_tokens (
  hash       TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
