import assert from 'node:assert/strict';
import { test } from 'node:test';
import { takeInTurn, takeInTurnReading, type ReadyRun } from './rules.js';
import { seededRandom } from '../../test/helpers/random.js';

test('reading a few runs of each workflow at a time claims what reading all of them would', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const next = seededRandom(seed);
    const workflows = Array.from({ length: 1 + Math.floor(next() * 6) }, (_, i) => `wf-${i}`);
    const runs: ReadyRun[] = [];
    for (const workflow of workflows) {
      // Some workflows with a long backlog, some with one run or none.
      const count = next() < 0.3 ? Math.floor(next() * 80) : Math.floor(next() * 4);
      for (let i = 0; i < count; i++) runs.push({ id: `${workflow}-${i}`, workflow, readyAt: Math.floor(next() * 50) });
    }
    const cancelling = runs.filter(() => next() < 0.05).map((run) => ({ ...run, cancelling: true }));
    const cancelled = new Set(cancelling.map((run) => run.id));
    const busy = new Map(workflows.filter(() => next() < 0.4).map((workflow) => [workflow, Math.floor(next() * 10)]));
    const limit = 1 + Math.floor(next() * 64);
    const olderFirst = (a: ReadyRun, b: ReadyRun) => a.readyAt - b.readyAt || (a.id < b.id ? -1 : 1);
    let reads = 0;
    const read = (workflow: string, offset: number, count: number) => {
      reads++;
      return runs
        .filter((run) => run.workflow === workflow && !cancelled.has(run.id))
        .sort(olderFirst)
        .slice(offset, offset + count);
    };
    const everything = [...cancelling, ...runs.filter((run) => !cancelled.has(run.id))];
    assert.deepEqual(
      takeInTurnReading(workflows, read, cancelling.sort(olderFirst).slice(0, limit), limit, busy),
      takeInTurn(everything, limit, busy),
      `seed ${seed}`,
    );
    assert.ok(reads <= workflows.length + limit, `seed ${seed}: ${reads} reads for a claim of ${limit}`);
  }
});
