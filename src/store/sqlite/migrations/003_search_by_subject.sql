-- Finding runs by the GitLab object their triggering event is about (`demo/app#42`, and its comments
-- `demo/app#42#note-5`): events by subject, runs by the event that started them.

ALTER TABLE events ADD COLUMN subject TEXT GENERATED ALWAYS AS (json_extract(body, '$.subject')) VIRTUAL;
CREATE INDEX events_by_subject ON events (subject) WHERE subject IS NOT NULL;
CREATE INDEX runs_by_trigger_event ON runs (trigger_event_seq) WHERE trigger_event_seq IS NOT NULL;
