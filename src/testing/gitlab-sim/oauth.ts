import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { html } from 'hono/html';
import type { SimUser } from './model.js';
import type { SimState } from './state.js';

/**
 * GitLab as an OAuth 2 provider (doc/api/oauth2.md): applications, the authorization-code grant
 * with PKCE, and bearer tokens that `/api/v4/user` accepts. Where GitLab shows its consent screen
 * after a password login, the simulator shows a picker of its users: choosing one authorizes.
 */
export interface OAuthApplication {
  name: string;
  clientId: string;
  clientSecret: string;
  /** Exact redirect URI, as GitLab compares it. */
  redirectUri: string;
  scopes: string[];
}

interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  userId: number;
  scopes: string[];
  challenge?: { value: string; method: 'S256' | 'plain' };
  expiresAt: number;
}

/** GitLab's authorization codes live ten minutes. */
const CODE_TTL_MS = 10 * 60_000;

export class SimOAuth {
  readonly applications = new Map<string, OAuthApplication>();
  private readonly codes = new Map<string, AuthorizationCode>();

  constructor(private readonly state: SimState) {}

  /** Registers an application (Admin → Applications in GitLab); returns its credentials. */
  registerApplication(options: { name: string; redirectUri: string; scopes?: string[] }): OAuthApplication {
    const application: OAuthApplication = {
      name: options.name,
      clientId: randomBytes(16).toString('hex'),
      clientSecret: `gloas-${randomBytes(24).toString('hex')}`,
      redirectUri: options.redirectUri,
      scopes: options.scopes ?? ['read_user'],
    };
    this.applications.set(application.clientId, application);
    return application;
  }

  /** Issues a code for `user` (what the picker's button does). */
  issueCode(request: AuthorizeRequest, user: SimUser): string {
    const code = randomBytes(24).toString('hex');
    this.codes.set(code, {
      clientId: request.application.clientId,
      redirectUri: request.redirectUri,
      userId: user.id,
      scopes: request.scopes,
      ...(request.challenge ? { challenge: request.challenge } : {}),
      expiresAt: this.state.now() + CODE_TTL_MS,
    });
    return code;
  }

  /** Redeems a code once; every mismatch is GitLab's `invalid_grant`. */
  redeem(grant: { code: string; clientId: string; redirectUri: string; verifier?: string }): { userId: number; scopes: string[] } {
    const stored = this.codes.get(grant.code);
    this.codes.delete(grant.code);
    if (!stored || stored.expiresAt < this.state.now()) throw new OAuthError(400, 'invalid_grant', 'the authorization code is invalid, expired or already used');
    if (stored.clientId !== grant.clientId) throw new OAuthError(400, 'invalid_grant', 'the code was issued to another client');
    if (stored.redirectUri !== grant.redirectUri) throw new OAuthError(400, 'invalid_grant', 'redirect_uri differs from the authorization request');
    if (stored.challenge) {
      if (grant.verifier === undefined) throw new OAuthError(400, 'invalid_grant', 'code_verifier is missing');
      const derived = stored.challenge.method === 'S256' ? createHash('sha256').update(grant.verifier).digest('base64url') : grant.verifier;
      if (!safeEqual(derived, stored.challenge.value)) throw new OAuthError(400, 'invalid_grant', 'code_verifier does not match the code_challenge');
    }
    return { userId: stored.userId, scopes: stored.scopes };
  }

  /** A bearer token for the user, stored like a personal access token so the REST API accepts it. */
  issueToken(userId: number, scopes: string[]): string {
    const token = randomBytes(32).toString('hex');
    this.state.tokens.set(token, {
      id: this.state.nextId('token'),
      token,
      userId,
      name: 'oauth',
      scopes,
      expiresAt: null,
      revoked: false,
      createdAt: this.state.now(),
    });
    return token;
  }
}

export class OAuthError extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly error: string,
    readonly description: string,
  ) {
    super(`${error}: ${description}`);
  }
}

interface AuthorizeRequest {
  application: OAuthApplication;
  redirectUri: string;
  state: string;
  scopes: string[];
  challenge?: { value: string; method: 'S256' | 'plain' };
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Checks the query or form of an authorization request; errors before the redirect URI is trusted are shown, not redirected. */
function authorizeRequest(oauth: SimOAuth, params: Record<string, string | undefined>): AuthorizeRequest {
  const application = oauth.applications.get(params.client_id ?? '');
  if (!application) throw new OAuthError(400, 'invalid_client', 'client_id does not name a registered application');
  if (params.redirect_uri !== application.redirectUri) throw new OAuthError(400, 'invalid_request', 'redirect_uri is not the registered one');
  if (params.response_type !== 'code') throw new OAuthError(400, 'unsupported_response_type', 'only response_type=code is supported');
  const scopes = (params.scope ?? 'read_user').split(/[ +]/).filter(Boolean);
  const unknown = scopes.filter((scope) => !application.scopes.includes(scope));
  if (unknown.length) throw new OAuthError(400, 'invalid_scope', `scope not granted to the application: ${unknown.join(', ')}`);
  const request: AuthorizeRequest = { application, redirectUri: application.redirectUri, state: params.state ?? '', scopes };
  if (params.code_challenge) {
    const method = params.code_challenge_method ?? 'plain';
    if (method !== 'S256' && method !== 'plain') throw new OAuthError(400, 'invalid_request', 'code_challenge_method must be S256 or plain');
    request.challenge = { value: params.code_challenge, method };
  }
  return request;
}

const AUTHORIZE_PARAMS = ['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'code_challenge', 'code_challenge_method'] as const;

function errorResponse(c: Context, error: OAuthError): Response {
  return c.json({ error: error.error, error_description: error.description }, error.status);
}

/** `/oauth/authorize` (the user picker) and `/oauth/token`, outside `/api/v4`'s token authentication. */
export function oauthRoutes(oauth: SimOAuth, state: SimState): Hono {
  const app = new Hono();
  app.onError((error, c) => {
    if (error instanceof OAuthError) return errorResponse(c, error);
    throw error;
  });

  app.get('/authorize', (c) => {
    const params = Object.fromEntries(AUTHORIZE_PARAMS.map((name) => [name, c.req.query(name)]));
    const request = authorizeRequest(oauth, params);
    const users = [...state.users.values()].filter((user) => user.state === 'active' && !user.username.endsWith('-bot'));
    const hidden = AUTHORIZE_PARAMS.map((name) => (params[name] === undefined ? '' : html`<input type="hidden" name="${name}" value="${params[name]}">`));
    return c.html(html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>GitLab simulator — sign in</title>
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;color:#222}button{display:block;width:100%;margin:.4rem 0;padding:.6rem;font:inherit;text-align:left;cursor:pointer}</style></head>
<body><h1>GitLab simulator</h1>
<p><strong>${request.application.name}</strong> asks to use your account (scopes: ${request.scopes.join(', ')}). Sign in as:</p>
<form method="post" action="${state.baseUrl}/oauth/authorize">${hidden}
${users.map((user) => html`<button type="submit" name="username" value="${user.username}">${user.name} <small>@${user.username}</small></button>`)}
</form></body></html>`);
  });

  app.post('/authorize', async (c) => {
    const form = await c.req.parseBody();
    const params = Object.fromEntries(AUTHORIZE_PARAMS.map((name) => [name, typeof form[name] === 'string' ? form[name] : undefined]));
    const request = authorizeRequest(oauth, params);
    const user = [...state.users.values()].find((candidate) => candidate.username === form.username && candidate.state === 'active');
    if (!user) throw new OAuthError(400, 'access_denied', 'no such active user');
    const target = new URL(request.redirectUri);
    target.searchParams.set('code', oauth.issueCode(request, user));
    if (request.state) target.searchParams.set('state', request.state);
    return c.redirect(target.toString(), 302);
  });

  app.post('/token', async (c) => {
    const form = await c.req.parseBody();
    const field = (name: string): string | undefined => (typeof form[name] === 'string' ? form[name] : undefined);
    let clientId = field('client_id');
    let clientSecret = field('client_secret');
    const basic = /^Basic\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (basic) {
      const [id, secret] = Buffer.from(basic, 'base64').toString().split(':').map((part) => decodeURIComponent(part));
      clientId = id;
      clientSecret = secret;
    }
    const application = oauth.applications.get(clientId ?? '');
    if (!application || clientSecret === undefined || !safeEqual(clientSecret, application.clientSecret)) {
      throw new OAuthError(401, 'invalid_client', 'client authentication failed');
    }
    if (field('grant_type') !== 'authorization_code') throw new OAuthError(400, 'unsupported_grant_type', 'only authorization_code is supported');
    const verifier = field('code_verifier');
    const { userId, scopes } = oauth.redeem({
      code: field('code') ?? '',
      clientId: application.clientId,
      redirectUri: field('redirect_uri') ?? '',
      ...(verifier === undefined ? {} : { verifier }),
    });
    const accessToken = oauth.issueToken(userId, scopes);
    return c.json({
      access_token: accessToken,
      token_type: 'Bearer',
      expires_in: 7200,
      refresh_token: randomBytes(32).toString('hex'),
      scope: scopes.join(' '),
      created_at: Math.floor(state.now() / 1000),
    });
  });
  return app;
}
