/**
 * What a wait may be given, the same on every store: a type or match path no event could have is refused where the
 * workflow calls `waitFor`, naming what is wrong; a match value of any length is waited for (a long one stored hashed,
 * as PostgreSQL's index entries hold 2,704 bytes), where PostgreSQL used to fail the run on its index.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { DatabaseConfig } from '../../src/config/database.js';
import { createTestEnv } from '../../src/testing/test-env.js';
import { testOnPostgres } from '../helpers/postgres.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'refused.ts': `import { waitFor, workflow } from 'autoflow';
export default workflow({
  name: 'refused',
  async run() {
    const tries = [
      () => waitFor('com.example.a' + String.fromCharCode(0) + 'b'),
      () => waitFor('com.example.' + String.fromCharCode(0xd800)),
      () => waitFor('com.example.' + 'x'.repeat(400)),
      () => waitFor('com.example.ok', { match: { ['data.' + 'k'.repeat(300)]: 1 } }),
    ];
    const messages = [];
    for (const attempt of tries) {
      try {
        await attempt();
      } catch (error) {
        messages.push((error as Error).message);
      }
    }
    return messages;
  },
});`,
  'long-key.ts': `import { waitFor, workflow } from 'autoflow';
export default workflow({
  name: 'long-key',
  async run(input: { key: string }) {
    const event = await waitFor('com.example.report', { match: { 'data.key': input.key }, timeout: '1h' });
    return event?.data ?? null;
  },
});`,
});
after(() => folder.remove());

async function waitsOn(db: DatabaseConfig): Promise<void> {
  const env = await createTestEnv({ workflows: [folder.path('refused.ts'), folder.path('long-key.ts')], db });
  try {
    const refused = await env.result(await env.start('refused'));
    assert.deepEqual(refused.result, [
      'waitFor(type): the event type contains a NUL character (U+0000), which AutoFlow does not store: PostgreSQL cannot hold it',
      'waitFor(type): the event type contains a lone surrogate (half of a UTF-16 pair, U+D800 to U+DFFF), which is not text: AutoFlow does not store it; send well-formed Unicode',
      'waitFor(type): an event type has at most 400 characters (this one has 412)',
      "waitFor('com.example.ok'): a match path is a dotted path of at most 200 characters, in well-formed text",
    ]);
    // Random, so that no index compresses it below its limit.
    const key = randomBytes(3000).toString('base64');
    const waiting = await env.start('long-key', { key });
    await env.emit({ type: 'com.example.report', data: { key: 'another', n: 1 } });
    await env.emit({ type: 'com.example.report', data: { key, n: 2 } });
    assert.deepEqual((await env.result(waiting)).result, { key, n: 2 });
  } finally {
    await env.close();
  }
}

test('waits on the memory store', () => waitsOn({ kind: 'memory' }));
test('waits on SQLite', () => waitsOn({ kind: 'sqlite', path: join(folder.dir, 'waits.db') }));
testOnPostgres('waits on PostgreSQL', (url) => waitsOn({ kind: 'postgres', url }));
