-- When, and by which node, each workflow's active version became active (Store.listActiveDefinitions): the node that
-- deploys last makes its version active, so with different workflow files on the nodes (a rolling deploy, an old node
-- restarted) the active version can go back to an old one. The drift warning names who made it active and when, and
-- `autoflow workflows` shows when it became active (`deployed_at` is when the version was first stored). NULL for an
-- activation from before this migration. A node of the previous version that is still running and activates a version
-- leaves them as they were; one that starts after this migration refuses to start.
ALTER TABLE active_definitions ADD COLUMN activated_at bigint, ADD COLUMN activated_by text;
