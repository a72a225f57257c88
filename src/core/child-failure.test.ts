import assert from 'node:assert/strict';
import { test } from 'node:test';
import { childEndError, failedWith } from './child-failure.js';
import { MAX_CAUSE_CHARS } from './errors.js';

const child = { id: 'rt-1.1', workflow: 'release-notes' };

test("a failed child's error names it and keeps the child's whole as its cause; a cancelled one's is its own", () => {
  const error = {
    name: 'TypeError',
    message: 'invalid version segment',
    stack: 'TypeError: invalid version segment\n    at run (notes.ts:4:11)',
  };
  assert.deepEqual(childEndError(child, 'failed', error), {
    name: 'ChildRunFailedError',
    message: 'child run rt-1.1 (workflow release-notes) failed: TypeError: invalid version segment',
    details: { code: 'child_run_failed', childId: 'rt-1.1', workflow: 'release-notes' },
    cause: error,
  });
  const long = childEndError(child, 'failed', { name: 'Error', message: 'x'.repeat(MAX_CAUSE_CHARS + 10) });
  assert.match(long.message, /: Error: x+… \(10 more characters cut\)$/, 'the quoted message is cut; the cause keeps it whole');
  assert.equal(long.cause?.message.length, MAX_CAUSE_CHARS + 10);

  const cancelled = { name: 'CancelledError', message: 'run rt-1.1 was cancelled: not needed' };
  assert.equal(childEndError(child, 'cancelled', cancelled), cancelled);
  assert.deepEqual(childEndError(child, 'cancelled', undefined), { name: 'CancelledError', message: 'child run rt-1.1 was cancelled' });
});

test("a parent failed with a child's failure when its error, or a cause of it, names the child, or is the child's own", () => {
  const childError = { name: 'TypeError', message: 'invalid version segment' };
  const failed = { ...child, error: childError };
  const received = childEndError(child, 'failed', childError);
  assert.equal(failedWith(received, failed), true);
  assert.equal(failedWith({ name: 'Error', message: 'release failed', cause: received }, failed), true);
  assert.equal(failedWith(childError, failed), true, 'from before failures were wrapped');
  assert.equal(failedWith(received, { id: 'rt-1.2', error: childError }), false, 'another child');
  assert.equal(failedWith({ name: 'Error', message: 'boom' }, failed), false);
  assert.equal(failedWith(undefined, failed), false);
});
