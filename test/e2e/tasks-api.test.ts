import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { createApp } from '../../src/server/http/app.js';
import { serve } from '../../src/server/serve.js';
import { createTestEnv } from '../../src/testing/test-env.js';
import { autoflow } from '../helpers/cli-process.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'ask.ts': `import { tasks, workflow } from 'autoflow';
export default workflow({
  name: 'ask',
  async run(input: { who: string }) {
    return tasks.form({ title: 'Pick a name for ' + input.who, assignees: [input.who], fields: [{ name: 'name', label: 'Name', type: 'text' }] });
  },
});`,
});
after(() => folder.remove());

test('GET /api/v1/tasks lists an inbox page by page and GET /api/v1/tasks/:id reads one; bad filters are 400', async () => {
  const env = await createTestEnv({ workflows: [folder.path('ask.ts')] });
  try {
    const token = 'tasks-api-test-token';
    const operations = { ...env.operations, authenticate: (given: string) => Promise.resolve(given === token) };
    const app = createApp({ operations, logger: pino({ level: 'silent' }) });
    const get = (path: string) => app.request(path, { headers: { authorization: `Bearer ${token}` } });
    for (const who of ['alice', 'alice', 'bob']) await env.start('ask', { who });

    const first = await get('/api/v1/tasks?assignee=alice&status=open&limit=1');
    assert.equal(first.status, 200);
    const page = (await first.json()) as { tasks: Array<{ id: string; title: string }>; nextCursor: string | null };
    assert.equal(page.tasks.length, 1);
    const second = (await (await get(`/api/v1/tasks?assignee=alice&status=open&limit=1&cursor=${page.nextCursor}`)).json()) as typeof page;
    assert.equal(second.tasks.length, 1);
    assert.equal(second.nextCursor, null, 'the last page says so, as /runs does');
    assert.notEqual(second.tasks[0]!.id, page.tasks[0]!.id);

    const one = await get(`/api/v1/tasks/${page.tasks[0]!.id}`);
    assert.deepEqual(((await one.json()) as { title: string }).title, 'Pick a name for alice');
    assert.equal((await get('/api/v1/tasks/tk_0000000000000000')).status, 404);
    const bad = await get('/api/v1/tasks?status=finished');
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(await bad.json()), /status: one of open, closed/);
    assert.equal((await app.request('/api/v1/tasks')).status, 401, 'the API needs a token');

    const server = await serve(app, { port: 0, host: '127.0.0.1', shutdownGraceMs: 0 });
    try {
      const cli = (args: string[]) => autoflow(args, { cwd: folder.dir, env: { AUTOFLOW_URL: server.url, AUTOFLOW_API_TOKEN: token } });
      const table = await cli(['tasks', '--assignee', 'bob']);
      assert.equal(table.code, 0, table.stderr);
      const [header, ...rows] = table.stdout.trimEnd().split('\n');
      assert.match(header ?? '', /^ID\s+KIND\s+STATUS\s+TITLE\s+WHO\s+CREATED\s+DUE\s+PAGE$/);
      assert.equal(rows.length, 1);
      assert.match(rows[0] ?? '', /^tk_[0-9a-f]{16}\s+form\s+open\s+Pick a name for bob\s+bob\s+\S+\s+\/tasks\/tk_/);
      const bad = await cli(['tasks', '--status', 'finished']);
      assert.equal(bad.code, 2, 'a bad filter is a usage error');
      assert.match(bad.stderr, /status: one of open, closed/);
    } finally {
      await server.close();
    }
  } finally {
    await env.close();
  }
});
