-- Delivery to an outgoing subscriber (src/app/subscribers.ts) is one node's at a time: the holder of the
-- subscriber's row POSTs its events and moves its mark (schedule_ticks, `subscriber:<url>`). Each grant
-- raises `token`, and the mark moves only under the current one, so a node that stalled past its lease
-- cannot move the mark once another node took the subscriber over. A released lease has no owner.
CREATE TABLE subscriber_leases (
  subscriber  TEXT PRIMARY KEY,
  owner       TEXT,
  lease_until INTEGER NOT NULL,
  token       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
