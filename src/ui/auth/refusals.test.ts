import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Operations } from '../../app/operations.js';
import type { Logger } from '../../core/ports.js';
import type { UiOptions } from '../env.js';
import { createUi } from '../ui.js';

// What the person is told when sign-in or a post is refused (oauth.ts, session.ts), through the UI's routes.

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

/** The UI with no store behind it: enough for the sign-in pages and refused posts, which read none. */
function ui(options: Partial<UiOptions> = {}) {
  return createUi({
    operations: {} as Operations,
    logger: silent,
    sessionSecret: 's'.repeat(32),
    signIn: () => ({ gitlabUrl: 'http://gitlab.test', clientId: 'id', clientSecret: 'secret' }),
    ...options,
  });
}

test('reached at another address than a public URL on loopback, sign-in says exactly what to set instead of failing later', async () => {
  const app = ui({ publicUrl: 'http://localhost:8080' });
  for (const path of ['/auth/login', '/auth/login?go=1&next=/tasks', '/auth/callback?code=c&state=s']) {
    const response = await app.request(`http://192.0.2.7:8080${path}`);
    assert.equal(response.status, 403, path);
    const html = await response.text();
    assert.match(html, /public address is http:\/\/localhost:8080, which works only on the server&#39;s own machine/, path);
    assert.match(html, /--public-url http:\/\/192\.0\.2\.7:8080/, path);
    assert.doesNotMatch(html, /Sign in with GitLab|took too long/, path);
  }
  const local = await app.request('http://localhost:8080/auth/login?go=1');
  assert.equal(local.status, 302, 'on the machine itself sign-in goes on');
});

test('a sign-in the server refuses for this request (the simulator from another machine) says why, and offers no button', async () => {
  const app = ui({ signInRefusal: () => 'only from this machine' });
  for (const path of ['/auth/login', '/auth/login?go=1', '/auth/callback?code=c&state=s']) {
    const response = await app.request(`http://localhost:8080${path}`);
    assert.equal(response.status, 403, path);
    const html = await response.text();
    assert.match(html, /only from this machine/);
    assert.doesNotMatch(html, /Sign in with GitLab/);
  }
});

test('a post from another site is refused as that, not as a sign-out; nothing it carried is echoed', async () => {
  const app = ui({ publicUrl: 'http://localhost:8080' });
  const response = await app.request('http://localhost:8080/tasks/tk_1', {
    method: 'POST',
    headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
    body: 'decision=approve&comment=%3Cb%3Ebait',
  });
  assert.equal(response.status, 403);
  assert.match(response.headers.get('content-type') ?? '', /text\/html/);
  const html = await response.text();
  assert.match(html, /posted from another site \(https:\/\/evil\.example\)/);
  assert.doesNotMatch(html, /session has ended|signed out|bait/);
});

test('a post of this site after the session ended shows what it carried, without its token', async () => {
  const app = ui({ publicUrl: 'http://localhost:8080' });
  const response = await app.request('http://localhost:8080/tasks/tk_1', {
    method: 'POST',
    headers: {
      origin: 'http://localhost:8080',
      referer: 'http://localhost:8080/tasks/tk_1',
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: '_csrf=secret-token&notes=line+one%0D%0Aline+two&areas=api&areas=db&empty=',
  });
  assert.equal(response.status, 401);
  const html = await response.text();
  assert.match(html, /Your session has ended/);
  assert.match(html, /<dt class="mono">notes<\/dt><dd class="multiline">line one\r\nline two<\/dd>/);
  assert.match(html, /<dt class="mono">areas<\/dt><dd class="multiline">api, db<\/dd>/);
  assert.doesNotMatch(html, /secret-token|>empty</);
});
