/**
 * What a workflow task keeps of its log lines: each cut at 16 KiB, at most 1,000 lines and 1 MiB in all; the line
 * past a limit becomes a note saying which, and the rest are dropped. A loop that logs the most at their longest
 * stored 16 MiB per task before the size limit.
 */
import { createSecretSource } from '../capabilities/secrets.js';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command } from './model.js';
import { buildTaskCommit, MAX_LOG_CHARS_PER_TASK, MAX_LOG_LINE_CHARS, MAX_LOGS_PER_TASK, newRunRecord } from './task.js';

function logsOf(commands: Command[]) {
  const run = { ...newRunRecord({ id: 'r', workflow: 'wf', version: 'v1', input: null, createdAt: 0 }), historyLength: 5 };
  return buildTaskCommit({
    run,
    owner: 'node',
    time: 1000,
    delivered: [],
    consumedPending: [],
    resolvedCalls: [],
    commands,
    secrets: createSecretSource({}),
    versionOf: () => undefined,
  }).commit.logs;
}

const lines = (count: number, chars: number): Command[] =>
  Array.from({ length: count }, (_, i) => ({ kind: 'log', level: 'info', message: `${i}:`.padEnd(chars, 'x') }));

test('a task keeps log lines up to 1 MiB in all; the line that passes it becomes a note, the rest are dropped', () => {
  const logs = logsOf(lines(100, MAX_LOG_LINE_CHARS));
  const kept = MAX_LOG_CHARS_PER_TASK / MAX_LOG_LINE_CHARS;
  assert.equal(logs.length, kept + 1);
  assert.ok(logs.slice(0, kept).every((log, i) => log.message.startsWith(`${i}:`) && log.message.length === MAX_LOG_LINE_CHARS));
  assert.equal(logs.at(-1)!.message, "(more than 1 MiB of log lines in one workflow task; the rest of this task's lines are dropped)");
  assert.deepEqual(
    logs.map((log) => log.index),
    logs.map((_, i) => 5 * MAX_LOGS_PER_TASK + i),
    'indexes follow each other within the task',
  );
});

test('a task keeps at most 1,000 log lines, the last a note; a longer line is cut at 16 KiB', () => {
  const logs = logsOf(lines(1200, 10));
  assert.equal(logs.length, MAX_LOGS_PER_TASK);
  assert.equal(logs.at(-2)!.message, '998:xxxxxx');
  assert.equal(logs.at(-1)!.message, "(more than 1000 log lines in one workflow task; the rest of this task's lines are dropped)");
  const [long] = logsOf([{ kind: 'log', level: 'warn', message: 'y'.repeat(MAX_LOG_LINE_CHARS + 10) }]);
  assert.match(long!.message, /^y+… \(\d+ more characters cut\)$/);
});
