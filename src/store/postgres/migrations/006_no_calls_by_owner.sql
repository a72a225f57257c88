-- A node's own leased calls are looked up only when it starts (reclaimOwnCalls), on a range of
-- calls_by_due; an index kept for that alone was one more index entry written and removed by every
-- call of every step.
DROP INDEX IF EXISTS calls_by_owner;
