import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunView } from '../../app/operations.js';
import { childrenFirst } from './retry.js';

const failed = (id: string, parentId?: string): RunView => ({
  id,
  workflow: parentId === undefined ? 'train' : 'deploy',
  version: 'v1',
  status: 'failed',
  input: null,
  createdAt: '2026-12-07T10:00:00.000Z',
  updatedAt: '2026-12-07T11:00:00.000Z',
  ...(parentId !== undefined && { parentId }),
});

test('retry --failed takes each child before its parent, deepest first, else in the order the server listed them', () => {
  // Newest failure first, as the server lists them: a parent fails after the child whose failure it received.
  const listed = [
    failed('train-1'),
    failed('other'),
    failed('train-1.web', 'train-1'),
    failed('train-1.web.db', 'train-1.web'),
    failed('orphan', 'gone'),
  ];
  assert.deepEqual(
    childrenFirst(listed).map((run) => run.id),
    ['train-1.web.db', 'train-1.web', 'train-1', 'other', 'orphan'],
  );
});
