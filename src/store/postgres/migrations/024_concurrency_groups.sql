-- Concurrency groups (`workflow({ concurrency })`, core/concurrency.ts): the group a run belongs to and its limit. A run
-- of a group is `queued` while `limit` runs of its group are running or stuck; the oldest queued run starts when one of
-- those ends (store/ARCHITECTURE.md, "Concurrency groups").
--
-- Triggers on `runs` hold the rule, so that every write reaches it: a run is inserted by createRun, routeEvent, a
-- retry's children and the commit functions (its first task, children, successors), and is asked to cancel by
-- addPending and a commit's cancel of its children; a statement of a node from before this migration reaches it too.
-- Each decision counts the group's runs under a transaction-level advisory lock of the group, taken before the count
-- and held to the commit: of two transactions that insert runs of one group, or end runs of it, the second counts
-- after the first committed. With a count of rows only, two could each see a slot free and both take it.
-- `queue_seq`: of the runs queued in one millisecond, which came first (SQLite's rowid); set on a queued run only.
CREATE SEQUENCE runs_queue_seq;
ALTER TABLE runs ADD COLUMN concurrency_group text COLLATE "C", ADD COLUMN concurrency_limit integer, ADD COLUMN queue_seq bigint;
-- 'latest': once queued, the run cancelled the runs of its group queued before it (ConcurrencySpec.queue).
ALTER TABLE runs ADD COLUMN concurrency_queue text;
-- Counting a group's running runs and finding its oldest queued one: only runs in a group are in it.
CREATE INDEX runs_by_concurrency_group ON runs (concurrency_group, status, created_at, queue_seq)
  WHERE concurrency_group IS NOT NULL;

-- Held to the end of the transaction: a decision made on a count of the group stands until it commits. The key names
-- the schema, so that the groups of two AutoFlow schemas in one database do not wait for each other.
CREATE FUNCTION autoflow_lock_concurrency_group(g text) RETURNS void
  LANGUAGE sql AS $$ SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || g, 0)) $$;

-- Runs of group `g` other than `except_id` holding one of its slots (SLOT_HOLDING_STATUSES of store/rules.ts), counted
-- under the group's lock. Volatile: the count is a new snapshot, taken once the lock is held, so it sees what the
-- transaction it waited for committed.
CREATE FUNCTION autoflow_group_slots_taken(g text, except_id text) RETURNS bigint
  LANGUAGE plpgsql AS $$
BEGIN
  PERFORM autoflow_lock_concurrency_group(g);
  RETURN (SELECT count(*) FROM runs r WHERE r.concurrency_group = g AND r.status IN ('running', 'stuck') AND r.id <> except_id);
END;
$$;

-- Before the row exists, so that the insert's RETURNING (createRun, routeEvent) answers with the run as stored: queued,
-- neither ready nor leased (a lease a node asked for is dropped: the ready queue hands the run out once it starts).
-- Fires for an insert that ON CONFLICT then skips, too: it only waits for the lock and counts.
-- Queued too while older runs of the group wait (first come, first served, also when a deploy raised the limit of the
-- newer runs: queueBehind of store/rules.ts) — but not a continue-as-new successor, which keeps the slot of the run it
-- follows: `x~2` follows `x`, `x~3` follows `x~2` (no client may choose such an id), `continued` by the same commit.
CREATE FUNCTION autoflow_queue_when_group_full() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  n int := substring(NEW.id FROM '~([1-9][0-9]*)$')::int;
  base text := regexp_replace(NEW.id, '~[1-9][0-9]*$', '');
  follows text := CASE WHEN n = 2 THEN base WHEN n > 2 THEN base || '~' || (n - 1) END;
  keeps_slot boolean := follows IS NOT NULL AND EXISTS (
    SELECT 1 FROM runs p WHERE p.id = follows AND p.status = 'continued' AND p.concurrency_group = NEW.concurrency_group);
  taken bigint;
BEGIN
  -- A statement of its own, before the look for waiting runs: that one's snapshot is then taken under the lock.
  taken := autoflow_group_slots_taken(NEW.concurrency_group, NEW.id);
  IF taken >= COALESCE(NEW.concurrency_limit, 1)
    OR (NOT keeps_slot AND EXISTS (SELECT 1 FROM runs q WHERE q.concurrency_group = NEW.concurrency_group AND q.status = 'queued'))
  THEN
    NEW.status := 'queued';
    NEW.ready_at := NULL;
    NEW.lease_owner := NULL;
    NEW.lease_until := NULL;
    NEW.queue_seq := nextval('runs_queue_seq');
    -- `queue: 'latest'`: the runs queued before it are cancelled (supersededCancel of store/rules.ts): a cancel in the
    -- mailbox of each, which, asked to cancel, runs at once to end without its code (runs_start_queued_to_cancel).
    IF NEW.concurrency_queue = 'latest' THEN
      INSERT INTO pending (run_id, at, resolution)
        SELECT q.id, NEW.created_at, json_build_object('kind', 'cancel',
            'reason', 'superseded by run ' || NEW.id || ', queued after it (concurrency queue: ''latest'')')::text
          FROM runs q WHERE q.concurrency_group = NEW.concurrency_group AND q.status = 'queued' AND q.cancel_requested_at IS NULL;
      UPDATE runs q SET cancel_requested_at = NEW.created_at
        WHERE q.concurrency_group = NEW.concurrency_group AND q.status = 'queued' AND q.cancel_requested_at IS NULL;
    END IF;
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER runs_queue_when_group_full BEFORE INSERT ON runs
  FOR EACH ROW WHEN (NEW.concurrency_group IS NOT NULL AND NEW.status IN ('running', 'stuck'))
  EXECUTE FUNCTION autoflow_queue_when_group_full();

-- A queued run given a slot runs: ready from `at`, when the slot came free (from its creation, the ready queue's lag
-- would count the time it waited for the slot). Other nodes are woken (wake.ts; the sender is none of theirs, so the
-- node that committed wakes too): the run is nobody's yet.
CREATE FUNCTION autoflow_start_queued(run_id text, at bigint) RETURNS void
  LANGUAGE plpgsql AS $$
BEGIN
  UPDATE runs r SET status = 'running', ready_at = at WHERE r.id = run_id AND r.status = 'queued';
  PERFORM pg_notify('autoflow_wake', current_schema() || ':concurrency');
END;
$$;

-- A slot came free (freesSlot of store/rules.ts; `continued` keeps it for the successor): the oldest queued runs of the
-- group (the first queued, of one millisecond) start while the group has fewer running runs than the limit of the next
-- (more than one when a deploy raised the limit; a limit deployed lower since leaves it queued). The lock comes before
-- the read, so that a run inserted meanwhile is either seen here or saw this end. A queued run another transaction
-- holds (a cancel starting it) is waited for; FOR UPDATE then reads it again and, no longer queued, passes to the next.
CREATE FUNCTION autoflow_start_next_queued() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  oldest record;
BEGIN
  PERFORM autoflow_lock_concurrency_group(OLD.concurrency_group);
  LOOP
    SELECT r.id, r.concurrency_limit INTO oldest FROM runs r
      WHERE r.concurrency_group = OLD.concurrency_group AND r.status = 'queued'
      ORDER BY r.created_at, r.queue_seq LIMIT 1 FOR UPDATE;
    EXIT WHEN NOT FOUND OR autoflow_group_slots_taken(OLD.concurrency_group, oldest.id) >= COALESCE(oldest.concurrency_limit, 1);
    PERFORM autoflow_start_queued(oldest.id, NEW.updated_at);
  END LOOP;
  RETURN NULL;
END;
$$;
CREATE TRIGGER runs_start_next_queued AFTER UPDATE OF status ON runs
  FOR EACH ROW WHEN (OLD.concurrency_group IS NOT NULL AND OLD.status IN ('running', 'stuck')
    AND NEW.status IN ('completed', 'failed', 'cancelled'))
  EXECUTE FUNCTION autoflow_start_next_queued();

-- A queued run asked to cancel runs at once, to end without its code, even beyond its group's limit for that moment:
-- a cancel does not wait for a slot. No lock: nothing is counted.
CREATE FUNCTION autoflow_start_queued_to_cancel() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  NEW.status := 'running';
  NEW.ready_at := NEW.cancel_requested_at;
  PERFORM pg_notify('autoflow_wake', current_schema() || ':concurrency');
  RETURN NEW;
END;
$$;
CREATE TRIGGER runs_start_queued_to_cancel BEFORE UPDATE OF cancel_requested_at ON runs
  FOR EACH ROW WHEN (OLD.status = 'queued' AND NEW.status = 'queued'
    AND OLD.cancel_requested_at IS NULL AND NEW.cancel_requested_at IS NOT NULL)
  EXECUTE FUNCTION autoflow_start_queued_to_cancel();

-- Inserts the runs of `rows` (children, successors) whose `source` is one of `sources` (the commits applied), insert-or-ignore;
-- one that came from an event has consumed it; one in a full concurrency group is queued by runs_queue_when_group_full.
CREATE FUNCTION autoflow_insert_new_runs(rows jsonb, sources text[]) RETURNS void
  LANGUAGE sql AS $$
  WITH inserted AS (
    INSERT INTO runs (id, workflow, version, input, parent_id, parent_step, trigger_event_seq, created_at, updated_at, status, ready_at,
        concurrency_group, concurrency_limit, concurrency_queue)
      SELECT n.id, n.workflow, n.version, n.input, n."parentId", n."parentStep", n."triggerEventSeq", n."createdAt", n."createdAt", 'running', n."createdAt",
        n."concurrencyGroup", n."concurrencyLimit", n."concurrencyQueue"
      FROM jsonb_to_recordset(rows) AS n (source text, id text, workflow text, version text, input text, "parentId" text,
          "parentStep" int, "triggerEventSeq" bigint, "createdAt" bigint, "concurrencyGroup" text, "concurrencyLimit" int,
          "concurrencyQueue" text)
      WHERE n.source = ANY (sources)
      ON CONFLICT (id) DO NOTHING
      RETURNING id, trigger_event_seq
  )
  INSERT INTO consumed_events (run_id, event_seq)
    SELECT i.id, i.trigger_event_seq FROM inserted i WHERE i.trigger_event_seq IS NOT NULL
    ON CONFLICT DO NOTHING;
$$;

-- The commit functions insert runs with their group: children and, under `successors` (apart from the children's
-- `runs`), successors, inserted after the task's end. The function is replaced as a whole (017's body, but for those);
-- the settings of 005 are set again, since CREATE OR REPLACE FUNCTION replaces them too.
CREATE OR REPLACE FUNCTION autoflow_commit_tasks(batch jsonb)
  RETURNS TABLE (run_id text, outcome text, mailbox jsonb)
  LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  committing text[];
  existing text[];
  ids text[];
  ats bigint[];
  ended text[];
  note record;
  children text[];
  target text;
BEGIN
  -- Every lookup of a table below goes by an array of run ids (= ANY), so that it reads the
  -- primary key, whatever the planner guesses of the rows a jsonb_to_recordset returns.
  committing := ARRAY(SELECT c.run_id FROM jsonb_to_recordset(batch -> 'commits') AS c (run_id text));
  -- Row locks in id order: two nodes committing overlapping batches cannot deadlock on them.
  existing := ARRAY(SELECT r.id FROM runs r WHERE r.id = ANY (committing) ORDER BY r.id FOR UPDATE);

  SELECT array_agg(c.run_id), array_agg(COALESCE(c.at, r.updated_at)), array_agg(c.run_id) FILTER (WHERE c.terminal)
    INTO ids, ats, ended
    FROM jsonb_to_recordset(batch -> 'commits') AS c (run_id text, expected int, owner text, at bigint, terminal boolean)
    JOIN runs r ON r.id = c.run_id AND r.id = ANY (existing)
    WHERE r.history_length = c.expected AND (r.lease_owner IS NULL OR r.lease_owner = c.owner);
  ids := COALESCE(ids, '{}');

  IF cardinality(ids) > 0 THEN
    IF batch ? 'pending' THEN
      DELETE FROM pending p
        WHERE p.id = ANY (ARRAY(SELECT d.id FROM jsonb_to_recordset(batch -> 'pending') AS d (run_id text, id bigint) WHERE d.run_id = ANY (ids)))
          AND p.run_id = ANY (ids);
    END IF;

    IF batch ? 'history' THEN
      INSERT INTO history (run_id, seq, body)
        SELECT h.run_id, h.seq, h.body FROM jsonb_to_recordset(batch -> 'history') AS h (run_id text, seq int, body text)
        WHERE h.run_id = ANY (ids);
    END IF;

    IF batch ? 'resolved' THEN
      DELETE FROM calls c
        WHERE c.run_id = ANY (ids)
          AND (c.run_id, c.step) IN (SELECT d.run_id, d.step FROM jsonb_to_recordset(batch -> 'resolved') AS d (run_id text, step int));
    END IF;

    IF batch ? 'calls' THEN
      INSERT INTO calls (run_id, step, capability, method, args, options, attempts, next_at, last_error, lease_owner, lease_until, due_at)
        SELECT c.run_id, c.step, c.capability, c.method, c.args, c.options, c.attempts, c.next_at, c.last_error,
          CASE WHEN c.lease_until IS NULL THEN NULL ELSE o.owner END, c.lease_until, GREATEST(c.next_at, COALESCE(c.lease_until, c.next_at))
        FROM jsonb_to_recordset(batch -> 'calls') AS c (run_id text, step int, capability text, method text, args text, options text,
            attempts int, next_at bigint, last_error text, lease_until bigint)
        JOIN jsonb_to_recordset(batch -> 'commits') AS o (run_id text, owner text) ON o.run_id = c.run_id
        WHERE c.run_id = ANY (ids);
    END IF;

    IF batch ? 'timers' THEN
      INSERT INTO timers (run_id, step, kind, fire_at)
        SELECT t.run_id, t.step, t.kind, t.fire_at FROM jsonb_to_recordset(batch -> 'timers') AS t (run_id text, step int, kind text, fire_at bigint)
        WHERE t.run_id = ANY (ids);
    END IF;

    IF batch ? 'waits' THEN
      INSERT INTO waits (run_id, step, event_type, paths, key, timeout_at, registered_at)
        SELECT w.run_id, w.step, w.event_type, w.paths, w.key, w.timeout_at, w.registered_at
        FROM jsonb_to_recordset(batch -> 'waits') AS w (run_id text, step int, event_type text, paths text, key text, timeout_at bigint, registered_at bigint)
        WHERE w.run_id = ANY (ids);
    END IF;

    -- Children (and the successors of nodes from before this migration).
    IF batch ? 'runs' THEN
      PERFORM autoflow_insert_new_runs(batch -> 'runs', ids);

      -- A child whose id a run other than this parent's child of the same step holds (a task committed again
      -- starts its children again): the parent's start of it fails, in the parent's pending, in task order.
      children := ARRAY(SELECT n.id FROM jsonb_to_recordset(batch -> 'runs') AS n (source text, id text, "existsResolution" text)
        WHERE n."existsResolution" IS NOT NULL AND n.source = ANY (ids));
      IF cardinality(children) > 0 THEN
        INSERT INTO pending (run_id, at, resolution)
          SELECT n.source, a.at, n.exists_resolution
          FROM ROWS FROM (jsonb_to_recordset(batch -> 'runs') AS (source text, id text, "parentId" text, "parentStep" int, "existsResolution" text))
            WITH ORDINALITY AS n (source, id, parent_id, parent_step, exists_resolution, k)
          JOIN unnest(ids, ats) AS a (run_id, at) ON a.run_id = n.source
          JOIN runs r ON r.id = n.id AND r.id = ANY (children)
          WHERE n.exists_resolution IS NOT NULL
            AND (r.parent_id IS DISTINCT FROM n.parent_id OR r.parent_step IS DISTINCT FROM n.parent_step)
          ORDER BY n.k;
      END IF;
    END IF;

    IF batch ? 'logs' THEN
      INSERT INTO logs (run_id, idx, at, level, message)
        SELECT l.run_id, l.idx, l.at, l.level, l.message
        FROM jsonb_to_recordset(batch -> 'logs') AS l (run_id text, idx bigint, at bigint, level text, message text)
        WHERE l.run_id = ANY (ids);
    END IF;

    -- Signals the run never took go to its successor (before the end below deletes its pending and
    -- consumed_events): copies addressed to it, routed already, where its signal waits look them up;
    -- those its code kept, in the order given, then those in its pending, then those never delivered.
    IF batch ? 'carry' THEN
      INSERT INTO events (dedupe_key, type, body, received_at, routed)
        SELECT 'carried:' || c.to_run || ':' || (s.body ->> 'source') || ':' || (s.body ->> 'id'), s.body ->> 'type',
            jsonb_set(s.body, '{subject}', to_jsonb(c.to_run))::text, a.at, true
          FROM ROWS FROM (jsonb_to_recordset(batch -> 'carry') AS (run_id text, to_run text, kept jsonb)) WITH ORDINALITY AS c (run_id, to_run, kept, k)
          JOIN unnest(ids, ats) AS a (run_id, at) ON a.run_id = c.run_id
          CROSS JOIN LATERAL (
            SELECT 0 AS part, w.n AS ord, e.body::jsonb AS body
              FROM jsonb_array_elements(c.kept) WITH ORDINALITY AS w (wanted, n)
              JOIN events e ON (e.body::jsonb ->> 'subject') COLLATE "C" = c.run_id
                AND e.type LIKE 'autoflow.signal.%' AND (e.body::jsonb ->> 'source') = (w.wanted ->> 'source')
                AND (e.body::jsonb ->> 'id') = (w.wanted ->> 'id')
            UNION ALL
            SELECT 1, p.id, p.resolution::jsonb -> 'event'
              FROM pending p
              WHERE p.run_id = c.run_id AND p.resolution::jsonb ->> 'kind' = 'wait'
                AND p.resolution::jsonb #>> '{event,type}' LIKE 'autoflow.signal.%' AND p.resolution::jsonb #>> '{event,subject}' = c.run_id
            UNION ALL
            SELECT 2, e.seq, e.body::jsonb
              FROM events e
              WHERE (e.body::jsonb ->> 'subject') COLLATE "C" = c.run_id AND e.type LIKE 'autoflow.signal.%'
                AND NOT EXISTS (SELECT 1 FROM consumed_events x WHERE x.run_id = c.run_id AND x.event_seq = e.seq)
          ) s
          ORDER BY c.k, s.part, s.ord
        ON CONFLICT (dedupe_key) DO NOTHING;
    END IF;

    -- Runs that ended keep their history and logs, nothing else, and close their open human tasks; a failed run
    -- keeps its consumed events too, for a retry brings it back.
    IF ended IS NOT NULL THEN
      DELETE FROM calls c WHERE c.run_id = ANY (ended);
      DELETE FROM timers t WHERE t.run_id = ANY (ended);
      DELETE FROM waits w WHERE w.run_id = ANY (ended);
      DELETE FROM consumed_events e USING jsonb_to_recordset(batch -> 'commits') AS f (run_id text, status text)
        WHERE e.run_id = ANY (ended) AND f.run_id = e.run_id AND f.status <> 'failed';
      DELETE FROM pending p WHERE p.run_id = ANY (ended);
      UPDATE human_tasks t SET status = 'cancelled', closed_at = a.at, revision = t.revision + 1,
          outcome = CASE t.kind WHEN 'form' THEN '{"status":"cancelled"}'
            ELSE json_build_object('status', 'cancelled', 'decisions', t.decisions::json)::text END
        FROM unnest(ids, ats) AS a (run_id, at)
        WHERE t.run_id = a.run_id AND a.run_id = ANY (ended) AND t.status = 'open';
    END IF;

    -- Pending for other runs, in order, unless the run has ended; the run becomes ready. The
    -- statuses are TERMINAL_STATUSES of src/core/model.ts. A row marked `child` (a cancelled
    -- run's cancel for its children) reaches the run only if the committing run is its parent, in
    -- the run its continue-as-new chain goes on in, and only if it was not asked to cancel before.
    IF batch ? 'notify' THEN
      FOR note IN
        SELECT n.source, n.run_id, n.resolution, COALESCE(n.child, false) AS child, a.at
        FROM ROWS FROM (jsonb_to_recordset(batch -> 'notify') AS (source text, run_id text, resolution text, child boolean))
          WITH ORDINALITY AS n (source, run_id, resolution, child, k)
        JOIN unnest(ids, ats) AS a (run_id, at) ON a.run_id = n.source
        ORDER BY n.k
      LOOP
        target := note.run_id;
        IF note.child THEN
          WITH RECURSIVE chain (id, status, result) AS (
            SELECT r.id, r.status, r.result FROM runs r WHERE r.id = note.run_id AND r.parent_id = note.source
            UNION ALL
            SELECT r.id, r.status, r.result FROM chain c JOIN runs r ON r.id = (c.result::jsonb ->> 'continuedAs')
            WHERE c.status = 'continued' AND r.parent_id = note.source
          )
          SELECT c.id INTO target FROM chain c WHERE c.status <> 'continued';
        END IF;
        UPDATE runs r SET ready_at = LEAST(COALESCE(r.ready_at, note.at), note.at),
            cancel_requested_at = CASE WHEN note.child THEN note.at ELSE r.cancel_requested_at END
          WHERE r.id = target AND r.status NOT IN ('completed', 'failed', 'cancelled', 'continued')
            AND (NOT note.child OR r.cancel_requested_at IS NULL);
        IF FOUND THEN
          INSERT INTO pending (run_id, at, resolution) VALUES (target, note.at, note.resolution);
        END IF;
      END LOOP;
    END IF;

    IF batch ? 'events' THEN
      INSERT INTO events (dedupe_key, type, body, received_at)
        SELECT e.dedupe_key, e.type, e.body, a.at
        FROM ROWS FROM (jsonb_to_recordset(batch -> 'events') AS (source text, dedupe_key text, type text, body text)) WITH ORDINALITY AS e (source, dedupe_key, type, body, k)
        JOIN unnest(ids, ats) AS a (run_id, at) ON a.run_id = e.source
        ORDER BY e.k
        ON CONFLICT (dedupe_key) DO NOTHING;
    END IF;

    -- The end of each task: history length, time, status when it changed, and ready again exactly
    -- when pending remain, since the oldest of them arrived.
    UPDATE runs r SET history_length = r.history_length + f.added, updated_at = a.at,
        ready_at = (SELECT p.at FROM pending p WHERE p.run_id = r.id ORDER BY p.id LIMIT 1),
        status = COALESCE(f.status, r.status),
        result = CASE WHEN f.status IS NULL THEN r.result ELSE f.result END,
        error = CASE WHEN f.status IS NULL THEN r.error ELSE f.error END
      FROM jsonb_to_recordset(batch -> 'commits') AS f (run_id text, added int, status text, result text, error text)
      JOIN unnest(ids, ats) AS a (run_id, at) ON a.run_id = f.run_id
      WHERE r.id = f.run_id AND r.id = ANY (ids);

    -- Successors (continue-as-new) after the run they follow is `continued`: counted as running still, it would take
    -- the slot of its group that its successor keeps, and queue the successor behind it.
    IF batch ? 'successors' THEN
      PERFORM autoflow_insert_new_runs(batch -> 'successors', ids);
    END IF;
  END IF;

  RETURN QUERY
    SELECT c.run_id,
      CASE WHEN c.run_id = ANY (ids) THEN 'ok' WHEN c.run_id = ANY (existing) THEN 'fenced' ELSE 'not_found' END,
      CASE WHEN c.run_id = ANY (ids) THEN
        (SELECT COALESCE(jsonb_agg(jsonb_build_object('id', p.id, 'at', p.at, 'attempts', p.attempts, 'resolution', p.resolution) ORDER BY p.id), '[]')
          FROM pending p WHERE p.run_id = c.run_id)
      END
    FROM ROWS FROM (jsonb_to_recordset(batch -> 'commits') AS (run_id text)) WITH ORDINALITY AS c (run_id, k)
    ORDER BY c.k;
END;
$$;
ALTER FUNCTION autoflow_commit_tasks(jsonb) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION autoflow_commit_tasks(jsonb) SET enable_seqscan = off;

-- The runs a batch creates with their first task (007), with their group.
CREATE OR REPLACE FUNCTION autoflow_create_and_commit_tasks(batch jsonb)
  RETURNS TABLE (run_id text, outcome text, mailbox jsonb)
  LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  refused text[];
BEGIN
  WITH inserted AS (
    INSERT INTO runs (id, workflow, version, input, parent_id, parent_step, trigger_event_seq,
        created_at, updated_at, status, ready_at, lease_owner, lease_until, concurrency_group, concurrency_limit,
        concurrency_queue)
      SELECT n.id, n.workflow, n.version, n.input, n."parentId", n."parentStep", n."triggerEventSeq",
        n."createdAt", n."createdAt", 'running', n."createdAt", n."leaseOwner", n."leaseUntil", n."concurrencyGroup", n."concurrencyLimit",
        n."concurrencyQueue"
      FROM jsonb_to_recordset(batch -> 'creates') AS n (id text, workflow text, version text, input text, "parentId" text,
          "parentStep" int, "triggerEventSeq" bigint, "createdAt" bigint, "leaseOwner" text, "leaseUntil" bigint,
          "concurrencyGroup" text, "concurrencyLimit" int, "concurrencyQueue" text)
      ON CONFLICT (id) DO NOTHING
      RETURNING id, trigger_event_seq
  ), consumed AS (
    INSERT INTO consumed_events (run_id, event_seq)
      SELECT i.id, i.trigger_event_seq FROM inserted i WHERE i.trigger_event_seq IS NOT NULL
      ON CONFLICT DO NOTHING
  )
  SELECT COALESCE(array_agg(n.id), '{}') INTO refused
    FROM jsonb_to_recordset(batch -> 'creates') AS n (id text)
    WHERE n.id NOT IN (SELECT i.id FROM inserted i);

  RETURN QUERY
    WITH applied AS (
      SELECT a.run_id, a.outcome, a.mailbox
      FROM autoflow_commit_tasks(jsonb_set(batch - 'creates', '{commits}', COALESCE(
        (SELECT jsonb_agg(e.entry ORDER BY e.k)
          FROM jsonb_array_elements(batch -> 'commits') WITH ORDINALITY AS e (entry, k)
          WHERE NOT (e.entry ->> 'run_id') = ANY (refused)),
        '[]'))) AS a
    )
    SELECT c.run_id, COALESCE(a.outcome, 'exists'), a.mailbox
    FROM ROWS FROM (jsonb_to_recordset(batch -> 'commits') AS (run_id text)) WITH ORDINALITY AS c (run_id, k)
    LEFT JOIN applied a ON a.run_id = c.run_id
    ORDER BY c.k;
END;
$$;
