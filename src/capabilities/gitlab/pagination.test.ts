import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { capabilityContext } from '../../../test/helpers/capability-context.js';
import { createGitLabSimulator } from '../../testing/gitlab-sim/index.js';
import { createGitLabCapability } from './capability.js';
import { GRANTS, SEED, rejection } from './world.test.js';

/** `all: true` through a proxy that rewrites GitLab's pagination headers. */

type HeaderRewrite = (headers: Headers, url: URL) => void;

/** The capability on the simulator, with `count` issues in acme/app, behind a proxy that applies `rewrite` to each answer. */
function behindProxy(count: number, rewrite: HeaderRewrite) {
  const sim = createGitLabSimulator({ seed: SEED });
  for (let i = 1; i <= count; i++) sim.actions.createIssue('alice', 'acme/app', { title: `Issue ${i}` });
  const pages: string[] = [];
  const proxy: typeof fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    pages.push(url.searchParams.get('page') ?? url.searchParams.get('cursor') ?? 'first');
    const answer = await sim.fetch(input, init);
    const headers = new Headers(answer.headers);
    rewrite(headers, url);
    return new Response(answer.body, { status: answer.status, headers });
  };
  const gitlab = createGitLabCapability({ baseUrl: sim.state.baseUrl, token: 'bot-token', fetch: proxy });
  const listAll = (query: Record<string, string> = {}) =>
    gitlab.invoke(
      'issues.list',
      { project: 'acme/app', all: true, query: { sort: 'asc', ...query } },
      capabilityContext({ permissions: GRANTS }),
    );
  return { listAll, pages };
}

const stripped = (headers: Headers): void => {
  for (const name of ['x-next-page', 'x-prev-page', 'x-page', 'x-per-page', 'x-total', 'x-total-pages', 'link']) headers.delete(name);
};
const iids = (items: unknown): number[] => (items as { iid: number }[]).map((issue) => issue.iid);
const upTo = (count: number): number[] => Array.from({ length: count }, (_, i) => i + 1);

describe('all: true when a proxy rewrites the pagination headers', () => {
  test('stripped: full pages go on to the next page, and the first page that is not full ends the list', async () => {
    const { listAll, pages } = behindProxy(250, stripped);
    assert.deepEqual(iids(await listAll()), upTo(250));
    assert.deepEqual(pages, ['first', '2', '3']);
  });

  test('stripped, and the last page full: the empty page after it ends the list', async () => {
    const { listAll, pages } = behindProxy(200, stripped);
    assert.deepEqual(iids(await listAll()), upTo(200));
    assert.deepEqual(pages, ['first', '2', '3']);
  });

  test('an X-Next-Page that always points onward: the first empty page ends the list', async () => {
    const { listAll, pages } = behindProxy(250, (headers, url) => {
      headers.set('x-next-page', String(Number(url.searchParams.get('page') ?? 1) + 1));
    });
    assert.deepEqual(iids(await listAll()), upTo(250));
    assert.deepEqual(pages, ['first', '2', '3', '4']);
  });

  test('an X-Next-Page that points back (always 1) is not followed: each page is read once', async () => {
    const { listAll, pages } = behindProxy(250, (headers) => {
      stripped(headers);
      headers.set('x-next-page', '1');
    });
    assert.deepEqual(iids(await listAll()), upTo(250));
    assert.deepEqual(pages, ['first', '2', '3']);
  });

  test("an empty X-Next-Page is GitLab's last page, even a full one", async () => {
    const { listAll, pages } = behindProxy(250, (headers) => {
      stripped(headers);
      headers.set('x-next-page', '');
    });
    assert.deepEqual(iids(await listAll()), upTo(100));
    assert.deepEqual(pages, ['first']);
  });

  test('keyset pagination without its Link header: a full page fails, saying so; a last page that is not full ends the list', async () => {
    const keyset = { pagination: 'keyset', order_by: 'created_at' };
    const full = behindProxy(250, stripped);
    const error = await rejection(full.listAll(keyset));
    assert.equal((error as { code?: string }).code, 'unexpected_response');
    assert.equal(
      error.message,
      "gitlab.issues.list with all: true: GitLab's answer to GET /api/v4/projects/acme%2Fapp/issues?sort=asc&pagination=keyset&order_by=created_at&per_page=100 " +
        'is a full page (100 items) without a Link header, and with keyset pagination only that header says where the next page ' +
        'starts (a proxy between AutoFlow and GitLab may strip it): let the proxy pass the Link header, or page by offset',
    );
    assert.deepEqual(iids(await behindProxy(60, stripped).listAll(keyset)), upTo(60));
    const linked = behindProxy(250, () => undefined);
    assert.equal(iids(await linked.listAll(keyset)).length, 250);
    assert.equal(linked.pages.length, 3);
  });
});
