/**
 * A workflow must not learn anything about a secret it was not granted from how the engine redacts
 * text. Here one with no permissions sends guesses of a secret's first characters, each before a
 * typed cut note, in a call whose error echoes them back: all of them come back as sent.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createTestEnv } from '../../src/testing/test-env.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const SECRET = 'glpat-Zq8rT2mWvX9kLp4N';
const NOTE = '… (1 more characters cut)';

const folder = workflowFolder({
  'guess.ts': `import { http, workflow } from 'autoflow';
export default workflow({
  name: 'guess',
  async run(input: { guesses: string[] }) {
    const text = input.guesses.map((guess) => '|' + guess + ${JSON.stringify(NOTE)}).join('');
    try {
      await http.request({ url: text });
      return 'no error';
    } catch (error) {
      return (error as Error).message;
    }
  },
});`,
});
after(() => folder.remove());

test("guesses of a secret's first characters, before a typed cut note, come back as they were sent", async () => {
  const env = await createTestEnv({ workflows: [folder.path('guess.ts')], secrets: { GL: SECRET } });
  try {
    const guesses = ['glpa', 'glpb', 'glpat', 'glpat-Zq8rT2mWvX9kLp4'];
    const run = await env.result(await env.start('guess', { guesses }));
    const message = run.result as string;
    for (const guess of guesses) assert.ok(message.includes(`|${guess}${NOTE}`), `${guess} is echoed as sent: ${message}`);
    assert.doesNotMatch(message, /\{\{secret/);
  } finally {
    await env.close();
  }
});
