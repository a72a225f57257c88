import assert from 'node:assert/strict';
import { test } from 'node:test';
import { concurrencyNotes } from './concurrency-text.js';

test('a queued run held by a stuck run is told that it does not end by itself, and how to end or retry it', () => {
  const heldBy = [
    { id: 'p1', workflow: 'deploy', status: 'stuck' as const, cancelling: false },
    { id: 'p2', workflow: 'deploy', status: 'running' as const, cancelling: false },
  ];
  const notes = concurrencyNotes({ status: 'queued', concurrency: { group: 'deploy', limit: 2, heldBy } });
  assert.deepEqual(notes, [
    'limit 2',
    'queued: it starts when a run holding a slot of the group ends',
    'p1 is stuck and keeps its slot until retried on code that replays it (autoflow retry --latest) or ended (autoflow terminate)',
  ]);
  const running = concurrencyNotes({ status: 'queued', concurrency: { group: 'deploy', limit: 2, heldBy: heldBy.slice(1) } });
  assert.equal(running.length, 2, 'no word of stuck runs when none holds a slot');
});
