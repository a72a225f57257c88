-- `concurrency: { cancelInProgress: true }` (ConcurrencySpec.cancelInProgress): a new run asks the oldest running runs of
-- its group to cancel, as many as it takes for the runs that stay to leave it a slot once those have ended
-- (inProgressToCancel of store/rules.ts), and supersedes the runs queued before it as `queue: 'latest'` does. Such a
-- run has 'cancel-in-progress' in `concurrency_queue` (concurrencyQueueColumn of store/rows.ts): the column holds what a
-- new run does to the others of its group. The admission trigger of 024 is replaced as a whole, for the lines marked
-- "cancel in progress".
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
  -- Cancel in progress: the runs that stay are the slot holders not asked to cancel (stuck ones too, which only an
  -- operator ends); of those, the oldest running ones are asked, through the mailbox as addPending asks, and the node
  -- that advances each is woken.
  IF NEW.concurrency_queue = 'cancel-in-progress' AND NOT keeps_slot THEN
    excess := (SELECT count(*) FROM runs r WHERE r.concurrency_group = NEW.concurrency_group AND r.status IN ('running', 'stuck')
      AND r.id <> NEW.id AND r.cancel_requested_at IS NULL) - (COALESCE(NEW.concurrency_limit, 1) - 1);
    IF excess > 0 THEN
      WITH chosen AS (
        UPDATE runs r SET cancel_requested_at = NEW.created_at, ready_at = LEAST(COALESCE(r.ready_at, NEW.created_at), NEW.created_at)
          WHERE r.id IN (SELECT c.id FROM runs c WHERE c.concurrency_group = NEW.concurrency_group AND c.status = 'running'
            AND c.id <> NEW.id AND c.cancel_requested_at IS NULL ORDER BY c.created_at, c.id LIMIT excess)
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
    IF NEW.concurrency_queue IN ('latest', 'cancel-in-progress') THEN
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
