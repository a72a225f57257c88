/**
 * What the API and the GitLab webhook make of the bytes and headers they are sent, over a real runtime: bodies are
 * UTF-8 or refused, compressed ones are refused by name, a webhook's Idempotency-Key is held to what the signals route
 * takes; a signal's `null` is not a signal without data; a run started without input gets `{}` when its schema asks
 * for an object.
 */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { workflowFolder } from '../../../test/helpers/workflow-files.js';
import type { RunView } from '../../app/operations.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from '../../app/runtime.js';
import { createMemoryLogger } from '../testing/fake-operations.js';
import { call } from '../testing/request.js';
import { createApp } from './app.js';

const TOKEN = 'request-bodies-test-token-0123456789';
const SECRET = 'request-bodies-webhook-secret';

const folder = workflowFolder({
  'waiter.ts': `import { signal, workflow } from 'autoflow';
export default workflow({ name: 'waiter', async run() { return { got: await signal('go', { timeout: '1h' }) }; } });`,
  'nightly.ts': `import { workflow } from 'autoflow';
export default workflow({
  name: 'nightly',
  input: { type: 'object', properties: { replicas: { type: 'integer', default: 2 } }, additionalProperties: false },
  async run(input: { replicas?: number }) { return { input, replicas: input.replicas ?? 2 }; },
});`,
  'anything.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'anything', async run(input: unknown) { return { input }; } });`,
});

describe('request bodies and headers', () => {
  let runtime: Runtime;
  let app: ReturnType<typeof createApp>;

  before(async () => {
    runtime = await createRuntime(
      embeddedRuntimeConfig({
        db: { kind: 'memory' },
        workflowsDir: folder.dir,
        apiToken: TOKEN,
        webhookSources: [{ name: 'gitlab', secret: SECRET }],
      }),
    );
    await runtime.start();
    app = createApp({ operations: runtime.operations, logger: createMemoryLogger() });
  });
  after(async () => {
    await runtime?.stop();
    folder.remove();
  });

  const api = <T>(method: string, path: string, options: Parameters<typeof call>[3] = {}) =>
    call<T>(app, method, path, { token: TOKEN, ...options });
  type Failure = { error: { code: string; message: string } };

  const issueHook = JSON.stringify({
    object_kind: 'issue',
    project: { path_with_namespace: 'acme/app' },
    object_attributes: { iid: 7, action: 'update', title: 'Café au lait' },
  });
  const deliver = (body: Uint8Array | string, headers: Record<string, string> = {}) =>
    app.request('/webhooks/gitlab', {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-gitlab-token': SECRET, 'x-gitlab-event': 'Issue Hook', ...headers },
    });
  const failure = async (response: Response) => ({ status: response.status, error: ((await response.json()) as Failure).error });

  test('a webhook body that is not UTF-8 is refused with 400, not stored with U+FFFD in place of its characters', async () => {
    const latin1 = Buffer.from(issueHook, 'latin1');
    const refused = await failure(await deliver(latin1, { 'idempotency-key': 'latin-1-delivery' }));
    assert.deepEqual(refused, {
      status: 400,
      error: { code: 'invalid_json', message: 'request body is not valid UTF-8: send JSON encoded as UTF-8' },
    });
    const stored = await runtime.operations.listEvents({ type: 'com.gitlab.events.issue_updated' });
    assert.ok(!stored.some((event) => event.id === 'latin-1-delivery'), 'nothing was stored');

    const withBom = await deliver(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(issueHook)]), { 'idempotency-key': 'bom' });
    assert.equal(withBom.status, 202, await withBom.clone().text());
    const [event] = (await runtime.operations.listEvents({ type: 'com.gitlab.events.issue_updated' })).filter((e) => e.id === 'bom');
    assert.equal((event?.data as { object_attributes: { title: string } }).object_attributes.title, 'Café au lait');
  });

  test('a gzip body is a 415 naming Content-Encoding, on the webhook and on the API alike', async () => {
    const expected = {
      status: 415,
      error: {
        code: 'unsupported_content_encoding',
        message:
          'request body has Content-Encoding gzip, which this server does not decode: send it uncompressed, without Content-Encoding',
      },
    };
    assert.deepEqual(await failure(await deliver(gzipSync(issueHook), { 'content-encoding': 'gzip' })), expected);
    const started = await api<Failure>('POST', '/api/v1/runs', {
      body: gzipSync(JSON.stringify({ workflow: 'anything' })),
      headers: { 'content-encoding': 'gzip' },
    });
    assert.deepEqual({ status: started.status, error: started.body.error }, expected);
  });

  test("a webhook's Idempotency-Key is refused, as a signal's is, unless it is 1–255 visible ASCII characters", async () => {
    const rule = 'Idempotency-Key is invalid: Idempotency-Key: use 1–255 visible ASCII characters (no spaces), e.g. a UUID';
    const tab = await failure(await deliver(issueHook, { 'idempotency-key': 'a\tb' }));
    assert.deepEqual([tab.status, tab.error.message], [400, rule]);
    // Node reads a header's bytes as Latin-1: the UTF-8 bytes of `café` arrive as these four characters and one more.
    const utf8 = await failure(await deliver(issueHook, { 'idempotency-key': 'caf\u00c3\u00a9' }));
    assert.deepEqual([utf8.status, utf8.error.message], [400, rule]);
    const ids = (await runtime.operations.listEvents({ type: 'com.gitlab.events.issue_updated' })).map((event) => event.id);
    assert.ok(!ids.includes('a\tb') && !ids.includes('caf\u00c3\u00a9'), ids.join(', '));
    assert.equal((await deliver(issueHook, { 'idempotency-key': 'b7e3c1a0-0000-4000-8000-000000000001' })).status, 202);
  });

  test('a signal sent with null reaches the workflow as null; one sent without a body, as true', async () => {
    const results: unknown[] = [];
    for (const body of ['null', undefined]) {
      const started = await api<RunView>('POST', '/api/v1/runs', { body: { workflow: 'waiter' } });
      assert.equal(started.status, 201);
      const sent = await api('POST', `/api/v1/runs/${started.body.id}/signals/go`, body === undefined ? {} : { body });
      assert.equal(sent.status, 202);
      const ended = await runtime.operations.waitForRun(started.body.id, 10_000);
      assert.equal(ended.status, 'completed');
      results.push(ended.result);
    }
    assert.deepEqual(results, [{ got: null }, { got: true }]);
  });

  test('a run started without input gets {} when its schema asks for an object, with no default filled in; null elsewhere', async () => {
    const started = await api<RunView>('POST', '/api/v1/runs', { body: { workflow: 'nightly', id: 'nightly-1' } });
    assert.equal(started.status, 201, JSON.stringify(started.body));
    assert.deepEqual(started.body.input, {});
    assert.deepEqual((await runtime.operations.waitForRun('nightly-1', 10_000)).result, { input: {}, replicas: 2 });
    // Sent again, it is the same request: the run it started.
    const again = await api<RunView>('POST', '/api/v1/runs', { body: { workflow: 'nightly', id: 'nightly-1' } });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    // An explicit null is the client's: the schema refuses it.
    const explicit = await api<Failure & { error: { issues?: string[] } }>('POST', '/api/v1/runs', {
      body: { workflow: 'nightly', input: null },
    });
    assert.equal(explicit.status, 400);
    assert.match(explicit.body.error.message, /\(input\): must be object/);
    const free = await api<RunView>('POST', '/api/v1/runs', { body: { workflow: 'anything' } });
    assert.equal(free.body.input, null, 'a workflow without a schema gets null, as before');
  });
});
