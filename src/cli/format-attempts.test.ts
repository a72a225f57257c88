import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HistoryEvent } from '../core/model.js';
import { formatHistory } from './format.js';

test('a failed call says how many attempts it took once, whether or not its message says that it gave up', () => {
  const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);
  const unavailable = { name: 'CapabilityError', message: 'HTTP 503 from https://x.example/ (gave up after 2 attempts)' };
  const events: HistoryEvent[] = [
    { seq: 0, at: t0, type: 'call_failed', step: 1, error: unavailable, attempts: 2 },
    {
      seq: 1,
      at: t0 + 1,
      type: 'call_failed',
      step: 2,
      error: { name: 'HttpError', message: 'HTTP 404 from https://x.example/' },
      attempts: 1,
    },
  ];
  assert.deepEqual(formatHistory(events), [
    '+0.000s  call_failed  #1 CapabilityError: HTTP 503 from https://x.example/ (gave up after 2 attempts)',
    '+0.001s  call_failed  #2 HttpError: HTTP 404 from https://x.example/ after 1 attempt',
  ]);
});
