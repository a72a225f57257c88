import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskCommit, TaskCommitResult } from '../../core/ports.js';
import { commit } from '../conformance/fixtures.js';
import { CommitBatcher } from './commit-batcher.js';

/** A commit of `runId` expecting history length `from`. */
const commitOf = (runId: string, from = 0): TaskCommit => commit(runId, from, 1000);

/** A database stand-in: records each batch it is sent and answers when the test says so. */
function fakeDatabase(fail: (commits: TaskCommit[]) => Error | undefined = () => undefined) {
  const batches: string[][] = [];
  const waiting: Array<() => void> = [];
  const write = (commits: TaskCommit[]): Promise<TaskCommitResult[]> => {
    batches.push(commits.map((commit) => `${commit.runId}@${commit.expectedHistoryLength}`));
    return new Promise((resolve, reject) => {
      waiting.push(() => {
        const error = fail(commits);
        if (error) reject(error);
        else resolve(commits.map(() => ({ ok: true, pending: [] })));
      });
    });
  };
  /** Answers every write sent so far, then lets the batcher send what queued meanwhile. */
  const answerAll = async () => {
    for (const answer of waiting.splice(0)) answer();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { batches, write, answerAll };
}

describe('CommitBatcher', () => {
  it('writes a lone commit at once, and the commits that arrive meanwhile together', async () => {
    const db = fakeDatabase();
    const batcher = new CommitBatcher({ write: db.write, maxInFlight: 1, maxBatch: 100 });
    const first = batcher.submit(commitOf('a'));
    assert.deepEqual(db.batches, [['a@0']], 'nothing waits for company');
    const rest = ['b', 'c', 'd'].map((id) => batcher.submit(commitOf(id)));
    assert.equal(db.batches.length, 1, 'the others wait while a batch is in flight');
    await db.answerAll();
    assert.deepEqual(db.batches, [['a@0'], ['b@0', 'c@0', 'd@0']]);
    await db.answerAll();
    assert.deepEqual(
      await Promise.all([first, ...rest]),
      Array.from({ length: 4 }, () => ({ ok: true, pending: [] })),
    );
  });

  it('puts one commit per run in a batch, in arrival order, and no more than maxBatch', async () => {
    const db = fakeDatabase();
    const batcher = new CommitBatcher({ write: db.write, maxInFlight: 1, maxBatch: 2 });
    const all = [batcher.submit(commitOf('a')), batcher.submit(commitOf('b')), batcher.submit(commitOf('b', 1))];
    all.push(batcher.submit(commitOf('c')), batcher.submit(commitOf('d')));
    for (let i = 0; i < 4; i++) await db.answerAll();
    await Promise.all(all);
    assert.deepEqual(db.batches, [['a@0'], ['b@0', 'c@0'], ['b@1', 'd@0']]);
  });

  it('keeps maxInFlight batches in flight at most', async () => {
    const db = fakeDatabase();
    const batcher = new CommitBatcher({ write: db.write, maxInFlight: 2, maxBatch: 100 });
    const all = ['a', 'b', 'c', 'd'].map((id) => batcher.submit(commitOf(id)));
    assert.deepEqual(db.batches, [['a@0'], ['b@0']]);
    await db.answerAll();
    await db.answerAll();
    await Promise.all(all);
    assert.deepEqual(db.batches, [['a@0'], ['b@0'], ['c@0', 'd@0']]);
  });

  it('when a batch fails, writes each of its commits alone: the bad one fails alone', async () => {
    const bad = new Error('duplicate key value violates unique constraint');
    const db = fakeDatabase((commits) => (commits.some((commit) => commit.runId === 'bad') ? bad : undefined));
    const batcher = new CommitBatcher({ write: db.write, maxInFlight: 1, maxBatch: 100 });
    const first = batcher.submit(commitOf('a'));
    const outcomes = Promise.allSettled(['b', 'bad', 'c'].map((id) => batcher.submit(commitOf(id))));
    for (let i = 0; i < 3; i++) await db.answerAll();
    assert.deepEqual(await first, { ok: true, pending: [] });
    assert.deepEqual(
      (await outcomes).map((outcome) => (outcome.status === 'fulfilled' ? 'ok' : (outcome.reason as Error).message)),
      ['ok', bad.message, 'ok'],
    );
    assert.deepEqual(db.batches, [['a@0'], ['b@0', 'bad@0', 'c@0'], ['b@0'], ['bad@0'], ['c@0']]);
  });
});
