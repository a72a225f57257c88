import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CapabilityError, MAX_CAUSE_CHARS, MAX_CAUSE_DEPTH, SandboxLimitError, StoreError, toErrorInfo } from './errors.js';
import type { ErrorInfo } from './model.js';

/** The causes below an ErrorInfo, outermost first. */
function causesOf(info: ErrorInfo): ErrorInfo[] {
  const causes: ErrorInfo[] = [];
  for (let cause = info.cause; cause !== undefined; cause = cause.cause) causes.push(cause);
  return causes;
}

test("an error's causes travel with it: name, message and details, without stacks", () => {
  class TicketError extends Error {
    override name = 'TicketError';
    details = { ticket: 42 };
  }
  const error = new Error('gave up', { cause: new TicketError('ticket system refused', { cause: 'root cause: quota' }) });
  assert.deepEqual(toErrorInfo(error).cause, {
    name: 'TicketError',
    message: 'ticket system refused',
    details: { ticket: 42 },
    cause: { name: 'Error', message: 'root cause: quota' },
  });
});

test('the cause chain is bounded: its depth, a cycle, long messages and large details', () => {
  let deep = new Error('root');
  for (let level = 1; level <= 10; level++) deep = new Error(`level ${level}`, { cause: deep });
  const causes = causesOf(toErrorInfo(deep));
  assert.deepEqual(
    causes.map((cause) => cause.message),
    ['level 9', 'level 8', 'level 7', 'level 6'],
  );
  assert.equal(causes.length, MAX_CAUSE_DEPTH);

  const cyclic = new Error('a');
  cyclic.cause = new Error('b', { cause: cyclic });
  assert.equal(causesOf(toErrorInfo(cyclic)).length, MAX_CAUSE_DEPTH);

  const wordy = Object.assign(new Error('x'.repeat(MAX_CAUSE_CHARS + 500)), { details: { blob: 'y'.repeat(MAX_CAUSE_CHARS) } });
  const [cause] = causesOf(toErrorInfo(new Error('top', { cause: wordy })));
  assert.equal(cause?.message, `${'x'.repeat(MAX_CAUSE_CHARS)}… (500 more characters cut)`);
  assert.equal(cause?.details, undefined, 'details too large for a cause are left out');
});

test("an AutoflowError's code is added to its details, unless they have a code of their own", () => {
  const unavailable = new CapabilityError('http_unavailable', 'HTTP 503', { retryable: true, details: { status: 503 } });
  assert.deepEqual(toErrorInfo(unavailable).details, { status: 503, code: 'http_unavailable' });
  assert.deepEqual(toErrorInfo(new StoreError('disk full', { details: { code: 'SQLITE_FULL' } })).details, { code: 'SQLITE_FULL' });
  assert.deepEqual(toErrorInfo(new Error('top', { cause: unavailable })).cause?.details, { status: 503, code: 'http_unavailable' });
});

test("a sandbox limit's stack, which becomes the run's, holds the workflow's frames and none of the host's", () => {
  assert.equal(toErrorInfo(new SandboxLimitError('size', 'too big')).stack, 'SandboxLimitError: too big');
  assert.equal(
    toErrorInfo(new SandboxLimitError('cpu', 'too long', ['    at run (hogs.ts:9:5)'])).stack,
    'SandboxLimitError: too long\n    at run (hogs.ts:9:5)',
  );
});
