-- `concurrency: { cancelInProgress: true }` (ConcurrencySpec.cancelInProgress): the newest `limit` runs of a group run. A
-- new run asks the oldest of the other runs of its group that hold a slot or wait for one, and were not asked before,
-- to cancel, as many as it takes (supersededByNewest of store/rules.ts); a stuck one stays, and the next goes instead.
-- Such a run has 'cancel-in-progress' in `concurrency_queue` (concurrencyQueueColumn of store/rows.ts): the column holds
-- what a new run does to the others of its group.
--
-- The admission trigger of 024 is replaced as a whole. Besides cancel in progress, it now leaves alone an insert whose
-- id a run holds already (ON CONFLICT DO NOTHING skips it, but a BEFORE INSERT trigger fires all the same): with
-- `queue: 'latest'`, a client's second request for a queued run made that run supersede itself. The look for the id
-- comes after the group's lock, in a new snapshot, so that it sees a run of the same id another transaction committed
-- while this one waited for the lock.
CREATE OR REPLACE FUNCTION autoflow_queue_when_group_full() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  n int := substring(NEW.id FROM '~([1-9][0-9]*)$')::int;
  base text := regexp_replace(NEW.id, '~[1-9][0-9]*$', '');
  follows text := CASE WHEN n = 2 THEN base WHEN n > 2 THEN base || '~' || (n - 1) END;
  keeps_slot boolean := follows IS NOT NULL AND EXISTS (
    SELECT 1 FROM runs p WHERE p.id = follows AND p.status = 'continued' AND p.concurrency_group = NEW.concurrency_group);
  taken bigint;
  excess bigint;
BEGIN
  -- A statement of its own, before the look for waiting runs: that one's snapshot is then taken under the lock.
  taken := autoflow_group_slots_taken(NEW.concurrency_group, NEW.id);
  IF EXISTS (SELECT 1 FROM runs r WHERE r.id = NEW.id) THEN
    RETURN NEW;
  END IF;
  -- Cancel in progress: through the mailbox, as addPending asks (a queued run asked to cancel runs at once, to end
  -- without its code: runs_start_queued_to_cancel), and the nodes are woken for the runs they advance.
  IF NEW.concurrency_queue = 'cancel-in-progress' AND NOT keeps_slot THEN
    excess := (SELECT count(*) FROM runs r WHERE r.concurrency_group = NEW.concurrency_group
      AND r.status IN ('running', 'stuck', 'queued') AND r.cancel_requested_at IS NULL) + 1 - COALESCE(NEW.concurrency_limit, 1);
    IF excess > 0 THEN
      WITH chosen AS (
        UPDATE runs r SET cancel_requested_at = NEW.created_at, ready_at = LEAST(COALESCE(r.ready_at, NEW.created_at), NEW.created_at)
          WHERE r.id IN (SELECT c.id FROM runs c WHERE c.concurrency_group = NEW.concurrency_group AND c.status IN ('running', 'queued')
            AND c.cancel_requested_at IS NULL ORDER BY c.created_at, c.queue_seq NULLS FIRST, c.id LIMIT excess)
          RETURNING r.id)
      INSERT INTO pending (run_id, at, resolution)
        SELECT chosen.id, NEW.created_at, json_build_object('kind', 'cancel',
            'reason', 'superseded by run ' || NEW.id || ' of the same concurrency group (concurrency cancelInProgress)')::text
          FROM chosen;
      PERFORM pg_notify('autoflow_wake', current_schema() || ':concurrency');
    END IF;
  END IF;
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
