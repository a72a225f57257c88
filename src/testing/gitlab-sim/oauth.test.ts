import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { createGitLabSimulator, demoSeed } from './index.js';

const REDIRECT = 'http://autoflow.test/auth/callback';
const VERIFIER = 'v'.repeat(50);
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');

function setup() {
  const gitlab = createGitLabSimulator({ seed: demoSeed() });
  const application = gitlab.oauth.registerApplication({ name: 'AutoFlow', redirectUri: REDIRECT });
  const query = new URLSearchParams({
    client_id: application.clientId,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'read_user',
    state: 'st4te',
    code_challenge: CHALLENGE,
    code_challenge_method: 'S256',
  });
  return { gitlab, application, query };
}

async function authorize(gitlab: ReturnType<typeof setup>['gitlab'], query: URLSearchParams, username: string): Promise<URL> {
  const body = new URLSearchParams(query);
  body.set('username', username);
  const response = await gitlab.app.request('/oauth/authorize', { method: 'POST', body });
  assert.equal(response.status, 302);
  return new URL(response.headers.get('location') ?? '');
}

function tokenRequest(fields: Record<string, string>): RequestInit {
  return { method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', ...fields }) };
}

test('the authorize page lists the users to sign in as, and names the application', async () => {
  const { gitlab, query } = setup();
  const page = await (await gitlab.app.request(`/oauth/authorize?${query.toString()}`)).text();
  assert.match(page, /AutoFlow/);
  for (const username of ['alice', 'bob', 'carol']) assert.match(page, new RegExp(`value="${username}"`));
});

test('authorization code + PKCE: the token reads /api/v4/user as the chosen user; the code works once', async () => {
  const { gitlab, application, query } = setup();
  const redirect = await authorize(gitlab, query, 'bob');
  assert.equal(redirect.origin + redirect.pathname, REDIRECT);
  assert.equal(redirect.searchParams.get('state'), 'st4te');
  const grant = {
    code: redirect.searchParams.get('code') ?? '',
    redirect_uri: REDIRECT,
    client_id: application.clientId,
    client_secret: application.clientSecret,
    code_verifier: VERIFIER,
  };
  const response = await gitlab.app.request('/oauth/token', tokenRequest(grant));
  assert.equal(response.status, 200);
  const token = (await response.json()) as { access_token: string; token_type: string };
  assert.equal(token.token_type, 'Bearer');
  const user = (await (await gitlab.app.request('/api/v4/user', { headers: { authorization: `Bearer ${token.access_token}` } })).json()) as {
    username: string;
  };
  assert.equal(user.username, 'bob');
  const again = await gitlab.app.request('/oauth/token', tokenRequest(grant));
  assert.equal(again.status, 400);
  assert.equal(((await again.json()) as { error: string }).error, 'invalid_grant');
});

test('the token endpoint refuses a wrong verifier, redirect URI or client secret', async () => {
  const { gitlab, application, query } = setup();
  const cases: Array<[Record<string, string>, number, string]> = [
    [{ code_verifier: 'w'.repeat(50) }, 400, 'invalid_grant'],
    [{ redirect_uri: 'http://evil.test/cb' }, 400, 'invalid_grant'],
    [{ client_secret: 'nope' }, 401, 'invalid_client'],
  ];
  for (const [override, status, error] of cases) {
    const code = (await authorize(gitlab, query, 'alice')).searchParams.get('code') ?? '';
    const fields = { code, redirect_uri: REDIRECT, client_id: application.clientId, client_secret: application.clientSecret, code_verifier: VERIFIER, ...override };
    const response = await gitlab.app.request('/oauth/token', tokenRequest(fields));
    assert.equal(response.status, status, JSON.stringify(override));
    assert.equal(((await response.json()) as { error: string }).error, error);
  }
});

test('an unregistered redirect URI is refused before anything redirects there', async () => {
  const { gitlab, query } = setup();
  query.set('redirect_uri', 'http://evil.test/cb');
  const response = await gitlab.app.request(`/oauth/authorize?${query.toString()}`);
  assert.equal(response.status, 400);
  assert.equal(response.headers.get('location'), null);
});
