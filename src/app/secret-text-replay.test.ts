/**
 * Text equal to a secret's value, in a run's input or in what it receives, is stored as the secret's reference. The
 * live task must see what replay will see, or code that branches on that text replays another branch and the run
 * gets stuck after a restart.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { createTestEnv } from '../testing/test-env.js';

const SECRET = 'supersecret-123';
const folder = workflowFolder({
  'branchy.ts': `import { signal, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'branchy',
  async run(input: { token: string }) {
    const inputMatched = input.token === '${SECRET}';
    if (inputMatched) await sleep('1s');
    const key = await signal('key');
    if (key === '${SECRET}') await sleep('1s');
    await signal('poke');
    return { inputMatched, key };
  },
});`,
});
after(() => folder.remove());

test("a run given a secret's value as text replays what it saw after a restart, and does not get stuck", async () => {
  const db = { kind: 'sqlite' as const, path: join(folder.dir, 'secret-text.db') };
  const options = { workflows: [folder.path('branchy.ts')], db, secrets: { DEPLOY_KEY: SECRET } };
  const first = await createTestEnv(options);
  const id = await first.start('branchy', { token: SECRET }, 'holds-secret-text');
  await first.advance('2s');
  await first.signal(id, 'key', SECRET);
  await first.advance('2s');
  await first.close();

  const again = await createTestEnv(options);
  try {
    await again.signal(id, 'poke');
    const run = await again.run(id);
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    // Stored as references, and so given to the code, live as on replay: the workflow may not read DEPLOY_KEY.
    assert.deepEqual(run.result, { inputMatched: false, key: '{{secret:DEPLOY_KEY}}' });
  } finally {
    await again.close();
  }
});
