-- The statements of autoflow_commit_tasks get one plan per connection, made to suit tables of any
-- size.
--
-- Under the default plan_cache_mode (auto), what a connection does depends on the tables when it
-- opens: PostgreSQL may plan each statement anew on every call, or settle on a plan that scans a
-- table whole because the table was small then. The pool opens connections all the time (an idle
-- one closes after 10 s), so a server that has run for a while commits through such plans.
-- Measured on the bench machine (autovacuum off, one step's commit replayed, connections opened
-- on tables of 600 runs and run on to 1,600): 1.55–1.65 ms per commit under auto; 0.9–1.3 ms,
-- growing with the tables, with one plan per connection that may scan them whole; 0.70–0.76 ms
-- with the settings below. Connections opened on empty tables took about 1 ms under all three.
--
-- With sequential scans counted as a last resort, every statement reads by run id through an
-- index (each has one), so a plan made on nearly empty tables stays right as they grow.
ALTER FUNCTION autoflow_commit_tasks(jsonb) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION autoflow_commit_tasks(jsonb) SET enable_seqscan = off;
