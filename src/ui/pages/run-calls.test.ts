/** The run page's open calls say who makes each one, until when, and when that node's lease passed. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CallView, RunView } from '../../app/operations.js';
import { render } from '../static.js';
import { runPage } from './run.js';

const t0 = Date.UTC(2026, 11, 7, 1, 58);
const run: RunView = {
  id: 'r1',
  workflow: 'review',
  version: 'abcdef0123456789',
  status: 'running',
  input: null,
  createdAt: new Date(t0).toISOString(),
  updatedAt: new Date(t0).toISOString(),
};
const call = (step: number, extra: Partial<CallView>): CallView => ({
  step,
  capability: 'http',
  method: 'request',
  attempts: 0,
  nextAt: new Date(t0).toISOString(),
  ...extra,
});

test('each open call says which node makes it and until when, or that its lease passed and another node takes it over', () => {
  const until = new Date(t0 + 120_000).toISOString();
  const html = render(
    runPage({
      session: { username: 'alice', name: 'A', csrf: 't', expiresAt: 1 },
      run,
      history: [],
      logs: [],
      tasks: [],
      children: [],
      calls: [
        call(1, { lease: { node: 'n1', until, passed: false } }),
        call(2, { lease: { node: 'n1', until, passed: true } }),
        call(3, {}),
      ],
      retries: [],
      now: t0,
    }),
  );
  const text = (step: number) =>
    html
      .split(`data-step="${step}"`)[1]!
      .split('</tr>')[0]!
      .replace(/<[^>]+>/g, '')
      .replace(/\s+/g, ' ');
  assert.match(text(1), /running on node n1 \(lease until 2026-12-07 02:00:00/);
  assert.match(text(2), /lease of node n1 passed at 2026-12-07 02:00:00[^:]*: another node takes it over/);
  assert.match(text(3), /due 2026-12-07 01:58:00/);
  assert.doesNotMatch(text(1), /\brunning\b(?! on node)/);
});
