import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SimServer } from '../../testing/gitlab-sim/index.js';
import { createGitLabCapability } from './capability.js';
import { GitLabError, GitLabUnavailableError } from './errors.js';
import { type World, createWorld, rejection } from './world.test.js';

/** What the engine and workflows see when GitLab refuses or fails: typed, with GitLab's words, retryable or not. */

describe("GitLab refusals are non-retryable GitLabErrors with the status and GitLab's message", () => {
  test('404, 403, 400 (Grape), 400 (validation), 409', async () => {
    const { call } = createWorld();
    const missing = await rejection(call('issues.get', { project: 'acme/app', iid: 999 }));
    assert.ok(missing instanceof GitLabError);
    assert.deepEqual([missing.name, missing.retryable, missing.status], ['GitLabError', false, 404]);
    assert.deepEqual(missing.details, { status: 404, request: 'GET /projects/acme%2Fapp/issues/999', body: { message: '404 Not found' } });

    const alice = createWorld({ token: 'alice-token' });
    const forbidden = await rejection(alice.call('auditEvents.list', { project: 'acme/app' }));
    assert.ok(forbidden instanceof GitLabError && forbidden.status === 403);
    assert.match(
      forbidden.message,
      /GitLab answered 403 to GET \/projects\/acme%2Fapp\/audit_events: 403 Forbidden \(the token's user may not do this/,
    );

    const noTitle = await rejection(call('issues.create', { project: 'acme/app', attributes: { description: 'untitled' } }));
    assert.ok(noTitle instanceof GitLabError && noTitle.status === 400);
    assert.match(noTitle.message, /: title is missing$/);

    const badColor = await rejection(call('labels.create', { project: 'acme/app', attributes: { name: 'x', color: 'blue-ish' } }));
    assert.match(badColor.message, /: color must be a valid color code$/);

    const duplicate = await rejection(call('labels.create', { project: 'acme/app', attributes: { name: 'bug' } }));
    assert.ok(duplicate instanceof GitLabError && duplicate.status === 409, "a 409 on a first attempt is the caller's conflict");
  });

  test('401 says the token is wrong or expired, and where it is set', async () => {
    const { call } = createWorld({ token: 'revoked' });
    const error = await rejection(call('users.current', {}));
    assert.ok(error instanceof GitLabError && !error.retryable && error.status === 401);
    assert.match(
      error.message,
      /GitLab rejected the token \(401\) for GET \/user: it is wrong, expired or revoked; set a valid token with the api scope in AUTOFLOW_GITLAB_TOKEN/,
    );
  });

  test('a redirect is not followed (it could carry the token to another host)', async () => {
    const world = createWorld();
    const redirecting = createGitLabCapability({
      baseUrl: 'https://gitlab.example.com',
      token: 't',
      tokenVariable: 'GITLAB_TOKEN',
      fetch: () => Promise.resolve(new Response(null, { status: 301, headers: { location: 'https://elsewhere.example.com/api/v4/user' } })),
    });
    const error = await rejection(redirecting.invoke('users.current', {}, world.context()));
    assert.ok(error instanceof GitLabError && error.status === 301);
    assert.match(error.message, /redirected GET \/user to https:\/\/elsewhere\.example\.com\/api\/v4\/user: check the GitLab base URL/);
  });
});

describe('GitLab failures are retryable GitLabUnavailableErrors', () => {
  test('429 with Retry-After, or else RateLimit-Reset', async () => {
    const world = createWorld();
    world.sim.faults.add({ kind: 'rate_limit', retryAfterSeconds: 30, times: 1 });
    const limited = await rejection(world.call('issues.list', { project: 'acme/app' }));
    assert.ok(limited instanceof GitLabUnavailableError);
    assert.deepEqual([limited.name, limited.retryable, limited.retryAfterMs], ['GitLabUnavailableError', true, 30_000]);
    assert.deepEqual(limited.details, { status: 429, request: 'GET /projects/acme%2Fapp/issues' });

    // Some GitLab throttles answer only RateLimit-Reset (Unix seconds).
    const now = Date.UTC(2026, 0, 1);
    const resetOnly = createGitLabCapability({
      baseUrl: world.sim.state.baseUrl,
      token: 'bot-token',
      fetch: () => Promise.resolve(new Response('Retry later\n', { status: 429, headers: { 'ratelimit-reset': String(now / 1000 + 12) } })),
    });
    const reset = await rejection(resetOnly.invoke('users.current', {}, world.context({ now })));
    assert.ok(reset instanceof GitLabUnavailableError && reset.retryAfterMs === 12_000);
  });

  test("5xx (JSON or a proxy's HTML page), a dropped connection, and nothing written", async () => {
    const world = createWorld();
    world.sim.faults.add({ kind: 'status', status: 500, times: 1 });
    const internal = await rejection(world.call('issues.list', { project: 'acme/app' }));
    assert.ok(internal instanceof GitLabUnavailableError && internal.retryable);
    assert.equal(internal.message, 'GitLab answered 500 to GET /projects/acme%2Fapp/issues: 500 Internal Server Error');

    world.sim.faults.add({ kind: 'status', status: 502, times: 1 });
    const gateway = await rejection(world.call('issues.list', { project: 'acme/app' }));
    assert.equal(gateway.message, 'GitLab answered 502 to GET /projects/acme%2Fapp/issues: unavailable');

    world.sim.faults.add({ kind: 'drop', method: 'POST', times: 1 });
    const dropped = await rejection(world.call('issues.create', { project: 'acme/app', attributes: { title: 'dropped' } }));
    assert.ok(dropped instanceof GitLabUnavailableError && dropped.retryable);
    assert.match(
      dropped.message,
      /^POST http:\/\/gitlab\.example\.com\/api\/v4\/projects\/acme%2Fapp\/issues failed before GitLab answered: fetch failed/,
    );
    assert.equal(world.sim.state.issuesOf(world.sim.state.requireProject('acme/app')).length, 0);
  });
});

describe('over real loopback HTTP', () => {
  let world: World;
  let server: SimServer;
  before(async () => {
    world = createWorld();
    server = await world.sim.listen();
  });
  after(() => server.close());
  const overHttp = (timeoutMs?: number) =>
    createGitLabCapability({ baseUrl: server.url, token: 'bot-token', ...(timeoutMs === undefined ? {} : { timeoutMs }) });

  test('typed calls, and a 429 with its Retry-After', async () => {
    const gitlab = overHttp();
    const issue = (await gitlab.invoke('issues.create', { project: 'acme/app', attributes: { title: 'Over HTTP' } }, world.context())) as {
      iid: number;
    };
    const read = (await gitlab.invoke('issues.get', { project: 'acme/app', iid: issue.iid }, world.context())) as { title: string };
    assert.equal(read.title, 'Over HTTP');
    world.sim.faults.add({ kind: 'rate_limit', retryAfterSeconds: 7, times: 1 });
    const limited = await rejection(gitlab.invoke('users.current', {}, world.context()));
    assert.ok(limited instanceof GitLabUnavailableError && limited.retryAfterMs === 7000);
  });

  test('a reset connection and a timeout are retryable', async () => {
    world.sim.faults.add({ kind: 'drop', times: 1 });
    const reset = await rejection(overHttp().invoke('users.current', {}, world.context()));
    assert.ok(reset instanceof GitLabUnavailableError && reset.retryable);
    world.sim.faults.add({ kind: 'latency', ms: 500, times: 1 });
    const slow = await rejection(overHttp(50).invoke('users.current', {}, world.context()));
    assert.ok(slow instanceof GitLabUnavailableError && slow.retryable);
    assert.equal(slow.message, `GitLab did not answer GET ${server.url}/api/v4/user within 50 ms`);
  });
});
