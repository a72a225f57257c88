import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startUiServer, type HttpSession, type UiServer } from '../../test/helpers/ui-server.js';
import { humanTask } from '../store/conformance/fixtures.js';

let server: UiServer;

before(async () => {
  server = await startUiServer({});
});
after(() => server?.close());

const MINUTE = 60_000;

/** The tasks a My tasks page lists, and where its "older tasks" link leads. */
async function inbox(session: HttpSession, path: string) {
  const html = await (await session.request(path)).text();
  const tasks = [...html.matchAll(/<tr data-task="([^"]+)">/g)].map((match) => match[1]!);
  const older = /<a href="([^"]+)" rel="next">/.exec(html)?.[1]?.replaceAll('&amp;', '&');
  const count = /<p id="inbox-count">([^<]*)<\/p>/.exec(html)?.[1];
  return { html, tasks, older, count };
}

async function overviewCount(session: HttpSession): Promise<string | undefined> {
  const html = await (await session.request('/')).text();
  return /<a class="card" href="\/tasks"><b>([^<]+)<\/b>my open tasks/.exec(html)?.[1];
}

test('55 open tasks: the overview says 55, and all 55 are reachable from My tasks, newest first, 50 a page', async () => {
  const ids = Array.from({ length: 55 }, (_, index) => `tk_many_${String(index).padStart(2, '0')}`);
  for (const [index, id] of ids.entries()) {
    await server.runtime.store.createHumanTask(humanTask(id, { createdAt: Date.now() - (55 - index) * MINUTE, eligible: ['alice'] }));
  }
  const newestFirst = [...ids].reverse();
  const alice = await server.signedIn('alice');
  assert.equal(await overviewCount(alice), '55');

  const first = await inbox(alice, '/tasks');
  assert.equal(first.count, '55 tasks wait for you, newest first.');
  assert.deepEqual(first.tasks, newestFirst.slice(0, 50));
  assert.ok(first.older, 'a link to the older tasks');

  const second = await inbox(alice, first.older);
  assert.deepEqual(second.tasks, newestFirst.slice(50), 'the 5 oldest, none twice');
  assert.equal(second.older, undefined, 'the last page');
  assert.match(second.html, /<a href="\/tasks">« newest tasks<\/a>/);
});

test('50 still-open approvals already decided do not hide the older task that waits', async () => {
  const now = Date.now();
  await server.runtime.store.createHumanTask(humanTask('tk_waiting', { createdAt: now - 60 * MINUTE, eligible: ['bob'] }));
  for (let index = 0; index < 50; index++) {
    await server.runtime.store.createHumanTask(
      humanTask(`tk_decided_${index}`, {
        kind: 'approval',
        createdAt: now - index * MINUTE,
        spec: { title: 'Deploy', approvers: ['bob', 'carol'], required: 2 },
        eligible: ['bob', 'carol'],
        decisions: [{ by: 'bob', decision: 'approve', at: new Date(now).toISOString() }],
      }),
    );
  }
  const bob = await server.signedIn('bob');
  assert.equal(await overviewCount(bob), '1');
  const page = await inbox(bob, '/tasks');
  assert.deepEqual(page.tasks, ['tk_waiting']);
  assert.equal(page.count, '1 task waits for you, newest first.');
  assert.doesNotMatch(page.html, /Nothing waits for you/);
  assert.equal(page.older, undefined);
});
