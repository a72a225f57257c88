-- A run started on the node that creates it is inserted by the commit of its first workflow task:
-- one transaction, one round trip and one WAL flush fewer per run. The store sends the runs to
-- create under `creates` in the batch document of autoflow_commit_tasks (004):
--
--   creates: [{ id, workflow, version, input, parentId, parentStep, triggerEventSeq, createdAt, leaseOwner, leaseUntil }]
--
-- Each is inserted leased, as createRun inserts one. The commit of a run that existed already is
-- taken out of the batch before it is applied: nothing of it is written, and its outcome is 'exists'.
CREATE FUNCTION autoflow_create_and_commit_tasks(batch jsonb)
  RETURNS TABLE (run_id text, outcome text, mailbox jsonb)
  LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  refused text[];
BEGIN
  WITH inserted AS (
    INSERT INTO runs (id, workflow, version, input, parent_id, parent_step, trigger_event_seq,
        created_at, updated_at, status, ready_at, lease_owner, lease_until)
      SELECT n.id, n.workflow, n.version, n.input, n."parentId", n."parentStep", n."triggerEventSeq",
        n."createdAt", n."createdAt", 'running', n."createdAt", n."leaseOwner", n."leaseUntil"
      FROM jsonb_to_recordset(batch -> 'creates') AS n (id text, workflow text, version text, input text, "parentId" text,
          "parentStep" int, "triggerEventSeq" bigint, "createdAt" bigint, "leaseOwner" text, "leaseUntil" bigint)
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
