/**
 * The admin API token: the first start of a database makes one and shows it once; setting AUTOFLOW_API_TOKEN
 * replaces it, so that an operator who sets the variable to rotate a leaked token really shuts the old one out.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { memoryLogger, type LogEntry } from '../../test/helpers/memory-logger.js';
import { createRuntime, embeddedRuntimeConfig } from './runtime.js';

const root = mkdtempSync(join(tmpdir(), 'autoflow-api-token-'));
after(() => rmSync(root, { recursive: true, force: true }));
const workflows = join(root, 'workflows');
mkdirSync(workflows);

/** Starts a server on the test's database, asks it about `tokens`, stops it. */
async function start(apiToken: string | undefined, tokens: string[]) {
  const lines: LogEntry[] = [];
  const runtime = await createRuntime(
    embeddedRuntimeConfig({
      db: { kind: 'sqlite', path: join(root, 'autoflow.db') },
      workflowsDir: workflows,
      ...(apiToken ? { apiToken } : {}),
    }),
    { logger: memoryLogger(lines), pollIntervalMs: null },
  );
  try {
    const accepted = await Promise.all(tokens.map((token) => runtime.operations.authenticate(token)));
    return { printed: runtime.newApiToken, accepted, messages: lines.map((line) => line.message) };
  } finally {
    await runtime.stop();
  }
}

test('the printed token works until AUTOFLOW_API_TOKEN is set, which replaces it', async () => {
  const first = await start(undefined, []);
  assert.match(first.printed ?? '', /^af_[\w-]{32}$/);
  const printed = first.printed!;

  const again = await start(undefined, [printed, 'af_guess']);
  assert.equal(again.printed, undefined, 'shown once only');
  assert.deepEqual(again.accepted, [true, false]);

  const rotated = 'af_rotated-by-the-operator-0123456789';
  const withVariable = await start(rotated, [printed, rotated]);
  assert.deepEqual(withVariable.accepted, [false, true], 'the printed token is shut out');
  assert.ok(withVariable.messages.some((message) => /AUTOFLOW_API_TOKEN is set: it replaces the API token printed/.test(message)));
});
