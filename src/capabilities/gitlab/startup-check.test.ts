import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Logger } from '../../core/ports.js';
import { checkGitLabAtStartup } from './startup-check.js';
import { createWorld } from './world.test.js';

/** A logger that keeps `level message` lines. */
function recording(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = {
    lines,
    debug: () => {},
    info: (_: object, message?: string) => lines.push(`info ${message ?? ''}`),
    warn: (_: object, message?: string) => lines.push(`warn ${message ?? ''}`),
    error: (_: object, message?: string) => lines.push(`error ${message ?? ''}`),
    child: () => logger,
  };
  return logger;
}

test('GitLab answers and takes the token: one info line naming the user AutoFlow acts as', async () => {
  const { sim } = createWorld();
  const logger = recording();
  const result = await checkGitLabAtStartup({ baseUrl: sim.state.baseUrl, token: 'bot-token', logger, fetch: sim.fetch });
  assert.deepEqual(result, { ok: true, username: 'bot' });
  assert.deepEqual(logger.lines, ['info GitLab at http://gitlab.example.com answers; AutoFlow acts as @bot']);
});

test('each failure is one warning saying what is wrong and how to fix it; none throws', async () => {
  const { sim } = createWorld();
  const check = async (baseUrl: string, token: string, fetch?: typeof globalThis.fetch) => {
    const logger = recording();
    await checkGitLabAtStartup({ baseUrl, token, logger, timeoutMs: 2000, ...(fetch ? { fetch } : {}) });
    assert.equal(logger.lines.length, 1);
    return logger.lines[0] ?? '';
  };
  assert.equal(
    await check(sim.state.baseUrl, 'revoked', sim.fetch),
    'warn GitLab at http://gitlab.example.com refuses the token (401: wrong, expired or revoked); set a valid token with the api scope in AUTOFLOW_GITLAB_TOKEN',
  );
  assert.match(await check('http://127.0.0.1:9', 't'), /^warn GitLab at http:\/\/127\.0\.0\.1:9 cannot be used: .*fetch refuses port 9/);
  const refused = () => Promise.reject(new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') }));
  assert.match(
    await check('http://127.0.0.1:1', 't', refused),
    /^warn GitLab at http:\/\/127\.0\.0\.1:1 cannot be reached now: GET http:\/\/127\.0\.0\.1:1\/api\/v4\/user failed before GitLab answered: fetch failed \(connect ECONNREFUSED 127\.0\.0\.1:1\)\. Calls are retried; if the address is wrong, set --gitlab-url/,
  );
  const signIn = () => Promise.resolve(new Response('<html>Sign in</html>', { headers: { 'content-type': 'text/html' } }));
  assert.match(
    await check('https://proxy.example.com', 't', signIn),
    /answered with text\/html instead of JSON.*not a proxy's or a sign-in page's/,
  );
  const forbidden = () => Promise.resolve(Response.json({ message: '403 Forbidden' }, { status: 403 }));
  assert.match(await check('https://gitlab.example.com', 't', forbidden), /answers 403 to GET \/user: the token lacks the api/);
});
