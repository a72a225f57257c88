import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { VirtualClock } from '../../app/clocks.js';
import { type GitLabSimulator, type SimServer, createGitLabSimulator } from './index.js';
import { ACME } from './test-helpers.js';

/** Each fault kind as a real HTTP client (fetch over loopback) sees it. */

describe('fault injection over real HTTP', () => {
  let sim: GitLabSimulator;
  let server: SimServer;
  const headers = { 'PRIVATE-TOKEN': 'alice-token', 'Content-Type': 'application/json' };
  const get = (path: string): Promise<Response> => fetch(`${server.url}/api/v4${path}`, { headers });
  const createIssue = (title: string): Promise<Response> =>
    fetch(`${server.url}/api/v4/projects/acme%2Fapp/issues`, { method: 'POST', headers, body: JSON.stringify({ title }) });
  const issueTitles = (): string[] => sim.state.issuesOf(sim.state.requireProject('acme/app')).map((issue) => issue.title);

  before(async () => {
    sim = createGitLabSimulator({ seed: ACME });
    server = await sim.listen();
  });
  after(() => server.close());
  beforeEach(() => sim.faults.clear());

  test('status: 5xx for the matching requests, `times` of them', async () => {
    sim.faults.add({ kind: 'status', status: 500, path: '/api/v4/projects/*/issues', times: 1 });
    const failed = await get('/projects/acme%2Fapp/issues');
    assert.deepEqual([failed.status, await failed.json()], [500, { message: '500 Internal Server Error' }]);
    assert.equal((await get('/projects/acme%2Fapp/issues')).status, 200, 'used up after one hit');

    sim.faults.add({ kind: 'status', status: 502, method: 'POST' });
    assert.equal((await get('/user')).status, 200, 'GET is not matched');
    const badGateway = await createIssue('never');
    assert.equal(badGateway.status, 502);
    assert.match(badGateway.headers.get('content-type') ?? '', /text\/html/, 'a proxy answers in HTML');
    assert.ok(!issueTitles().includes('never'));
  });

  test('rate_limit: 429 with Retry-After and the RateLimit headers', async () => {
    sim.faults.add({ kind: 'rate_limit', retryAfterSeconds: 30, path: /\/user$/ });
    const limited = await get('/user');
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get('retry-after'), '30');
    assert.equal(limited.headers.get('ratelimit-remaining'), '0');
    assert.equal(await limited.text(), 'Retry later\n');
  });

  test('latency: the answer comes after the delay', async () => {
    sim.faults.add({ kind: 'latency', ms: 150, times: 1 });
    const started = performance.now();
    assert.equal((await get('/user')).status, 200);
    assert.ok(performance.now() - started >= 145, `took ${performance.now() - started} ms`);
  });

  test('drop: the connection is cut and nothing is written', async () => {
    sim.faults.add({ kind: 'drop', method: 'POST', times: 1 });
    await assert.rejects(createIssue('dropped'), TypeError);
    assert.ok(!issueTitles().includes('dropped'));
  });

  test('lose_response: the client sees a reset although the write happened', async () => {
    sim.faults.add({ kind: 'lose_response', method: 'POST', path: '/api/v4/projects/**', times: 1 });
    await assert.rejects(createIssue('written but unanswered'), TypeError);
    assert.ok(issueTitles().includes('written but unanswered'));
    assert.equal((await createIssue('answered')).status, 201, 'the server keeps serving');
  });
});

describe('fault injection in process', () => {
  test('the in-process fetch rejects like a reset connection, and latency waits on the virtual clock', async () => {
    const clock = new VirtualClock();
    const sim = createGitLabSimulator({ clock, seed: ACME });
    const headers = { 'PRIVATE-TOKEN': 'alice-token' };
    sim.faults.add({ kind: 'drop', times: 1 });
    await assert.rejects(sim.fetch('/api/v4/user', { headers }), /fetch failed/);

    sim.faults.add({ kind: 'latency', ms: 60_000, times: 1 });
    let settled = false;
    const pending = sim.fetch('/api/v4/user', { headers }).then((response) => {
      settled = true;
      return response.status;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false);
    clock.advance(60_000);
    assert.equal(await pending, 200);
  });
});
