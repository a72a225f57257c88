-- Finding runs by the GitLab object their triggering event is about (`demo/app#42`, and its comments
-- `demo/app#42#note-5`): events by subject (byte order, so that a prefix is a range), runs by the
-- event that started them.

CREATE INDEX events_by_subject ON events (((body::jsonb ->> 'subject')) COLLATE "C") WHERE (body::jsonb ->> 'subject') IS NOT NULL;
CREATE INDEX runs_by_trigger_event ON runs (trigger_event_seq) WHERE trigger_event_seq IS NOT NULL;
