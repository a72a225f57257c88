-- AutoFlow schema for PostgreSQL, version 1. Append-only: never edit a migration that has shipped; add 002_….sql.
-- Mirrors sqlite/migrations/001_initial.sql table for table and index for index. Times are epoch ms
-- (BIGINT); JSON columns hold JSON text as the engine wrote it (TEXT, not JSONB: the bodies are read
-- back whole, never queried into, and TEXT keeps them byte for byte, `\u0000` escapes included).
-- Keys that are ordered (run ids, names, shapes) use COLLATE "C" so that every store sorts them the
-- same way, whatever the database's locale.

-- definitions ---------------------------------------------------------------------------------

CREATE TABLE definitions (
  version     TEXT COLLATE "C" PRIMARY KEY,  -- sha256 of bundle + manifest
  name        TEXT COLLATE "C" NOT NULL,
  manifest    TEXT NOT NULL,                 -- JSON WorkflowManifest
  bundle      TEXT NOT NULL,
  source_map  TEXT,
  origin      TEXT,
  deployed_at BIGINT NOT NULL
);
CREATE INDEX definitions_by_name ON definitions (name, deployed_at);

CREATE TABLE active_definitions (
  name    TEXT COLLATE "C" PRIMARY KEY,
  version TEXT COLLATE "C" NOT NULL REFERENCES definitions (version)
);

-- inbox ---------------------------------------------------------------------------------------

-- A sequence never hands out a seq twice: runs and consumptions refer to events by seq.
CREATE TABLE events (
  seq         BIGSERIAL PRIMARY KEY,
  dedupe_key  TEXT NOT NULL UNIQUE,
  type        TEXT NOT NULL,
  body        TEXT NOT NULL,                 -- JSON CloudEvent, as received
  received_at BIGINT NOT NULL,
  routed      BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX events_by_type_received ON events (type, received_at);  -- lookback of a new wait
CREATE INDEX events_by_type_seq ON events (type, seq);               -- listEvents filtered by type
CREATE INDEX events_unrouted ON events (seq) WHERE NOT routed;       -- the router's queue

-- runs ----------------------------------------------------------------------------------------

CREATE TABLE runs (
  id                TEXT COLLATE "C" PRIMARY KEY,
  workflow          TEXT COLLATE "C" NOT NULL,
  version           TEXT NOT NULL,
  input             TEXT NOT NULL,         -- JSON
  parent_id         TEXT,
  parent_step       INTEGER,
  trigger_event_seq BIGINT,
  created_at        BIGINT NOT NULL,
  updated_at        BIGINT NOT NULL,
  status            TEXT NOT NULL,
  result            TEXT,                  -- JSON; NULL when absent
  error             TEXT,                  -- JSON ErrorInfo
  history_length    INTEGER NOT NULL DEFAULT 0,
  -- Set while the run needs a workflow task: when it became ready (oldest is claimed first).
  ready_at          BIGINT,
  lease_owner       TEXT,
  lease_until       BIGINT
);
-- Partial: only ready runs are in it, so a claim walks ready runs in order and nothing else.
CREATE INDEX runs_ready ON runs (ready_at, id, lease_until, lease_owner) WHERE ready_at IS NOT NULL;
-- listRuns: newest first by (created_at, id), each filter combination on its own index.
CREATE INDEX runs_by_created ON runs (created_at, id);
CREATE INDEX runs_by_workflow ON runs (workflow, created_at, id);
CREATE INDEX runs_by_status ON runs (status, created_at, id);
CREATE INDEX runs_by_workflow_status ON runs (workflow, status, created_at, id);

CREATE TABLE history (
  run_id TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq    INTEGER NOT NULL,
  body   TEXT NOT NULL,                    -- JSON HistoryEvent
  PRIMARY KEY (run_id, seq)
);

-- A run's mailbox: resolutions that arrived since its last workflow task.
CREATE TABLE pending (
  id         BIGSERIAL PRIMARY KEY,
  run_id     TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  at         BIGINT NOT NULL,
  attempts   INTEGER,
  resolution TEXT NOT NULL                 -- JSON Resolution
);
CREATE INDEX pending_by_run ON pending (run_id, id);

-- Outstanding calls. due_at = max(next_at, lease_until): the moment the call can be claimed, so
-- that both claimDueCalls and nextDueAt are one range read on one index.
CREATE TABLE calls (
  run_id      TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step        INTEGER NOT NULL,
  capability  TEXT NOT NULL,
  method      TEXT NOT NULL,
  args        TEXT NOT NULL,               -- JSON
  options     TEXT,                        -- JSON CallOptions
  attempts    INTEGER NOT NULL,
  next_at     BIGINT NOT NULL,
  last_error  TEXT,                        -- JSON ErrorInfo
  lease_owner TEXT,
  lease_until BIGINT,
  due_at      BIGINT NOT NULL,
  PRIMARY KEY (run_id, step)
);
CREATE INDEX calls_by_due ON calls (due_at, run_id, step);
-- A node's own leased calls, which it may claim again at once after a restart.
CREATE INDEX calls_by_owner ON calls (lease_owner, next_at, run_id, step) WHERE lease_owner IS NOT NULL;

CREATE TABLE timers (
  run_id  TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step    INTEGER NOT NULL,
  kind    TEXT NOT NULL,                   -- 'sleep' | 'wait_timeout'
  fire_at BIGINT NOT NULL,
  PRIMARY KEY (run_id, step)
);
CREATE INDEX timers_by_fire_at ON timers (fire_at, run_id, step);

CREATE TABLE waits (
  run_id        TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  step          INTEGER NOT NULL,
  event_type    TEXT NOT NULL,
  paths         TEXT COLLATE "C" NOT NULL, -- JSON array of sorted field paths: the wait's shape
  key           TEXT NOT NULL,             -- canonical JSON of the matched values
  timeout_at    BIGINT,
  registered_at BIGINT NOT NULL,
  PRIMARY KEY (run_id, step)
);
CREATE INDEX waits_by_key ON waits (event_type, key);
-- listWaitShapes hops from one distinct shape to the next on this index (a loose index scan).
CREATE INDEX waits_by_shape ON waits (event_type, paths);

-- Which inbox events a run has already received, so that one event reaches one run once.
CREATE TABLE consumed_events (
  run_id    TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  event_seq BIGINT NOT NULL,
  PRIMARY KEY (run_id, event_seq)
);

CREATE TABLE logs (
  run_id  TEXT COLLATE "C" NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  idx     BIGINT NOT NULL,           -- history seq × 1000 + line: outgrows INTEGER
  at      BIGINT NOT NULL,
  level   TEXT NOT NULL,
  message TEXT NOT NULL,
  PRIMARY KEY (run_id, idx)
);

-- schedules and API tokens --------------------------------------------------------------------

CREATE TABLE schedule_ticks (
  schedule_id TEXT PRIMARY KEY,
  tick        BIGINT NOT NULL
);

CREATE TABLE api_tokens (
  hash       TEXT PRIMARY KEY,
  name       TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
