-- No change to the tables: from this version on, a `history` row holds the events of one workflow
-- task, as a JSON array keyed by the first event's seq, instead of one event. A step of a run of
-- sequential calls wrote three rows (the task, the call it schedules, the result it received),
-- each an insert into the table and into its key index; it now writes one. Rows written before stay
-- as they are and read as before.
--
-- The version number is what matters: an older AutoFlow, which would misread the new rows, refuses
-- this database with "created by a newer version of AutoFlow" instead of opening it.
SELECT 1;
