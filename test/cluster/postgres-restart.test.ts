/**
 * PostgreSQL restarted while runs are in flight: the servers lose every connection (the pool's and
 * the LISTEN one), must reconnect by themselves and finish every run, losing nothing — not even the
 * events accepted just before the restart.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { assertEveryRunCompletedOnce, postgresUnreachable, sleep, useCluster, withAdmin } from './cluster.js';

const RUNS = 30;
const STEPS = 20;
const unreachable = await postgresUnreachable();
/** The local cluster this machine (and CI) runs: Debian's pg_ctlcluster restarts it. */
const CLUSTER = ['15', 'main'];
const restartable = existsSync(`/etc/postgresql/${CLUSTER.join('/')}`)
  ? undefined
  : `no PostgreSQL cluster ${CLUSTER.join(' ')} to restart here`;

function restartPostgres(): void {
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', ...CLUSTER, 'restart'], { stdio: 'pipe' });
}

if ((unreachable ?? restartable) !== undefined && process.env.CI === 'true') {
  it('PostgreSQL restart test (CI must run it)', () =>
    assert.fail(`${unreachable ?? restartable}: CI must provide a restartable PostgreSQL`));
} else {
  describe('PostgreSQL restarted in the middle', { skip: unreachable ?? restartable }, () => {
    const fixture = useCluster({ nodes: 2 });

    it('the servers reconnect and finish every run; nothing accepted is lost', { timeout: 240_000 }, async () => {
      const { counter, cluster } = fixture;
      const ids = Array.from({ length: RUNS }, (_, i) => `chain-${i}`);
      for (const id of ids) await cluster.startRun(id, STEPS, '1s');
      // Once work is really in flight, half the runs are released and PostgreSQL restarts at once:
      // those events were accepted just before the restart and must survive it. The other half is
      // released while the servers reconnect (the test client retries until one accepts).
      const deadline = Date.now() + 30_000;
      while (counter.attempts.length < RUNS * 3) {
        assert.ok(Date.now() < deadline, 'the runs did not get going');
        await sleep(100);
      }
      for (const id of ids.slice(0, RUNS / 2)) await cluster.release(id);
      restartPostgres();
      for (const id of ids.slice(RUNS / 2)) await cluster.release(id);
      await withAdmin((client) => client.query('SELECT 1'));
      await assertEveryRunCompletedOnce(cluster, counter, ids, STEPS, 180_000);
      for (const node of cluster.nodes) assert.ok(node.pid !== undefined, `a server exited:\n${node.output}`);
    });
  });
}
