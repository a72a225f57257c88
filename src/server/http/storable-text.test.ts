/**
 * Text that PostgreSQL cannot hold — U+0000 anywhere, a lone UTF-16 surrogate — and JSON numbers out of range, on a
 * real runtime on SQLite and on PostgreSQL: both stores answer alike. What comes from outside is refused with a 400
 * that names where it is; what a workflow logs is kept with U+FFFD in its place; what it emits or asks of people fails
 * its call at once; a query for such a value finds nothing. Event attributes have lengths every index can hold.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { adminQuery, postgresUnreachable, TEST_POSTGRES_URL, urlInSchema } from '../../../test/helpers/postgres.js';
import { workflowFolder } from '../../../test/helpers/workflow-files.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../../app/runtime.js';
import type { DatabaseConfig } from '../../config/database.js';
import { createMemoryLogger } from '../testing/fake-operations.js';
import { call } from '../testing/request.js';
import { createApp } from './app.js';

const folder = workflowFolder({
  'logger.ts': `import { log, workflow } from 'autoflow';
export default workflow({ name: 'logger', async run() {
  log.info('x\\u0000y');
  log.info('a\\ud800b');
  log.info('pair \\ud83d\\ude00 kept');
  return 'logged';
} });`,
  'emitter.ts': `import { emit, workflow } from 'autoflow';
export default workflow({ name: 'emitter', async run() { await emit('t', { t: 'a\\u0000b' }); return 'emitted'; } });`,
  'asker.ts': `import { tasks, workflow } from 'autoflow';
export default workflow({ name: 'asker', async run() { return tasks.approval({ title: 'x\\u0000', approvers: ['alice'] }); } });`,
  'waiter.ts': `import { signal, workflow } from 'autoflow';
export default workflow({ name: 'waiter', async run() { return signal('go', { timeout: '1h' }); } });`,
});
const sqliteDir = mkdtempSync(join(tmpdir(), 'autoflow-storable-text-'));
after(() => {
  folder.remove();
  rmSync(sqliteDir, { recursive: true, force: true });
});

const SECRET = 'webhook-secret';
const NUL = 'a NUL character (U+0000), which AutoFlow does not store: PostgreSQL cannot hold it';
const event = { specversion: '1.0', id: 'e-1', source: 'urn:test', type: 'com.example.thing', data: { n: 1 } };

/**
 * `length` characters of three bytes each in UTF-8, the widest per UTF-16 code unit, that do not repeat: PostgreSQL
 * compresses an index entry that repeats itself, and would hold a longer one.
 */
function wide(length: number): string {
  return Array.from({ length }, (_, i) => String.fromCharCode(0x4e00 + ((i * 7919) % 20_000))).join('');
}

interface RunBody {
  status: string;
  error?: { name: string; message: string };
}

const unreachable = await postgresUnreachable();

/** The stores to run on: SQLite always; PostgreSQL when reachable (in CI it must be). */
const stores: { name: string; db: () => Promise<DatabaseConfig>; skip?: string }[] = [
  { name: 'SQLite', db: () => Promise.resolve({ kind: 'sqlite', path: join(sqliteDir, `${randomBytes(4).toString('hex')}.db`) }) },
  {
    name: 'PostgreSQL',
    db: async () => {
      const schema = `af_text_${randomBytes(6).toString('hex')}`;
      await adminQuery(`CREATE SCHEMA ${schema}`);
      schemasToDrop.push(schema);
      return { kind: 'postgres', url: urlInSchema(schema) };
    },
    ...(unreachable !== undefined &&
      process.env.CI !== 'true' && { skip: `PostgreSQL not reachable at ${TEST_POSTGRES_URL} (${unreachable})` }),
  },
];
const schemasToDrop: string[] = [];
after(async () => {
  for (const schema of schemasToDrop.splice(0)) await adminQuery(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
});

for (const store of stores) {
  describe(`on ${store.name}`, { ...(store.skip !== undefined && { skip: store.skip }) }, () => {
    let runtime: Runtime;
    let app: ReturnType<typeof createApp>;
    before(async () => {
      runtime = await createRuntime(
        embeddedRuntimeConfig({
          db: await store.db(),
          workflowsDir: folder.dir,
          apiToken: 'test-token',
          webhookSources: [{ name: 'gitlab', secret: SECRET }],
        }),
        { logger: createMemoryLogger() },
      );
      await runtime.start();
      app = createApp({ operations: runtime.operations, logger: createMemoryLogger() });
    });
    after(async () => {
      await runtime.stop();
    });

    const eventsStored = async () => (await runtime.operations.listEvents({})).map((stored) => stored.id);

    test('a log line with U+0000 or a lone surrogate is kept with U+FFFD in its place, and the run goes on', async () => {
      assert.equal((await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'logger', id: 'log-1' } })).status, 201);
      const run = await call<RunBody>(app, 'GET', '/api/v1/runs/log-1?wait=20');
      assert.equal(run.body.status, 'completed', JSON.stringify(run.body));
      const logs = await call<{ logs: { message: string }[] }>(app, 'GET', '/api/v1/runs/log-1/logs');
      assert.deepEqual(
        logs.body.logs.map((line) => line.message),
        ['x\ufffdy', 'a\ufffdb', 'pair \ud83d\ude00 kept'],
      );
    });

    test('an event with U+0000, a lone surrogate or a number out of range in its data, subject or type is a 400 naming where', async () => {
      const refusals: [unknown, string | RegExp][] = [
        [{ ...event, id: 'nul-data', data: { labels: [{ title: 'x\u0000y' }] } }, `data.labels.0.title: contains ${NUL}`],
        [{ ...event, id: 'nul-key', data: { labels: { 'a\u0000': 1 } } }, `data.labels: has a key that contains ${NUL}`],
        [{ ...event, id: 'nul-subject', subject: 'a\u0000b' }, `subject: contains ${NUL}`],
        [{ ...event, id: 'nul-type', type: 'com.example.a\u0000b' }, `type: contains ${NUL}`],
        [{ ...event, id: 'surrogate', data: { t: 'a\ud800b' } }, /^data\.t: contains a lone surrogate/],
        [{ ...event, id: 'surrogate-subject', subject: '\udc00' }, /^subject: contains a lone surrogate/],
        [{ ...event, id: 'nul-media-type', datacontenttype: 'a\u0000' }, `datacontenttype: contains ${NUL}`],
        [
          '{"specversion":"1.0","id":"huge","source":"urn:test","type":"com.example.thing","data":{"n":1e400}}',
          /^data\.n: is a number out of range/,
        ],
      ];
      for (const [body, issue] of refusals) {
        const refused = await call(app, 'POST', '/api/v1/events', { body });
        assert.equal(refused.status, 400, JSON.stringify(refused.body));
        assert.equal(refused.body.error.code, 'invalid');
        assert.equal(refused.body.error.issues?.length, 1, JSON.stringify(refused.body));
        if (typeof issue === 'string') assert.equal(refused.body.error.issues?.[0], issue);
        else assert.match(refused.body.error.issues?.[0] ?? '', issue);
      }
      assert.deepEqual(await eventsStored(), []);
      assert.equal(
        (await call(app, 'POST', '/api/v1/events', { body: { ...event, id: 'fine', data: { t: '\ud83d\ude00' } } })).status,
        202,
      );
    });

    test('a run input, a signal and a GitLab webhook with U+0000 or a number out of range are 400s, not 503s retried for ever', async () => {
      const input = await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'waiter', input: { name: 'x\u0000' } } });
      assert.equal(input.status, 400, JSON.stringify(input.body));
      assert.deepEqual(input.body.error.issues, [`input.name: contains ${NUL}`]);
      const huge = await call(app, 'POST', '/api/v1/runs', { body: '{"workflow":"waiter","input":{"n":-1e400}}' });
      assert.equal(huge.status, 400, JSON.stringify(huge.body));
      assert.match(huge.body.error.issues?.[0] ?? '', /^input\.n: is a number out of range/);

      assert.equal((await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'waiter', id: 'waits' } })).status, 201);
      const signal = await call(app, 'POST', '/api/v1/runs/waits/signals/go', { body: { note: 'x\u0000' } });
      assert.equal(signal.status, 400, JSON.stringify(signal.body));
      assert.deepEqual(signal.body.error.issues, [`data.note: contains ${NUL}`]);
      const hugeSignal = await call(app, 'POST', '/api/v1/runs/waits/signals/go', { body: '[1e999]' });
      assert.equal(hugeSignal.status, 400, JSON.stringify(hugeSignal.body));

      const hook = (body: string) =>
        app.request('/webhooks/gitlab', {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', 'x-gitlab-token': SECRET, 'x-gitlab-event': 'Issue Hook' },
        });
      const payload = (title: string) =>
        `{"object_kind":"issue","user":{"username":"alice"},"project":{"id":1,"path_with_namespace":"acme/app"},` +
        `"object_attributes":{"iid":7,"action":"update","title":${title}}}`;
      const nulHook = await hook(payload('"x\\u0000"'));
      assert.equal(nulHook.status, 400, await nulHook.clone().text());
      assert.match(((await nulHook.json()) as { error: { message: string } }).error.message, /object_attributes\.title: contains a NUL/);
      assert.equal((await hook(payload('1e400'))).status, 400);
      assert.equal((await hook(payload('"fine"'))).status, 202);
    });

    test('a query or a path with U+0000 finds nothing: 200 with an empty list, or 404', async () => {
      const runs = await call<{ runs: unknown[] }>(app, 'GET', '/api/v1/runs?workflow=%00');
      assert.equal(runs.status, 200, JSON.stringify(runs.body));
      assert.deepEqual(runs.body.runs, []);
      assert.equal((await call(app, 'GET', '/api/v1/runs?parent=a%00b')).status, 200);
      assert.equal((await call(app, 'GET', '/api/v1/runs/a%00b')).status, 404);
      assert.equal((await call(app, 'GET', '/api/v1/runs/a%00b/logs')).status, 404);
      assert.equal((await call(app, 'POST', '/api/v1/runs/a%00b/signals/go', { body: {} })).status, 404);
      const events = await call<{ events: unknown[] }>(app, 'GET', '/api/v1/events?type=%00');
      assert.equal(events.status, 200, JSON.stringify(events.body));
      assert.deepEqual(events.body.events, []);
      const tasks = await call<{ tasks: unknown[] }>(app, 'GET', '/api/v1/tasks?run=%00');
      assert.equal(tasks.status, 200, JSON.stringify(tasks.body));
      assert.deepEqual(tasks.body.tasks, []);
      assert.equal((await call(app, 'GET', '/api/v1/tasks/tk_%00')).status, 404);
    });

    test('CloudEvent attributes longer than their documented limit are a 400 naming the limit; at the limit they are stored', async () => {
      const limits = { id: 400, source: 400, type: 400, subject: 500 } as const;
      for (const [attribute, limit] of Object.entries(limits)) {
        const long = await call(app, 'POST', '/api/v1/events', { body: { ...event, [attribute]: wide(3000) } });
        assert.equal(long.status, 400, `${attribute}: ${JSON.stringify(long.body)}`);
        assert.deepEqual(long.body.error.issues, [`${attribute}: at most ${limit} characters (this one has 3000)`]);
      }
      const atLimits = { ...event, id: wide(400), source: wide(400), type: wide(400), subject: wide(500) };
      const stored = await call(app, 'POST', '/api/v1/events', { body: atLimits });
      assert.equal(stored.status, 202, JSON.stringify(stored.body));
      const found = await call<{ events: { subject: string }[] }>(app, 'GET', `/api/v1/events?type=${encodeURIComponent(wide(400))}`);
      assert.deepEqual(
        found.body.events.map((stored) => stored.subject),
        [wide(500)],
      );
    });

    test("a workflow's emit or task with U+0000 fails its call at once, saying which field, instead of retrying for minutes", async () => {
      assert.equal((await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'emitter', id: 'emits' } })).status, 201);
      assert.equal((await call(app, 'POST', '/api/v1/runs', { body: { workflow: 'asker', id: 'asks' } })).status, 201);
      const emitted = await call<RunBody>(app, 'GET', '/api/v1/runs/emits?wait=20');
      assert.equal(emitted.body.status, 'failed', JSON.stringify(emitted.body));
      assert.match(emitted.body.error?.message ?? '', /^emit\('t'\): data\.t: contains a NUL character \(U\+0000\)/);
      const asked = await call<RunBody>(app, 'GET', '/api/v1/runs/asks?wait=20');
      assert.equal(asked.body.status, 'failed', JSON.stringify(asked.body));
      assert.match(asked.body.error?.message ?? '', /^tasks\.approval\(\): title: contains a NUL character \(U\+0000\)/);
    });
  });
}
