import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nextPageUrl } from './pagination.js';
import { createWorld, rejection } from './world.test.js';

/** Projects, groups, members, users, audit events, the raw request, and pagination. */

type Page<T> = {
  items: T[];
  pagination: {
    page: number;
    perPage: number;
    nextPage: number | null;
    prevPage: number | null;
    total: number | null;
    totalPages: number | null;
  };
};

describe('projects, groups, members, users, audit events', () => {
  test('projects.get by path or id; groups.get without the embedded projects', async () => {
    const { sim, call } = createWorld();
    const byPath = await call<{ id: number; path_with_namespace: string }>('projects.get', { project: 'acme/app' });
    assert.equal(byPath.path_with_namespace, 'acme/app');
    assert.equal((await call<{ id: number }>('projects.get', { project: byPath.id })).id, byPath.id);
    const group = await call<{ full_path: string; projects?: unknown }>('groups.get', { group: 'acme' });
    assert.equal(group.full_path, 'acme');
    assert.equal(group.projects, undefined);
    assert.equal(
      sim.state.requireGroup('acme').id,
      (await call<{ id: number }>('groups.get', { group: sim.state.requireGroup('acme').id })).id,
    );
  });

  test('members: direct, and with those inherited from ancestor groups', async () => {
    const { call } = createWorld();
    const usernames = (page: Page<{ username: string }>): string[] => page.items.map((member) => member.username).sort();
    assert.deepEqual(usernames(await call('members.list', { project: 'acme/platform/api' })), []);
    assert.deepEqual(usernames(await call('members.listAll', { project: 'acme/platform/api' })), ['alice', 'bob', 'bot']);
    assert.deepEqual(usernames(await call('members.list', { group: 'acme' })), ['alice', 'bot']);
    const found = await call<Page<{ username: string; access_level: number }>>('members.listAll', {
      group: 'acme/platform',
      query: { query: 'bob' },
    });
    assert.deepEqual(
      found.items.map((member) => [member.username, member.access_level]),
      [['bob', 30]],
    );
  });

  test("users: by id, by username (or null), and the token's own", async () => {
    const { sim, call } = createWorld();
    const alice = sim.state.requireUser('alice');
    assert.equal((await call<{ username: string }>('users.get', { userId: alice.id })).username, 'alice');
    assert.equal((await call<{ id: number }>('users.byUsername', { username: 'alice' })).id, alice.id);
    assert.equal(await call('users.byUsername', { username: 'nobody' }), null);
    assert.equal((await call<{ username: string }>('users.current', {})).username, 'bot');
  });

  test('audit events of a project', async () => {
    const { call } = createWorld();
    await call('labels.create', { project: 'acme/app', attributes: { name: 'audited' } });
    const events = await call<Page<{ event_name: string; details: { label?: string } }>>('auditEvents.list', { project: 'acme/app' });
    assert.equal(events.items[0]?.event_name, 'label_created');
    assert.equal(events.items[0]?.details.label, 'audited');
  });

  test("request: any REST path with query and body, answered with GitLab's JSON", async () => {
    const { sim, call, requests } = createWorld();
    const version = await call<{ version: string }>('request', { method: 'get', path: '/version' });
    assert.match(version.version, /^\d+\.\d+/);
    const branch = await call<{ name: string }>('request', {
      method: 'POST',
      path: '/projects/acme%2Fapp/repository/branches',
      query: { branch: 'hotfix', ref: 'main' },
    });
    assert.equal(branch.name, 'hotfix');
    assert.ok(sim.state.requireProject('acme/app').repository.branches.has('hotfix'));
    const labels = await call<{ name: string }[]>('request', { method: 'GET', path: '/projects/acme%2Fapp/labels?search=bug' });
    assert.deepEqual(
      labels.map((label) => label.name),
      ['bug'],
    );
    assert.equal(requests.at(-1), 'GET /api/v4/projects/acme%2Fapp/labels?search=bug');
    const invalid = await rejection(call('request', { method: 'HEAD', path: '/version' }));
    assert.equal((invalid as { code?: string }).code, 'invalid_arguments');
    await assert.rejects(call('request', { method: 'GET', path: '/../../admin' }), /leaves \/api\/v4/);
    await assert.rejects(call('nope', {}), /gitlab has no method 'nope'/);
  });
});

describe('pagination', () => {
  test('all: true walks every page of more than 100 issues, 100 a page', async () => {
    const { sim, call, requests } = createWorld();
    for (let i = 1; i <= 130; i++) sim.actions.createIssue('alice', 'acme/app', { title: `Issue ${i}` });
    const before = requests.length;
    const all = await call<{ iid: number }[]>('issues.list', { project: 'acme/app', all: true, query: { sort: 'asc' } });
    assert.deepEqual(
      all.map((issue) => issue.iid),
      Array.from({ length: 130 }, (_, i) => i + 1),
    );
    assert.deepEqual(requests.slice(before), [
      'GET /api/v4/projects/acme%2Fapp/issues?sort=asc&per_page=100',
      'GET /api/v4/projects/acme%2Fapp/issues?sort=asc&per_page=100&page=2',
    ]);
  });

  test('one page comes with its pagination; too many pages fail with a clear error', async () => {
    const { sim, call } = createWorld();
    for (let i = 1; i <= 45; i++) sim.actions.createIssue('alice', 'acme/app', { title: `Issue ${i}` });
    const page = await call<Page<{ iid: number }>>('issues.list', { project: 'acme/app', page: 2 });
    assert.equal(page.items.length, 20);
    assert.deepEqual(page.pagination, { page: 2, perPage: 20, nextPage: 3, prevPage: 1, total: 45, totalPages: 3, nextCursor: 'page=3' });
    const tooMany = await rejection(call('issues.list', { project: 'acme/app', all: true, perPage: 10, maxPages: 3 }));
    assert.equal((tooMany as { code?: string; retryable?: boolean }).code, 'too_many_pages');
    assert.equal((tooMany as { retryable?: boolean }).retryable, false);
    assert.match(tooMany.message, /gitlab\.issues\.list with all: true read 3 pages and more remain/);
  });

  test("keyset pagination: the Link header is followed, keeping the request's own origin and path", () => {
    const url = new URL('https://gitlab.example.com/api/v4/projects/1/audit_events?pagination=keyset&per_page=100');
    const link = '<https://elsewhere.example.com/api/v4/other?pagination=keyset&per_page=100&cursor=abc>; rel="next"';
    const next = nextPageUrl(url, new Headers({ link }));
    assert.equal(next?.href, 'https://gitlab.example.com/api/v4/projects/1/audit_events?pagination=keyset&per_page=100&cursor=abc');
    assert.equal(nextPageUrl(url, new Headers({ 'x-next-page': '', link: '' })), undefined);
  });
});
