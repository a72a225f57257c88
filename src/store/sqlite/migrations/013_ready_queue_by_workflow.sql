-- The ready queue hands out runs of each workflow in turn (rules.ts, inTurn), so that one workflow with thousands of
-- runs queued (a flood of webhooks, a workflow that starts children without end) cannot hold every slot until its
-- backlog is done. A claim finds the workflows with ready runs and the oldest of each on this index, without reading
-- the whole queue.
CREATE INDEX runs_ready_by_workflow ON runs (workflow, ready_at, id) WHERE ready_at IS NOT NULL;
