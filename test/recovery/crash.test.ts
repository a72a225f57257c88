import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, ServerProcess } from '../helpers/server-process.js';

/**
 * The guarantee the product stands on: a run survives SIGKILL of the server at any moment.
 * A workflow makes 30 sequential HTTP calls with sleeps between them while the server is killed
 * and restarted at random moments; events are posted throughout.
 */
const CALLS = 30;
const KILLS = 10;

interface Hit {
  key: string;
  index: number;
}

let counting: Server;
let countingPort: number;
const hits: Hit[] = [];
let dir: string;

before(async () => {
  countingPort = await freePort();
  counting = createServer((request, response) => {
    const index = Number(new URL(request.url ?? '/', 'http://x').searchParams.get('i'));
    const key = String(request.headers['idempotency-key'] ?? '');
    hits.push({ key, index });
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ index, key }));
  });
  await new Promise<void>((resolve) => counting.listen(countingPort, '127.0.0.1', resolve));
  dir = mkdtempSync(join(tmpdir(), 'autoflow-crash-'));
  mkdirSync(join(dir, 'workflows'));
  writeFileSync(
    join(dir, 'workflows', 'counter.ts'),
    `import { http, log, sleep, waitFor, workflow } from 'autoflow';
export default workflow({
  name: 'counter',
  permissions: { http: ['http://127.0.0.1:${countingPort}/'] },
  async run(input: { calls: number }) {
    const seen: number[] = [];
    for (let i = 0; i < input.calls; i++) {
      const response = await http.request({ url: 'http://127.0.0.1:${countingPort}/count?i=' + i, method: 'POST' });
      seen.push((response.body as { index: number }).index);
      log.info('observed ' + i);
      await sleep('150ms');
    }
    const finish = await waitFor('test.finish', { match: { subject: 'crash' }, timeout: '10m' });
    return { seen, finish: finish ? finish.data : null };
  },
});
`,
  );
});

after(() => {
  counting?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function postUntilAcknowledged(server: ServerProcess, path: string, body: unknown): Promise<Response> {
  for (;;) {
    try {
      const response = await server.api(path, { method: 'POST', body: JSON.stringify(body) });
      if (response.status < 500) return response;
    } catch {
      // the server is down between a kill and its restart
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('a run survives repeated SIGKILL of the server and sees every call result exactly once', { timeout: 300_000 }, async () => {
  const server = new ServerProcess({
    port: await freePort(),
    db: `sqlite:${join(dir, 'autoflow.db')}`,
    workflowsDir: join(dir, 'workflows'),
    token: 'crash-test-token',
  });
  await server.start();
  try {
    await crashAndRecover(server);
  } finally {
    await server.kill();
  }
});

async function crashAndRecover(server: ServerProcess): Promise<void> {
  const started = await server.api('/api/v1/runs', {
    method: 'POST',
    body: JSON.stringify({ workflow: 'counter', id: 'crash-run', input: { calls: CALLS } }),
  });
  assert.equal(started.status, 201, await started.clone().text());

  const acknowledged: string[] = [];
  let noise = 0;
  for (let kill = 0; kill < KILLS; kill++) {
    const until = Date.now() + 200 + Math.random() * 1200;
    while (Date.now() < until) {
      const id = `noise-${noise++}`;
      try {
        const response = await server.api('/api/v1/events', {
          method: 'POST',
          body: JSON.stringify({ specversion: '1.0', id, source: 'test', type: 'test.noise', data: { n: noise } }),
        });
        if (response.status === 202) acknowledged.push(id);
      } catch {
        // not acknowledged: the client may not assume it was stored
      }
    }
    await server.kill();
    await server.start();
  }
  const finish = await postUntilAcknowledged(server, '/api/v1/events', {
    specversion: '1.0',
    id: 'finish-1',
    source: 'test',
    type: 'test.finish',
    subject: 'crash',
    data: { ok: true },
  });
  assert.equal(finish.status, 202);

  let run: { status: string; result?: { seen: number[]; finish: unknown }; error?: unknown } | undefined;
  for (let i = 0; i < 20 && run?.status !== 'completed'; i++) {
    run = (await (await server.api('/api/v1/runs/crash-run?wait=10')).json()) as typeof run;
    if (run?.status === 'failed') break;
  }
  assert.equal(run?.status, 'completed', JSON.stringify(run));
  assert.deepEqual(run?.result?.seen, Array.from({ length: CALLS }, (_, i) => i), 'each call result observed once, in order');
  assert.deepEqual(run?.result?.finish, { ok: true });

  const keys = new Set(hits.map((hit) => hit.key));
  assert.equal(keys.size, CALLS, `every call's idempotency key reached the server (${[...keys].join(', ')})`);
  for (let i = 0; i < CALLS; i++) {
    const forIndex = new Set(hits.filter((hit) => hit.index === i).map((hit) => hit.key));
    assert.equal(forIndex.size, 1, `all attempts of call ${i} carried one idempotency key`);
    assert.match([...forIndex][0] ?? '', /^crash-run:\d+$/);
  }

  const logs = (await (await server.api('/api/v1/runs/crash-run/logs')).json()) as { logs: Array<{ message: string }> };
  for (let i = 0; i < CALLS; i++) {
    assert.equal(logs.logs.filter((line) => line.message === `observed ${i}`).length, 1, `log line of call ${i} recorded once`);
  }

  const stored = new Set<string>();
  let before: number | undefined;
  for (;;) {
    const page = (await (
      await server.api(`/api/v1/events?type=test.noise&limit=500${before === undefined ? '' : `&before=${before}`}`)
    ).json()) as { events: Array<{ id: string; seq: number }> };
    for (const event of page.events) stored.add(event.id);
    if (page.events.length < 500) break;
    before = page.events[page.events.length - 1]?.seq;
  }
  const lost = acknowledged.filter((id) => !stored.has(id));
  assert.deepEqual(lost, [], 'no acknowledged event lost');
  assert.ok(acknowledged.length > 0);
}
