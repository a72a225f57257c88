import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { createRuntime, embeddedRuntimeConfig } from './runtime.js';

/** The warnings a runtime logs when it is created for a real GitLab (at 127.0.0.1:9, never called: the runtime is not started). */
async function warningsFor(parts: { gitlabWebhookSecret?: string }): Promise<string[]> {
  const warnings: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      warnings.push((JSON.parse(chunk.toString()) as { msg: string }).msg);
      done();
    },
  });
  const runtime = await createRuntime(
    embeddedRuntimeConfig({
      db: { kind: 'memory' },
      workflowsDir: '/nonexistent',
      gitlabUrl: 'http://127.0.0.1:9',
      gitlabToken: 'glpat-test',
      ...parts,
    }),
    { logger: pino({ level: 'warn' }, sink) },
  );
  await runtime.stop();
  return warnings;
}

test('a real GitLab without a webhook secret is a warning at start: every webhook would be refused', async () => {
  const [warning, ...others] = await warningsFor({});
  assert.match(warning ?? '', /^no GitLab webhook secret is configured: every webhook is refused \(401\).*AUTOFLOW_GITLAB_WEBHOOK_SECRET/);
  assert.deepEqual(others, []);
  assert.deepEqual(await warningsFor({ gitlabWebhookSecret: 'a-long-webhook-secret' }), []);
});
