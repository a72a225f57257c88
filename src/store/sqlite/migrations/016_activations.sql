-- When each workflow's active version became active (Store.listActiveDefinitions): `autoflow workflows` shows it
-- (`deployed_at` is when the version was first stored, so going back to an old version did not show). `activated_by`
-- names the node where nodes are told apart (PostgreSQL); one SQLite server leaves it NULL. NULL for an activation from
-- before this migration.
ALTER TABLE active_definitions ADD COLUMN activated_at INTEGER;
ALTER TABLE active_definitions ADD COLUMN activated_by TEXT;
