-- Forms and approvals that runs wait for (core/human-task.ts). JSON columns hold JSON text.

CREATE TABLE human_tasks (
  id          TEXT PRIMARY KEY,      -- tk_<hash of run id and step>
  run_id      TEXT NOT NULL,
  workflow    TEXT NOT NULL,
  kind        TEXT NOT NULL,         -- form | approval
  title       TEXT NOT NULL,
  spec        TEXT NOT NULL,         -- JSON FormSpec or ApprovalSpec
  eligible    TEXT NOT NULL,         -- JSON list of usernames
  status      TEXT NOT NULL,
  decisions   TEXT NOT NULL,         -- JSON list of ApprovalDecision
  outcome     TEXT,                  -- JSON; set once closed
  created_at  INTEGER NOT NULL,
  due_at      INTEGER,
  closed_at   INTEGER,
  revision    INTEGER NOT NULL       -- compare-and-set of updates
) STRICT;
-- Listing newest first, alone, by status, and the tasks of one run.
CREATE INDEX human_tasks_by_created ON human_tasks (created_at, id);
CREATE INDEX human_tasks_by_status ON human_tasks (status, created_at, id);
CREATE INDEX human_tasks_by_run ON human_tasks (run_id, created_at, id);

-- The "my tasks" inbox: one row per eligible user, newest first.
CREATE TABLE human_task_eligible (
  username   TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  task_id    TEXT NOT NULL REFERENCES human_tasks (id) ON DELETE CASCADE,
  PRIMARY KEY (username, created_at, task_id)
) STRICT, WITHOUT ROWID;
