import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CapabilityError } from '../../core/errors.js';
import { createGitLabCapability } from './capability.js';
import { GitLabError, GitLabUnavailableError } from './errors.js';
import { createWorld, rejection } from './world.test.js';

/** What GitLab — or something in its place — answers, and what the workflow gets from it. */

const BASE = 'https://gitlab.example.com';
const { context: worldContext } = createWorld();
/** Every project granted: these refusals must come from the answer, not from permissions. */
const context = () => worldContext({ permissions: { gitlab: { projects: ['*'] } } });

/** A capability whose every request gets this answer. */
function answering(body: string, init: ResponseInit) {
  return createGitLabCapability({ baseUrl: BASE, token: 't', fetch: () => Promise.resolve(new Response(body, init)) });
}

describe('a 2xx answer that is not JSON fails the call', () => {
  test('a sign-in page (HTML): not retried, and the message says what answered and what --gitlab-url must be', async () => {
    const proxy = answering('<html>Sign in</html>', { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' } });
    const error = await rejection(proxy.invoke('issues.get', { project: 'g/p', iid: 1001 }, context()));
    assert.ok(error instanceof GitLabError && !error.retryable);
    assert.equal(
      error.message,
      "GitLab answered with text/html; charset=utf-8 instead of JSON from GET https://gitlab.example.com/api/v4/projects/g%2Fp/issues/1001: the GitLab URL (https://gitlab.example.com, from --gitlab-url or AUTOFLOW_GITLAB_URL) must be GitLab's own address, not a proxy's or a sign-in page's",
    );
    // Even where text is a valid answer (raw files, raw requests), HTML is not GitLab's.
    await assert.rejects(proxy.invoke('repositoryFiles.getRaw', { project: 'g/p', filePath: 'a.txt' }, context()), GitLabError);
    const plain = answering('just text', { status: 200, headers: { 'content-type': 'text/plain' } });
    await assert.rejects(plain.invoke('issues.get', { project: 'g/p', iid: 1 }, context()), /answered with text\/plain instead of JSON/);
  });

  test('JSON cut off on the way is retried, as a broken connection is', async () => {
    const cut = answering('{"iid": 1,', { status: 200, headers: { 'content-type': 'application/json' } });
    const error = await rejection(cut.invoke('issues.get', { project: 'g/p', iid: 1002 }, context()));
    assert.ok(error instanceof GitLabUnavailableError && error.retryable);
    assert.match(
      error.message,
      /^GitLab's answer to GET https:\/\/gitlab\.example\.com\/api\/v4\/projects\/g%2Fp\/issues\/1002 is cut off or broken JSON/,
    );
  });

  test('text stays a valid answer where GitLab sends text', async () => {
    const { call } = createWorld();
    assert.equal(await call('repositoryFiles.getRaw', { project: 'acme/app', filePath: 'README.md' }), '# app\n');
    const log = answering('job log\n', { status: 200, headers: { 'content-type': 'text/plain' } });
    assert.equal(await log.invoke('request', { method: 'GET', path: '/projects/g%2Fp/jobs/1/trace' }, context()), 'job log\n');
  });
});

test("a base URL given with /api/v4 (the API's address) does not double it", async () => {
  const urls: string[] = [];
  const gitlab = createGitLabCapability({
    baseUrl: `${BASE}/api/v4/`,
    token: 't',
    fetch: (input) => {
      urls.push(input instanceof Request ? input.url : input.toString());
      return Promise.resolve(Response.json({ username: 'bot' }));
    },
  });
  await gitlab.invoke('users.current', {}, context());
  assert.deepEqual(urls, [`${BASE}/api/v4/user`]);
});

describe('failures before GitLab answered name the URL', () => {
  test('a port fetch blocks is a configuration error, not retried', async () => {
    const blocked = createGitLabCapability({ baseUrl: 'http://127.0.0.1:9', token: 't' });
    const error = await rejection(blocked.invoke('issues.get', { project: 'g/p', iid: 1 }, context()));
    assert.ok(error instanceof CapabilityError && !error.retryable && !(error instanceof GitLabUnavailableError));
    assert.match(error.message, /^GET http:\/\/127\.0\.0\.1:9\/api\/v4\/projects\/g%2Fp\/issues\/1 was not sent: fetch refuses port 9/);
    assert.match(error.message, /the GitLab URL \(http:\/\/127\.0\.0\.1:9, from --gitlab-url or AUTOFLOW_GITLAB_URL\)/);
  });

  test('a dropped connection names the whole URL', async () => {
    const world = createWorld();
    world.sim.faults.add({ kind: 'drop', times: 1 });
    const error = await rejection(world.call('users.current', {}));
    assert.ok(error instanceof GitLabUnavailableError && error.retryable);
    assert.match(error.message, new RegExp(`^GET ${world.sim.state.baseUrl}/api/v4/user failed before GitLab answered: fetch failed`));
  });
});

describe('messages', () => {
  test("a 422 quotes GitLab's reason, not only 'Validation failed'", async () => {
    const invalid = answering(JSON.stringify({ message: 'Validation failed', error: 'title is too long' }), {
      status: 422,
      headers: { 'content-type': 'application/json' },
    });
    const error = await rejection(invalid.invoke('issues.create', { project: 'g/p', attributes: { title: 'x' } }, context()));
    assert.ok(error instanceof GitLabError && error.status === 422);
    assert.match(error.message, /: Validation failed: title is too long$/);
  });

  test('a bad full path is quoted as the caller gave it, not as the SDK encoded it', async () => {
    const { call } = createWorld();
    const error = await rejection(call('issues.get', { project: 'acme//app', iid: 1 }));
    assert.equal(error.message, "'acme//app' is not a GitLab id or full path: it has an empty part; give a path such as 'acme/app'");
  });
});

describe('lists', () => {
  test("keyset pagination: a page's nextCursor (GitLab sends only a Link) reads the next page", async () => {
    const urls: string[] = [];
    const keyset = createGitLabCapability({
      baseUrl: BASE,
      token: 't',
      fetch: (input) => {
        const url = new URL(input instanceof Request ? input.url : input);
        urls.push(url.search);
        const after = Number(url.searchParams.get('id_after') ?? 0);
        const link: Record<string, string> =
          after < 100
            ? { link: `<${BASE}/api/v4/projects/g%2Fk/issues?pagination=keyset&per_page=50&id_after=${after + 50}>; rel="next"` }
            : {};
        return Promise.resolve(Response.json([{ id: after + 1 }], { headers: link }));
      },
    });
    type Page = { pagination: { nextPage: number | null; nextCursor: string | null } };
    const args = { project: 'g/k', query: { pagination: 'keyset' }, perPage: 50 };
    const first = (await keyset.invoke('issues.list', args, context())) as Page;
    assert.deepEqual([first.pagination.nextPage, first.pagination.nextCursor], [null, 'id_after=50']);
    const second = (await keyset.invoke('issues.list', { ...args, cursor: 'id_after=50' }, context())) as Page;
    assert.equal(second.pagination.nextCursor, 'id_after=100');
    const last = (await keyset.invoke('issues.list', { ...args, cursor: 'id_after=100' }, context())) as Page;
    assert.equal(last.pagination.nextCursor, null);
    assert.deepEqual(urls, [
      '?pagination=keyset&per_page=50',
      '?pagination=keyset&per_page=50&id_after=50',
      '?pagination=keyset&per_page=50&id_after=100',
    ]);
  });

  test("one level of nested query is GitLab's `not[labels]`; deeper nesting is refused, saying what to write", async () => {
    const { call, requests } = createWorld();
    await call('issues.list', { project: 'acme/app', query: { state: 'opened', not: { labels: 'bug', milestone: ['Q1', 'Q2'] } } });
    assert.deepEqual(requests, [
      'GET /api/v4/projects/acme%2Fapp/issues?state=opened&not%5Blabels%5D=bug&not%5Bmilestone%5D%5B%5D=Q1&not%5Bmilestone%5D%5B%5D=Q2',
    ]);
    const deep = await rejection(call('issues.list', { project: 'acme/app', query: { not: { labels: { any: 'bug' } } } }));
    assert.match(deep.message, /query\.not: .*one level of object.*not\[labels\]=bug/);
  });
});
