/**
 * `POST /api/v1/events` on a real runtime (in-memory store): what the de-duplication key demands, a redelivery that
 * differs, the sources that are the server's own; and the depth of what `POST /api/v1/runs` and events may nest.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../../../app/runtime.js';
import { ValidationError } from '../../../core/errors.js';
import { createMemoryLogger } from '../../testing/fake-operations.js';
import { call } from '../../testing/request.js';
import { createApp } from '../app.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-events-intake-'));
const runtimes: Runtime[] = [];
after(async () => {
  for (const runtime of runtimes) await runtime.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function server() {
  const logger = createMemoryLogger();
  const runtime = await createRuntime(embeddedRuntimeConfig({ db: { kind: 'memory' }, workflowsDir: dir, apiToken: 'api' }), { logger });
  runtimes.push(runtime);
  await runtime.start();
  return { runtime, logger, app: createApp({ operations: runtime.operations, logger }) };
}

const event = { specversion: '1.0' as const, id: 'c', source: 'urn:a', type: 'com.example.thing', data: { n: 1 } };
const ISSUE = 'no control characters (newline, tab…): source and id together are the key that de-duplicates events';

test('a CloudEvent whose id or source holds a control character is refused: two such events would share a key', async () => {
  const { app, runtime } = await server();
  const first = await call(app, 'POST', '/api/v1/events', { token: 'api', body: { ...event, source: 'urn:a\nb' } });
  assert.equal(first.status, 400);
  assert.deepEqual(first.body.error.issues, [`source: ${ISSUE}`]);
  const second = await call(app, 'POST', '/api/v1/events', { token: 'api', body: { ...event, id: 'b\nc' } });
  assert.equal(second.status, 400);
  assert.deepEqual(second.body.error.issues, [`id: ${ISSUE}`]);
  for (const [field, value] of [
    ['id', 'tab\there'],
    ['id', 'nul\u0000'],
    ['source', 'urn:del\u007f'],
    ['source', 'urn:c1\u0085'],
  ] as const) {
    const refused = await call(app, 'POST', '/api/v1/events', { token: 'api', body: { ...event, [field]: value } });
    assert.equal(refused.status, 400, JSON.stringify(value));
  }
  assert.equal((await call(app, 'POST', '/api/v1/events', { token: 'api', body: { ...event, id: 'déjà-vu ✓' } })).status, 202);
  // The operations refuse them too, for callers that do not come through HTTP.
  await assert.rejects(
    runtime.operations.ingestEvent({ ...event, id: 'b\nc' }),
    (error) => error instanceof ValidationError && /id: no control/.test(error.message),
  );
  assert.equal((await runtime.operations.listEvents({})).length, 1);
});

test("a CloudEvent from outside may not pass for one of the server's own: what a workflow emitted, a task's answer, a signal", async () => {
  const { app, runtime } = await server();
  for (const source of ['autoflow:workflow/emitter', 'autoflow:task/t-1', 'autoflow:api']) {
    const refused = await call(app, 'POST', '/api/v1/events', { token: 'api', body: { ...event, source } });
    assert.equal(refused.status, 400, source);
    assert.deepEqual(refused.body.error.issues, [
      "source: sources starting with 'autoflow:' are the server's own (events workflows emit, answers to tasks, signals); " +
        'name where the event comes from instead, such as https://ci.example.com or /billing',
    ]);
  }
  assert.equal((await call(app, 'POST', '/api/v1/events', { token: 'api', body: { ...event, source: 'urn:autoflow:tests' } })).status, 202);
  assert.deepEqual(
    (await runtime.operations.listEvents({})).map((stored) => stored.source),
    ['urn:autoflow:tests'],
  );
});

test("a CloudEvent from outside may not have one of the server's own types: a task's answer, a signal, the end of a run", async () => {
  const { app, runtime } = await server();
  for (const type of ['autoflow.task.closed', 'autoflow.signal.go', 'autoflow.run.finished']) {
    const refused = await call(app, 'POST', '/api/v1/events', { token: 'api', body: { ...event, type } });
    assert.equal(refused.status, 400, type);
    assert.match(
      refused.body.error.issues?.[0] ?? '',
      /^type: types starting with 'autoflow\.' are the server's own .* POST \/api\/v1\/runs\/\{id\}\/signals\/\{name\}$/,
    );
  }
  assert.equal(
    (await call(app, 'POST', '/api/v1/events', { token: 'api', body: { ...event, type: 'com.example.autoflow.done' } })).status,
    202,
  );
  assert.deepEqual(
    (await runtime.operations.listEvents({})).map((stored) => stored.type),
    ['com.example.autoflow.done'],
  );
});

test('a CloudEvent sent again with the same source and id but another body or type is logged as a warning, as for webhooks', async () => {
  const { app, logger } = await server();
  const first = await call<{ seq: number; duplicate: boolean }>(app, 'POST', '/api/v1/events', { token: 'api', body: event });
  assert.deepEqual(first.body, { seq: first.body.seq, duplicate: false });
  const same = await call(app, 'POST', '/api/v1/events', {
    token: 'api',
    body: { ...event, time: '2026-01-02T03:04:05Z', data: { n: 1 } },
  });
  assert.deepEqual(same.body, { seq: first.body.seq, duplicate: true });
  assert.deepEqual(
    logger.entries.filter((entry) => entry.level === 'warn'),
    [],
    'the same event again (sent at another time) is a plain redelivery',
  );

  const otherBody = await call(app, 'POST', '/api/v1/events', { token: 'api', body: { ...event, data: { n: 2 } } });
  const otherType = await call(app, 'POST', '/api/v1/events', { token: 'api', body: { ...event, type: 'com.example.other' } });
  assert.deepEqual(otherBody.body, { seq: first.body.seq, duplicate: true }, 'the answer does not change');
  assert.deepEqual(otherType.body, { seq: first.body.seq, duplicate: true });
  const warnings = logger.entries.filter((entry) => entry.level === 'warn');
  assert.equal(warnings.length, 2);
  assert.deepEqual(warnings[1]!.data, {
    seq: first.body.seq,
    source: 'urn:a',
    id: 'c',
    type: 'com.example.other',
    storedType: 'com.example.thing',
  });
  assert.equal(
    warnings[1]!.message,
    `a CloudEvent came again with the source and id of stored event ${first.body.seq} (com.example.thing) but another type or body; ` +
      'the stored one is kept and the new one dropped: check that the sender gives each event its own id',
  );
});

/** The JSON text of an event whose data is `{ "a": { "a": … 1 } }`, `levels` objects deep (JSON.stringify would overflow). */
function nested(id: string, levels: number): string {
  const { data: _flat, ...attributes } = event;
  return `${JSON.stringify({ ...attributes, id }).slice(0, -1)},"data":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`;
}

test('an event whose data nests too deep is refused for good with 400, saying how deep it may be; one within the limit is stored', async () => {
  const { app, runtime } = await server();
  for (const levels of [3_000, 150_000]) {
    const refused = await call<{ error: { code: string; message: string } }>(app, 'POST', '/api/v1/events', {
      token: 'api',
      body: nested(`deep-${levels}`, levels),
    });
    assert.equal(refused.status, 400, JSON.stringify(refused.body).slice(0, 300));
    assert.match(refused.body.error.message, /nests arrays and objects more than 128 levels deep; flatten it/);
  }
  const stored = await call(app, 'POST', '/api/v1/events', { token: 'api', body: nested('deep-enough', 128) });
  assert.equal(stored.status, 202);
  const events = await runtime.store.listEvents({ limit: 10 });
  assert.deepEqual(
    events.map((stored) => stored.id),
    ['deep-enough'],
  );
});

test('data or a run input nested deeper than 128 levels is a 400 that says so, not a 500', async () => {
  const { app, runtime } = await server();
  writeFileSync(
    join(dir, 'echo.ts'),
    "import { workflow } from 'autoflow';\nexport default workflow({ name: 'echo', async run(input: unknown) { return input; } });\n",
  );
  await runtime.redeploy();
  const nested = (depth: number): unknown => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`);
  const TOO_DEEP = 'nests arrays and objects more than 128 levels deep; flatten it, or pass a reference to where the data is';
  const run = await call(app, 'POST', '/api/v1/runs', { token: 'api', body: { workflow: 'echo', input: nested(3000) } });
  assert.equal(run.status, 400);
  assert.deepEqual(run.body.error.issues, [`input: ${TOO_DEEP}`]);
  const data = await call(app, 'POST', '/api/v1/events', { token: 'api', body: { ...event, data: nested(3000) } });
  assert.equal(data.status, 400);
  assert.deepEqual(data.body.error.issues, [`data: ${TOO_DEEP}`]);
  assert.equal((await call(app, 'POST', '/api/v1/runs', { token: 'api', body: { workflow: 'echo', input: nested(128) } })).status, 201);
});
