-- Indexes for retention (src/app/retention.ts).
--
-- Retention deletes the human tasks of the runs it deletes, and ON DELETE CASCADE then deletes each
-- task's rows of the "my tasks" inbox. Without an index on task_id that cascade reads the whole
-- inbox table once per task.
CREATE INDEX human_task_eligible_by_task ON human_task_eligible (task_id);
-- A definition version is deleted only when no run uses it any more: one index probe per version.
CREATE INDEX runs_by_version ON runs (version);
