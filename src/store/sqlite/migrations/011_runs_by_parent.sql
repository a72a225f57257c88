-- Retention keeps an ended run while a run refers to it: a child (whose parent_id it is) or the successor it
-- continued as. Otherwise its id would be free again while the child or the chain goes on, and a new run given that
-- id would take the old child for its own, or the old successor for the next run of its chain. This index makes
-- "has it children?" a lookup.
CREATE INDEX runs_by_parent ON runs (parent_id) WHERE parent_id IS NOT NULL;
