-- No change to the tables: from this version on, a `history` row holds the events of one workflow
-- task, as a JSON array keyed by the first event's seq, instead of one event (as SQLite's since its
-- migration 005). A step of a run of sequential calls inserted three rows into `history`, each with
-- its key index entry and its foreign-key check on `runs`: the most expensive statement of a
-- commit. It now inserts one. Rows written before stay as they are and read as before.
--
-- The version number is what matters: an older AutoFlow, which would misread the new rows, refuses
-- this database with "created by a newer version of AutoFlow" instead of opening it.
SELECT 1;
