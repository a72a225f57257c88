import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Operations } from '../src/app/operations.js';
import { createRuntime, embeddedRuntimeConfig } from '../src/app/runtime.js';
import type { Logger } from '../src/core/ports.js';
import { matchWebhookSource } from '../src/gitlab/webhook-auth.js';
import { normalizeGitLabWebhook } from '../src/gitlab/webhook-event.js';
import { createApp } from '../src/server/http/app.js';
import { serve } from '../src/server/serve.js';
import { runLoad } from './load.js';

/**
 * Durable webhook intake: events/s through POST /webhooks/gitlab (stored, on disk, before the
 * answer), next to the same app (every middleware, the token check and the normaliser) answering
 * without storing, in the same run.
 */
const REQUESTS = Number(process.env.BENCH_WEBHOOKS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 50);
const SECRET = 'bench-secret';

export async function webhookBench(print: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'autoflow-webhook-bench-'));
  const body = readFileSync(new URL('../test/fixtures/gitlab-webhooks/note_issue.json', import.meta.url), 'utf8');
  const headers = { 'content-type': 'application/json', 'x-gitlab-event': 'Note Hook', 'x-gitlab-token': SECRET };
  const logger = pino({ level: 'silent' }) as unknown as Logger;
  const runtime = await createRuntime(
    embeddedRuntimeConfig({ db: { kind: 'sqlite', path: join(dir, 'intake.db') }, workflowsDir: dir, apiToken: 'bench', gitlabWebhookSecret: SECRET }),
    { logger },
  );
  await runtime.start();
  const durable = await serve(createApp({ operations: runtime.operations, logger }), { port: 0, host: '127.0.0.1' });
  // The same app (middleware, routing, body limit, token check, normaliser, JSON answer) with an
  // intake that answers without storing: the difference between the two is the durable write.
  const sources = [{ name: 'bench', secret: SECRET }];
  const answerOnly: Operations = {
    ...runtime.operations,
    ingestGitLabWebhook: ({ headers, body }) => {
      const source = matchWebhookSource(sources, headers['x-gitlab-token']);
      if (!source) throw new Error('the bench sent a wrong token');
      const { event } = normalizeGitLabWebhook({ headers, body, source, receivedAt: Date.now() });
      return Promise.resolve({ seq: 0, duplicate: false, type: event.type });
    },
  };
  const stateless = await serve(createApp({ operations: answerOnly, logger }), { port: 0, host: '127.0.0.1' });
  try {
    const load = (url: string) =>
      runLoad({ url: `${url}/webhooks/gitlab`, requests: REQUESTS, concurrency: CONCURRENCY, headers, body, uniqueHeader: 'idempotency-key' });
    await load(stateless.url);
    const baseline = await load(stateless.url);
    const stored = await load(durable.url);
    const count = (await runtime.operations.listEvents({ limit: 500 })).length;
    if (stored.statuses[202] !== REQUESTS || count === 0) throw new Error(`intake answered ${JSON.stringify(stored.statuses)}`);
    print(
      `webhook intake, durable (SQLite synchronous=FULL, stored before 202): ${stored.perSecond.toFixed(0)} events/s, p50 ${stored.p50.toFixed(1)} ms, p99 ${stored.p99.toFixed(1)} ms (${CONCURRENCY} concurrent)`,
    );
    print(
      `same app answering without storing: ${baseline.perSecond.toFixed(0)} req/s, p99 ${baseline.p99.toFixed(1)} ms  → durable = ${((100 * stored.perSecond) / baseline.perSecond).toFixed(0)}% (target ≥ 50%)`,
    );
  } finally {
    await durable.close();
    await stateless.close();
    await runtime.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
