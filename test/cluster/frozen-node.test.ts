/**
 * A node frozen with SIGSTOP in the middle of a call, for longer than its leases: the other nodes
 * take its run and call over. Resumed with SIGCONT, it finishes the call it was making and tries to
 * record it — that stale write must be refused, and every run still completes once.
 *
 * The test waits for what it relies on rather than for a fixed time: the frozen run's next step
 * reached on another node (so the frozen node's write is stale for certain), and the refusal.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertEveryRunCompletedOnce, type Attempt, postgresUnreachable, sleep, useCluster } from './cluster.js';

const RUNS = 20;
const STEPS = 20;
const LEASES = { runMs: 2000, callMs: 3000 };
const unreachable = await postgresUnreachable();

/** The value of a counter in a Prometheus exposition, summed over its label sets. */
function total(metrics: string, name: string): number {
  return metrics
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

if (unreachable !== undefined && process.env.CI === 'true') {
  it('frozen node test (CI must run it)', () => assert.fail(`PostgreSQL not reachable (${unreachable}): CI must provide the server`));
} else {
  describe('a node frozen past its lease, then resumed', { skip: unreachable && `PostgreSQL not reachable (${unreachable})` }, () => {
    const fixture = useCluster({ nodes: 3, leases: LEASES });

    it('its stale writes are refused and every run completes once', { timeout: 240_000 }, async () => {
      const { counter, cluster } = fixture;
      const frozen = cluster.nodes[0]!;
      const pid = frozen.pid!;
      const ids = Array.from({ length: RUNS }, (_, i) => `chain-${i}`);
      for (const id of ids) await cluster.startRun(id, STEPS, '1s');
      for (const id of ids) await cluster.release(id);
      const runOf = (attempt: Attempt) => attempt.key.slice(0, attempt.key.lastIndexOf(':'));
      let held: Attempt | undefined;
      let froze: () => void = () => {};
      const frozenMidCall = new Promise<void>((resolve) => (froze = resolve));
      let takenOver = false;
      let letGo: () => void = () => {};
      const released = new Promise<void>((resolve) => (letGo = resolve));
      counter.hold = (attempt) => {
        // The frozen node's next attempt of a step before its run's last is held until the node is
        // stopped: it then holds a call and its run, and answers neither until long after both
        // leases passed.
        if (held === undefined) {
          if (attempt.node !== pid || attempt.i === STEPS - 1) return;
          held = attempt;
          frozen.pause();
          froze();
          return;
        }
        // Another node took the run over and recorded the held step: its next attempt is held in
        // turn, so that the run is still going when the frozen node's stale write arrives.
        if (attempt.node !== pid && runOf(attempt) === runOf(held) && attempt.i > held.i) {
          counter.hold = undefined;
          takenOver = true;
          return released;
        }
      };
      await frozenMidCall;
      for (const deadline = Date.now() + 120_000; !takenOver && Date.now() < deadline;) await sleep(200);
      assert.ok(takenOver, `no other node took ${held?.key} over`);
      frozen.resume();
      let refused = 0;
      for (const deadline = Date.now() + 60_000; refused === 0 && Date.now() < deadline; await sleep(200)) {
        refused = total(await cluster.scrape(frozen), 'autoflow_fenced_writes_total');
      }
      letGo();
      assert.ok(refused >= 1, `the resumed node recorded no refused write of ${held?.key}:\n${frozen.output}`);
      await assertEveryRunCompletedOnce(cluster, counter, ids, STEPS, 180_000);
    });
  });
}
