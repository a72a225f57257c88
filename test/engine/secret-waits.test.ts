/**
 * A wait whose match holds a secret's value (a callback token): the waits table holds a digest of its key, never the
 * value, and the event that carries the value still reaches it, also when it came just before the wait.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createTestEnv, type TestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const TOKEN = 'cb-token-5e0c9a7f31d24b68';

const folder = workflowFolder({
  'callback.ts': `import { secrets, waitFor, workflow } from 'autoflow';
export default workflow({
  name: 'callback',
  permissions: { secrets: ['CALLBACK_TOKEN'] },
  async run(input: { token?: string } | null) {
    const token = input?.token ?? (await secrets.get('CALLBACK_TOKEN'));
    const event = await waitFor('com.example.callback', { match: { 'data.token': token }, timeout: '1h' });
    return event?.id ?? null;
  },
});`,
});
after(() => folder.remove());

const callback = (id: string, token: string) => ({ type: 'com.example.callback', id, data: { token } });

/** A test environment on a SQLite file of its own, and what that file and its write-ahead log hold. */
async function sqliteEnv(): Promise<{ env: TestEnv; files: () => Buffer }> {
  const dir = mkdtempSync(join(folder.dir, 'db-'));
  const env = await createTestEnv({
    workflows: [folder.path('callback.ts')],
    db: { kind: 'sqlite', path: join(dir, 'autoflow.db') },
    secrets: { CALLBACK_TOKEN: TOKEN },
  });
  const files = () => Buffer.concat(readdirSync(dir).map((name) => readFileSync(join(dir, name))));
  return { env, files };
}

describe('a wait on a secret', () => {
  test('is stored without the value, in the database file and its log, and the event that carries the value ends it', async () => {
    const { env, files } = await sqliteEnv();
    try {
      const id = await env.start('callback');
      await env.settle();
      assert.equal((await env.run(id)).status, 'running');
      assert.ok(files().includes('com.example.callback'), 'the wait is in the files read');
      assert.equal(files().includes(TOKEN), false, 'no file of the database holds the secret');

      await env.emit(callback('wrong', 'cb-token-other'));
      await env.emit(callback('reference', '{{secret:CALLBACK_TOKEN}}'));
      await env.emit(callback('right', TOKEN));
      const run = await env.result(id);
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.equal(run.result, 'right');
    } finally {
      await env.close();
    }
  });

  test('gets the event that carried the value just before the wait (the look back)', async () => {
    const { env } = await sqliteEnv();
    try {
      await env.emit(callback('early', TOKEN));
      await env.advance('1m');
      const run = await env.result(await env.start('callback'));
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.equal(run.result, 'early');
    } finally {
      await env.close();
    }
  });

  test('a wait on no secret is stored with its values, as before, and ends as before', async () => {
    const { env, files } = await sqliteEnv();
    try {
      const id = await env.start('callback', { token: 'public-9d2e' });
      await env.settle();
      assert.ok(files().includes('["public-9d2e"]'), 'the key is the values, readable');
      await env.emit(callback('public', 'public-9d2e'));
      assert.equal((await env.result(id)).result, 'public');
    } finally {
      await env.close();
    }
  });
});
