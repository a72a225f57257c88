/**
 * A node frozen with SIGSTOP in the middle of a call, for longer than its leases: the other nodes
 * take its run and call over. Resumed with SIGCONT, it finishes the call it was making and tries to
 * record it — that stale write must be refused, and every run still completes once.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertEveryRunCompletedOnce, postgresUnreachable, sleep, useCluster } from './cluster.js';

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
      let froze: () => void = () => {};
      const frozenMidCall = new Promise<void>((resolve) => (froze = resolve));
      const ids = Array.from({ length: RUNS }, (_, i) => `chain-${i}`);
      for (const id of ids) await cluster.startRun(id, STEPS, '1s');
      for (const id of ids) await cluster.release(id);
      // The frozen node's next attempt is held until the node is stopped: it then holds a call and
      // its run, and answers neither until long after both leases passed.
      counter.hold = (attempt) => {
        if (attempt.node !== pid || counter.hold === undefined) return;
        counter.hold = undefined;
        frozen.pause();
        froze();
      };
      await frozenMidCall;
      await sleep(LEASES.runMs + LEASES.callMs + 2000);
      const takenOver = counter.attempts.filter((attempt) => attempt.node !== pid).length;
      frozen.resume();
      await assertEveryRunCompletedOnce(cluster, counter, ids, STEPS, 180_000);
      assert.ok(takenOver > 0, 'the other nodes worked while one was frozen');
      const metrics = await cluster.scrape(frozen);
      assert.ok(
        total(metrics, 'autoflow_fenced_writes_total') >= 1,
        `the resumed node recorded no refused write:\n${metrics
          .split('\n')
          .filter((l) => l.startsWith('autoflow_fenced'))
          .join('\n')}\n${frozen.output}`,
      );
    });
  });
}
