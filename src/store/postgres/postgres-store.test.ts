/**
 * The PostgreSQL store against the local server: the conformance suite (each test in a fresh schema
 * `af_<random>`, dropped afterwards) and what only a shared server can show: concurrent migration
 * and concurrent claims from several stores. Unreachable server: skipped locally, a failure in CI.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { StoreError, ValidationError } from '../../core/errors.js';
import {
  assertRetryFromTaskStartOnly,
  call,
  cloudEvent,
  commit,
  events,
  failedRun,
  newRun,
  OWNER,
  runSnapshot,
  startRun,
} from '../conformance/fixtures.js';
import { describeStoreConformance } from '../conformance/store-conformance.js';
import { createPostgresStore, type PostgresStore } from './postgres-store.js';
import { loadMigrations } from './migrate.js';
import { PostgresDataError } from './pg-errors.js';
import { preparing } from './prepared.js';
import { SQL } from './statements.js';
import { commitTasks } from './writes.js';
import { postgresUnreachable, TEST_POSTGRES_URL } from '../../../test/helpers/postgres.js';

const URL = TEST_POSTGRES_URL;

const unreachable = await postgresUnreachable();
const schemas: string[] = [];

/** A new schema name; every one is dropped when the file's tests are done. */
function freshSchema(): string {
  const schema = `af_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  return schema;
}

async function dropSchemas(): Promise<void> {
  const admin = new pg.Client({ connectionString: URL });
  await admin.connect();
  try {
    for (const schema of schemas.splice(0)) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await admin.end();
  }
}

if (unreachable !== undefined) {
  const message = `PostgreSQL not reachable at ${URL} (${unreachable})`;
  if (process.env.CI === 'true') {
    it('PostgreSQL store (CI must run it)', () => assert.fail(`${message}: CI must provide the server`));
  } else {
    describe('PostgreSQL store', { skip: `${message}: start it to run these tests` }, () => {
      it('conformance and PostgreSQL-specific tests', () => {});
    });
  }
} else {
  describeStoreConformance(
    'postgres',
    () => Promise.resolve(createPostgresStore({ url: URL, schema: freshSchema(), poolSize: 4 })),
    dropSchemas,
  );

  describe('PostgreSQL store', () => {
    const open: PostgresStore[] = [];
    after(async () => {
      for (const store of open.splice(0)) await store.close();
      await dropSchemas();
    });
    const storeIn = (schema: string, poolSize = 4) => {
      const store = createPostgresStore({ url: URL, schema, poolSize });
      open.push(store);
      return store;
    };
    const migrated = async (schema = freshSchema()) => {
      const store = storeIn(schema);
      await store.migrate();
      return store;
    };
    const appliedVersions = async (schema: string) => {
      const client = new pg.Client({ connectionString: URL });
      await client.connect();
      try {
        const { rows } = await client.query<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
        return rows.map((row) => row.version);
      } finally {
        await client.end();
      }
    };

    it('migrates once however often it runs, and from several stores at once', async () => {
      const schema = freshSchema();
      const stores = Array.from({ length: 4 }, () => storeIn(schema, 2));
      const latest = loadMigrations().at(-1)!.version;
      const reports = await Promise.all(stores.map((store) => store.migrate()));
      assert.ok(reports.every(({ to }) => to === latest));
      assert.ok(
        reports.some(({ from }) => from === 0),
        'one of them found the schema new',
      );
      assert.deepEqual(await stores[0]!.migrate(), { from: latest, to: latest }, 'nothing to do');
      await stores[1]!.migrate();
      assert.deepEqual(
        await appliedVersions(schema),
        loadMigrations().map((migration) => migration.version),
      );
      await Promise.all(stores.map((store, i) => store.createRun(newRun(`r${i}`))));
      assert.equal((await stores[3]!.listRuns({})).runs.length, 4);
    });

    it('refuses a value PostgreSQL cannot hold as invalid (400), not as a database unavailable (503, retried for ever)', async () => {
      const store = await migrated();
      // Past the checks at the way in, as a value that slipped through would be: U+0000 in a text column and in jsonb.
      await store.createRun(newRun('r1'));
      const refusals = [
        () => store.insertEvent({ ...cloudEvent('e-type'), type: 'com.example.a\u0000b' }, 'e-type', 1000),
        () => store.insertEvent({ ...cloudEvent('e-subject'), subject: 'a\u0000b' }, 'e-subject', 1000),
        () => store.commitTask(commit('r1', 0, 1000, { logs: [{ runId: 'r1', index: 0, at: 1000, level: 'info', message: 'x\u0000y' }] })),
      ];
      const codes: string[] = [];
      for (const refusal of refusals) {
        await assert.rejects(refusal, (error) => {
          assert.ok(error instanceof ValidationError && !(error instanceof StoreError), String(error));
          assert.ok(error instanceof PostgresDataError);
          assert.match(error.message, /^PostgreSQL refused a value: .+ \(22[0-9A-Z]{3}\)$/);
          codes.push(error.sqlState);
          return true;
        });
      }
      assert.deepEqual(codes, ['22021', '22P05', '22P05']);
      assert.deepEqual(await store.listEvents({ limit: 10 }), []);
      assert.equal((await store.getRun('r1'))?.historyLength, 0, 'the refused commit wrote nothing');
    });

    it("keeps the URL's own options and still uses its schema", async () => {
      const schema = freshSchema();
      const applicationName = `af_opts_${randomBytes(4).toString('hex')}`;
      const url = new globalThis.URL(URL);
      url.searchParams.set('options', `-c application_name=${applicationName}`);
      const store = createPostgresStore({ url: url.toString(), schema, poolSize: 1 });
      open.push(store);
      await store.migrate();
      await store.createRun(newRun('r1'));
      assert.deepEqual(
        await appliedVersions(schema),
        loadMigrations().map((migration) => migration.version),
      );
      const admin = new pg.Client({ connectionString: URL });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ sessions: number; stray: string | null }>(
          `SELECT (SELECT count(*)::int FROM pg_stat_activity WHERE application_name = $1) AS sessions,
             to_regclass('public.schema_migrations')::text AS stray`,
          [applicationName],
        );
        assert.deepEqual(rows[0], { sessions: 1, stray: null }, 'the pool runs with the URL options, and wrote nothing into public');
      } finally {
        await admin.end();
      }
    });

    it('refuses a database migrated by a newer version, telling to upgrade', async () => {
      const schema = freshSchema();
      await migrated(schema);
      const admin = new pg.Client({ connectionString: URL });
      await admin.connect();
      await admin.query(`INSERT INTO "${schema}".schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`);
      await admin.end();
      await assert.rejects(
        storeIn(schema).migrate(),
        (error: unknown) =>
          error instanceof StoreError && /newer version of AutoFlow \(schema version 999.*Upgrade AutoFlow/.test(error.message),
      );
    });

    it('says to check where it looks, or to start a server on it once, when the schema is missing', async () => {
      await assert.rejects(
        storeIn(freshSchema()).getRun('x'),
        (error: unknown) =>
          error instanceof StoreError &&
          /has no AutoFlow schema yet.*start an AutoFlow server on it once, which creates it \(store\.migrate\(\)\)/.test(error.message),
      );
    });

    it('explains an unreachable server, with the URL and its password masked', async () => {
      const store = createPostgresStore({ url: 'postgres://autoflow:s3cret@127.0.0.1:1/nowhere', connectTimeoutMs: 2000 });
      await assert.rejects(store.migrate(), (error: unknown) => {
        assert.ok(error instanceof StoreError, String(error));
        assert.match(error.message, /cannot reach PostgreSQL at postgres:\/\/autoflow:\*\*\*\*@127\.0\.0\.1:1\/nowhere/);
        assert.match(error.message, /check that the server is running/);
        assert.doesNotMatch(error.message, /s3cret/);
        return true;
      });
      await store.close();
    });

    it('reports an idle connection that the server killed, and keeps answering on a new one', { timeout: 20_000 }, async () => {
      const schema = freshSchema();
      const applicationName = `af_idle_${randomBytes(4).toString('hex')}`;
      const url = new globalThis.URL(URL);
      url.searchParams.set('application_name', applicationName);
      let report: (error: Error) => void = () => {};
      const reported = new Promise<Error>((resolve) => (report = resolve));
      const store = createPostgresStore({ url: url.toString(), schema, poolSize: 1, onIdleConnectionError: (error) => report(error) });
      open.push(store);
      await store.migrate();
      // A read: it leaves the pool's one connection idle (a write would also send a NOTIFY on it).
      assert.equal(await store.getRun('absent'), undefined);

      const admin = new pg.Client({ connectionString: URL });
      await admin.connect();
      try {
        const { rowCount } = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
          applicationName,
        ]);
        assert.equal(rowCount, 1);
      } finally {
        await admin.end();
      }
      const error = await reported;
      assert.ok(error instanceof StoreError, String(error));
      assert.match(error.message, /is shutting down or starting up/);
      assert.equal(await store.getRun('absent'), undefined);
    });

    it('lets one of several servers starting at once on an empty database make the first API token', async () => {
      const schema = freshSchema();
      const first = await migrated(schema);
      const stores = [first, ...Array.from({ length: 5 }, () => storeIn(schema, 2))];
      const made = await Promise.all(stores.map((store, i) => store.addFirstApiToken(`hash-${i}`, 'admin', 1000)));
      assert.equal(made.filter(Boolean).length, 1, 'one token made');
      assert.equal(await first.countApiTokens(), 1);
      const accepted = await Promise.all(stores.map((_, i) => first.hasApiToken(`hash-${i}`)));
      assert.deepEqual(accepted, made, 'only the one made is accepted');
    });

    it('never lets two stores claim the same ready run', async () => {
      const schema = freshSchema();
      const [a, b] = [await migrated(schema), storeIn(schema, 8)];
      await Promise.all(Array.from({ length: 300 }, (_, i) => a.createRun(newRun(`run-${i}`, { createdAt: i }))));
      /**
       * Three concurrent loops per store, each its own node (an owner may claim its own lease again),
       * each running an (empty) task for what it claimed: then the run is no longer ready.
       */
      const claimAll = async (store: PostgresStore, node: string) => {
        const claimed: string[] = [];
        const loop = async (owner: string) => {
          for (;;) {
            const batch = await store.claimReadyRuns(owner, 1000, 60_000, 7);
            if (batch.length === 0) return;
            claimed.push(...batch);
            for (const id of batch) assert.deepEqual(await store.commitTask({ ...commit(id, 0, 1000), owner }), { ok: true, pending: [] });
          }
        };
        await Promise.all([1, 2, 3].map((n) => loop(`${node}-${n}`)));
        return claimed;
      };
      const [byA, byB] = await Promise.all([claimAll(a, 'node-a'), claimAll(b, 'node-b')]);
      const all = [...byA, ...byB];
      assert.equal(new Set(all).size, all.length, 'no run claimed twice');
      assert.equal(all.length, 300);
      assert.ok(byA.length > 0 && byB.length > 0, `both claimed (${byA.length} / ${byB.length})`);
    });

    it('lets several stores sweep old runs and events at once: each goes once, nothing fails, nothing else goes', async () => {
      const schema = freshSchema();
      const [a, b, c] = [await migrated(schema), storeIn(schema, 8), storeIn(schema, 8)];
      for (let i = 0; i < 120; i++) {
        await startRun(a, `ended-${i}`);
        await a.commitTask(commit(`ended-${i}`, 2, 2000, { status: { status: 'completed', result: i } }));
        const { seq } = await a.insertEvent(cloudEvent(`e-${i}`), `e-${i}`, 100 + i);
        await a.routeEvent({ eventSeq: seq, newRuns: [], deliveries: [], markRouted: true });
      }
      await startRun(a, 'running');
      const recent = await a.insertEvent(cloudEvent('recent'), 'recent', 9000);
      /** One node's sweep as the retention sweeper runs it: small batches until one deletes nothing. */
      const sweep = async (store: PostgresStore) => {
        let runs = 0;
        let events = 0;
        for (let n; (n = await store.deleteEndedRuns(5000, 7)) > 0;) runs += n;
        for (let n; (n = await store.deleteOldEvents(5000, Number.MAX_SAFE_INTEGER, 7)) > 0;) events += n;
        return { runs, events };
      };
      const swept = await Promise.all([a, b, c].map(sweep));
      assert.equal(
        swept.reduce((sum, s) => sum + s.runs, 0),
        120,
      );
      assert.equal(
        swept.reduce((sum, s) => sum + s.events, 0),
        120,
      );
      assert.deepEqual(await a.countRunsByStatus(), { running: 1 });
      assert.deepEqual(
        (await a.listEvents({ limit: 10 })).map((e) => e.seq),
        [recent.seq],
      );
    });

    it('deletes an ended run with 300,000 log lines in statements that each fit in the query timeout; a run being deleted reads as gone', async () => {
      const schema = freshSchema();
      const store = createPostgresStore({ url: URL, schema, poolSize: 4, queryTimeoutMs: 500 });
      open.push(store);
      await store.migrate();
      for (const id of ['big', 'half-deleted']) {
        await startRun(store, id);
        await store.commitTask(commit(id, 2, 2000, { status: { status: 'completed', result: 'done' } }));
      }
      const admin = new pg.Client({ connectionString: URL });
      await admin.connect();
      try {
        await admin.query(`INSERT INTO "${schema}".logs (run_id, idx, at, level, message)
          SELECT 'big', 2000 + i, 2000, 'info', 'line ' || i || repeat('x', 250) FROM generate_series(1, 300000) AS i`);
        // A sweep that stopped after marking the run and deleting part of its rows (its node died).
        await admin.query(`UPDATE "${schema}".runs SET deleting = true WHERE id = 'half-deleted'`);
        await admin.query(`DELETE FROM "${schema}".history WHERE run_id = 'half-deleted' AND seq > 0`);
        assert.equal(await store.getRun('half-deleted'), undefined, 'no run with part of its history is shown');
        assert.deepEqual(
          (await store.listRuns({})).runs.map((run) => run.id),
          ['big'],
        );
        await assert.rejects(store.createRun(newRun('half-deleted')), /being deleted by retention\); try again in a moment/);

        assert.equal(await store.deleteEndedRuns(1_000_000, 200), 2);
        const left = await admin.query<{ n: number }>(
          `SELECT (SELECT count(*) FROM "${schema}".logs)::int + (SELECT count(*) FROM "${schema}".history)::int AS n`,
        );
        assert.equal(left.rows[0]?.n, 0);
        assert.equal((await store.createRun(newRun('half-deleted'))).created, true, 'its id is free again');
        assert.deepEqual(await store.loadHistory('half-deleted'), []);
      } finally {
        await admin.end();
      }
    });

    it('answers a create with the run another node inserted while the create waited for it', async () => {
      const schema = freshSchema();
      const store = await migrated(schema);
      const other = new pg.Client({ connectionString: URL });
      await other.connect();
      try {
        await other.query('BEGIN');
        await other.query(
          `INSERT INTO "${schema}".runs (id, workflow, version, input, created_at, updated_at, status, ready_at)
           VALUES ('contested', 'wf', 'v-other', '{}', 5, 5, 'running', 5)`,
        );
        const creating = store.createRun(newRun('contested', { version: 'v-mine' }));
        // The create waits on the uncommitted row; its snapshot is older than the row will be.
        for (let look = 0; ; look++) {
          // Inside a transaction, pg_stat_activity is a snapshot taken at its first read: drop it,
          // or every look sees the moment before the create began to wait.
          await other.query('SELECT pg_stat_clear_snapshot()');
          const { rows } = await other.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO runs%'`,
          );
          if (rows[0]!.n > 0) break;
          if (look === 10_000) assert.fail('the create never waited for the other insert');
        }
        await other.query('COMMIT');
        const { created, run } = await creating;
        assert.equal(created, false);
        assert.equal(run.version, 'v-other');
      } finally {
        await other.end();
      }
    });

    it('never lets two stores claim the same due call', async () => {
      const schema = freshSchema();
      const [a, b] = [await migrated(schema), storeIn(schema, 8)];
      await startRun(a, 'r1', { calls: Array.from({ length: 200 }, (_, i) => call('r1', i + 1, 1000)) });
      /**
       * Three concurrent loops per store, each its own node, each executing what it claimed (the
       * call is resolved and gone; an owner may claim its own leased calls again).
       */
      const claimAll = async (store: PostgresStore, node: string) => {
        const claimed: number[] = [];
        const loop = async (owner: string) => {
          for (;;) {
            const batch = await store.claimDueCalls(owner, 1000, 60_000, 5);
            if (batch.length === 0) return;
            claimed.push(...batch.map((c) => c.step));
            for (const { step } of batch) {
              assert.equal(await store.resolveCall('r1', step, { kind: 'call', step, ok: true, value: owner }, 1, 1000), true);
            }
          }
        };
        await Promise.all([1, 2, 3].map((n) => loop(`${node}-${n}`)));
        return claimed;
      };
      const [byA, byB] = await Promise.all([claimAll(a, 'node-a'), claimAll(b, 'node-b')]);
      assert.equal(byA.length + byB.length, 200, 'each call claimed exactly once');
      assert.equal(new Set([...byA, ...byB]).size, 200);
    });

    it('refuses a retry point inside a stored task, leaving the run failed with its history', async () => {
      const store = await migrated();
      // Its history rows begin at seqs 0, 2 and 4: one per workflow task.
      const retry = await failedRun(store, 'r1');
      const before = await runSnapshot(store, 'r1');
      for (const keep of [1, 3, 5]) {
        await assert.rejects(
          store.retryRun({ ...retry, keepHistoryLength: keep }),
          (error: unknown) => error instanceof StoreError && /not where a workflow task begins/.test(error.message),
          `keep ${keep}`,
        );
      }
      await assertRetryFromTaskStartOnly(store, retry, before);
    });

    it('lets exactly one of two stores retrying the same failed run at once succeed', async () => {
      const schema = freshSchema();
      const [a, b] = [await migrated(schema), storeIn(schema, 8)];
      const retries = [];
      for (let i = 0; i < 20; i++) retries.push(await failedRun(a, `r${i}`));
      const outcomes = await Promise.all(retries.map((retry) => Promise.all([a.retryRun(retry), b.retryRun(retry)])));
      for (const [i, [byA, byB]] of outcomes.entries()) assert.equal(Number(byA) + Number(byB), 1, `run r${i}: ${byA} / ${byB}`);
      for (const retry of retries) {
        // Applied once: the mailbox and the calls are there once, not twice.
        assert.equal((await a.getRun(retry.runId))?.historyLength, retry.keepHistoryLength);
        assert.equal((await a.loadPending(retry.runId)).length, retry.pending.length);
        assert.deepEqual(await a.listCalls(retry.runId), retry.calls);
      }
    });

    it(
      'never runs more of a concurrency group than its limit while two stores create and end its runs at once',
      { timeout: 60_000 },
      async () => {
        const schema = freshSchema();
        const [a, b] = [await migrated(schema), storeIn(schema, 8)];
        const group = { group: 'deploy:production', limit: 2 };
        // A third connection reads the group's running runs over and over while the stores write.
        const watcher = new pg.Client({ connectionString: URL, options: `-c search_path=${schema}` });
        await watcher.connect();
        let watching = true;
        let mostRunning = 0;
        const watch = (async () => {
          while (watching) {
            const { rows } = await watcher.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE status IN ('running', 'stuck')`);
            mostRunning = Math.max(mostRunning, rows[0]!.n);
          }
        })();
        try {
          // Forty runs, half through each store, each store from several pooled connections at once.
          const created = await Promise.all(
            Array.from({ length: 40 }, (_, i) =>
              (i % 2 === 0 ? a : b).createRun(newRun(`deploy-${i}`, { createdAt: 1000 + (i % 7), concurrency: group })),
            ),
          );
          assert.ok(created.every((result) => result.created));
          assert.equal(created.filter((result) => result.run.status === 'running').length, 2);
          const counts = await b.countRunsByStatus();
          assert.deepEqual({ running: counts.running, queued: counts.queued }, { running: 2, queued: 38 });

          // A run the other store ends wakes this one for the queued run that starts in its place.
          let wakes = 0;
          let connected!: () => void;
          const listening = new Promise<void>((resolve) => (connected = resolve));
          const stopListening = a.listen(
            () => {
              wakes++;
              connected();
            },
            () => {},
          );
          await listening; // the wake after connecting
          wakes = 0;
          const [first] = await b.claimReadyRuns('node-b-0', 2000, 60_000, 1);
          assert.ok(first !== undefined);
          assert.equal(
            (await b.commitTask({ ...commit(first, 0, 2000, { status: { status: 'completed' } }), owner: 'node-b-0' })).ok,
            true,
          );
          for (let waited = 0; wakes === 0 && waited < 5000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
          await stopListening();
          assert.ok(wakes > 0, 'woken by the run the other store started');

          // Three nodes on each store claim the runs as they start and end them, in turn completed, failed or cancelled,
          // while both stores create forty more, two at a time.
          const endings = [
            { status: 'completed' as const },
            { status: 'failed' as const, error: { name: 'Error', message: 'broke' } },
            { status: 'cancelled' as const },
          ];
          const ended: string[] = [first];
          const deadline = Date.now() + 20_000;
          let creating = true;
          const late = (async () => {
            for (let i = 40; i < 80; i += 2) {
              const run = (n: number) => newRun(`deploy-${n}`, { createdAt: 3000 + n, concurrency: group });
              await Promise.all([a.createRun(run(i)), b.createRun(run(i + 1))]);
            }
            creating = false;
          })();
          const work = async (store: PostgresStore, owner: string) => {
            for (;;) {
              const [id] = await store.claimReadyRuns(owner, 3000, 60_000, 1);
              if (id === undefined) {
                const now = await store.countRunsByStatus();
                if (!creating && !now.running && !now.queued) return;
                assert.ok(Date.now() < deadline, `no run to claim, yet ${now.running ?? 0} running and ${now.queued ?? 0} queued`);
                await new Promise((resolve) => setTimeout(resolve, 2));
                continue;
              }
              const status = endings[ended.length % endings.length]!;
              ended.push(id);
              assert.equal((await store.commitTask({ ...commit(id, 0, 3000, { status }), owner })).ok, true, `ending ${id}`);
            }
          };
          await Promise.all([late, ...[a, b].flatMap((store, s) => [1, 2, 3].map((n) => work(store, `node-${s}-${n}`)))]);
          assert.equal(new Set(ended).size, 80, 'each run started and ended once');
          const final = await a.countRunsByStatus();
          assert.equal((final.completed ?? 0) + (final.failed ?? 0) + (final.cancelled ?? 0), 80);
          assert.equal(final.queued ?? 0, 0);
        } finally {
          watching = false;
          await watch;
          await watcher.end();
        }
        assert.ok(mostRunning <= 2, `at most 2 running at once, seen ${mostRunning}`);
      },
    );

    it('reads a history written one event per row before 008 together with the task rows written after', async () => {
      const schema = freshSchema();
      const store = await migrated(schema);
      await store.createRun(newRun('r1'));
      const before = [
        { type: 'run_started' as const, workflow: 'wf', version: 'v1', input: null, seq: 0, at: 1 },
        { type: 'workflow_task' as const, time: 1, seq: 1, at: 1 },
      ];
      const admin = new pg.Client({ connectionString: URL, options: `-c search_path=${schema}` });
      await admin.connect();
      try {
        const insert = 'INSERT INTO history (run_id, seq, body) VALUES ($1, $2, $3)';
        for (const event of before) await admin.query(insert, ['r1', event.seq, JSON.stringify(event)]);
        await admin.query(`UPDATE runs SET history_length = 2 WHERE id = 'r1'`);
      } finally {
        await admin.end();
      }
      const after = [
        { type: 'workflow_task' as const, time: 2, seq: 2, at: 2 },
        { type: 'run_completed' as const, result: 'done', seq: 3, at: 2 },
      ];
      const ending = commit('r1', 2, 2, { history: after, status: { status: 'completed', result: 'done' } });
      assert.equal((await store.commitTask(ending)).ok, true);
      assert.deepEqual(await store.loadHistory('r1'), [...before, ...after]);
      assert.deepEqual(await store.loadHistory('r1', 1), [...before.slice(1), ...after]);
      assert.deepEqual(await store.loadHistory('r1', 3), after.slice(1));
    });

    it('creates runs and refuses to create existing ones within one batch, applying the rest', async () => {
      const schema = freshSchema();
      const store = await migrated(schema);
      await startRun(store, 'old');
      await startRun(store, 'busy');
      const client = new pg.Client({ connectionString: URL, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        const create = (id: string) =>
          commit(id, 0, 1000, { calls: [call(id, 1)], create: { run: newRun(id), lease: { owner: OWNER, until: 2000 } } });
        assert.deepEqual(await commitTasks(preparing(client), [create('new-1'), create('old'), commit('busy', 2, 1200), create('new-2')]), [
          { ok: true, pending: [] },
          { ok: false, reason: 'exists' },
          { ok: true, pending: [] },
          { ok: true, pending: [] },
        ]);
      } finally {
        await client.end();
      }
      for (const id of ['new-1', 'new-2']) assert.deepEqual(await store.listCalls(id), [call(id, 1)]);
      assert.deepEqual(await store.listCalls('old'), [], 'nothing of the refused commit was written');
      assert.equal((await store.getRun('old'))?.historyLength, 2);
      assert.equal((await store.getRun('busy'))?.historyLength, 3);
    });

    it('counts the ready queue by workflow on a ready index, not by reading every run', async () => {
      const schema = freshSchema();
      const store = await migrated(schema);
      const admin = new pg.Client({ connectionString: URL, options: `-c search_path=${schema}` });
      await admin.connect();
      try {
        // Most runs ended, a few hundred ready in ten workflows: as a server that has run for a while has them.
        await admin.query(`INSERT INTO runs (id, workflow, version, input, created_at, updated_at, status, history_length, ready_at)
          SELECT 'r' || i, 'wf' || (i % 10), 'v1', '{}', i, i, CASE WHEN i <= 300 THEN 'running' ELSE 'completed' END, 1,
            CASE WHEN i <= 300 THEN i END
          FROM generate_series(1, 20000) AS i`);
        await admin.query('ANALYZE runs');
        const { rows } = await admin.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${SQL.queueStats}`);
        const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
        assert.match(plan, /Index Scan on runs_ready/, plan);
        assert.doesNotMatch(plan, /Seq Scan/, plan);
      } finally {
        await admin.end();
      }
      const queue = await store.queueStats();
      assert.equal(queue.byWorkflow.length, 10);
      assert.deepEqual(queue.byWorkflow[0], { workflow: 'wf0', readyRuns: 30, oldestReadyAt: 10 });
    });

    it('commits read by index on a connection that planned them while the tables were empty', async () => {
      const schema = freshSchema();
      const store = await migrated(schema);
      await store.createRun(newRun('r1'));
      // The commit function's statements, as PostgreSQL plans them, reported to this client.
      const client = new pg.Client({ connectionString: URL, options: `-c search_path=${schema}` });
      const plans: string[] = [];
      client.on('notice', (notice) => plans.push(notice.message ?? ''));
      await client.connect();
      try {
        await client.query(`LOAD 'auto_explain'`);
        await client.query(
          'SET auto_explain.log_min_duration = 0; SET auto_explain.log_nested_statements = on; SET client_min_messages = log',
        );
        const connection = preparing(client);
        // One step: the call made in the task before is resolved, and the next one is scheduled.
        const step = (n: number) =>
          commit('r1', 2 * n, 1000, {
            history: events(2 * n, 1000, { type: 'workflow_task', time: 1000 }, { type: 'timer_fired', step: n }),
            resolvedCalls: n === 0 ? [] : [n],
            calls: [call('r1', n + 1)],
          });
        for (let n = 0; n < 8; n++) assert.deepEqual(await commitTasks(connection, [step(n)]), [{ ok: true, pending: [] }]);

        // Tables as a server that has run for a while has them; the plans of this connection stay.
        const admin = new pg.Client({ connectionString: URL, options: `-c search_path=${schema}` });
        await admin.connect();
        try {
          await admin.query(`INSERT INTO runs (id, workflow, version, input, created_at, updated_at, status, history_length)
            SELECT 'filler-' || i, 'wf', 'v1', '{}', i, i, 'completed', 1 FROM generate_series(1, 20000) AS i`);
          await admin.query(`INSERT INTO calls (run_id, step, capability, method, args, attempts, next_at, due_at)
            SELECT 'filler-' || i, 1, 'http', 'request', '{}', 0, i, i FROM generate_series(1, 20000) AS i`);
          await admin.query(`INSERT INTO history (run_id, seq, body) SELECT 'filler-' || i, 0, '{}' FROM generate_series(1, 20000) AS i`);
        } finally {
          await admin.end();
        }
        plans.length = 0;
        assert.deepEqual(await commitTasks(connection, [step(8)]), [{ ok: true, pending: [] }]);
        // A child whose id a run holds, and a cancel for a child that continued (013), each by index too.
        const taken = commit('r1', 18, 1000, { children: [newRun('filler-1', { parentId: 'r1', parentStep: 20 })] });
        assert.equal((await commitTasks(connection, [taken]))[0]?.ok, true);
        const cancelled = commit('r1', 19, 1000, { status: { status: 'cancelled' }, cancelChildren: [{ runId: 'filler-2', reason: 'x' }] });
        assert.equal((await commitTasks(connection, [cancelled]))[0]?.ok, true);
        assert.ok(
          plans.some((plan) => plan.includes('INSERT INTO history')),
          'the plans of the commit function were reported',
        );
        assert.ok(
          plans.some((plan) => plan.includes('WITH RECURSIVE chain')),
          'the plans of a child cancel were reported',
        );
        const fullScans = plans.filter((plan) => /Seq Scan on (runs|calls|history|pending)\b/.test(plan));
        assert.deepEqual(fullScans, [], 'no statement of a commit scans a table whole');
      } finally {
        await client.end();
      }
    });
  });
}
