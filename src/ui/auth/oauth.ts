import { Hono } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import * as oauth from 'oauth4webapi';
import type { Context } from 'hono';
import type { SignInProvider, UiEnv, UiSettings } from '../env.js';
import { isLoopback } from './loopback.js';
import { cookieOptions, endSession, expectedOrigin, readSession, requireUser, safeNext, startSession, verifyCsrf } from './session.js';
import { signInPage } from '../pages/sign-in.js';
import { PAGE_HEADERS, render } from '../static.js';

/** Short-lived cookie that carries the PKCE verifier and state from /auth/login to /auth/callback. */
const FLOW_COOKIE = 'af_oauth';
const FLOW_TTL_S = 600;

interface Flow {
  verifier: string;
  state: string;
  next: string;
}

function server(provider: SignInProvider): { as: oauth.AuthorizationServer; client: oauth.Client } {
  const browser = provider.gitlabUrl.replace(/\/+$/, '');
  const api = (provider.serverUrl ?? provider.gitlabUrl).replace(/\/+$/, '');
  return {
    as: { issuer: browser, authorization_endpoint: `${browser}/oauth/authorize`, token_endpoint: `${api}/oauth/token` },
    client: { client_id: provider.clientId },
  };
}

function requestOptions(provider: SignInProvider): oauth.TokenEndpointRequestOptions {
  return {
    // A GitLab on plain http (the simulator, a lab instance) is the operator's decision to make.
    [oauth.allowInsecureRequests]: true,
    ...(provider.fetch ? { [oauth.customFetch]: provider.fetch } : {}),
  };
}

/**
 * Why signing in cannot work from where this request comes, or undefined. When the public URL
 * names this machine (no `--public-url` on a server listening beyond loopback) and the person
 * reached the server at another address, GitLab would send them back to *their* localhost.
 */
function signInProblem(c: Context<UiEnv>, settings: UiSettings): string | undefined {
  const canonical = new URL(expectedOrigin(c, settings));
  const here = new URL(c.req.url);
  if (isLoopback(canonical.hostname) && !isLoopback(here.hostname)) {
    return (
      `This server's public address is ${canonical.origin}, which works only on the server's own machine, and you reached it at ${here.origin}: ` +
      `signing in would lead back to ${canonical.origin}. Whoever runs the server must start it with --public-url ${here.origin} (or AUTOFLOW_PUBLIC_URL).`
    );
  }
  return settings.signInRefusal?.(c);
}

/**
 * Sign-in with GitLab: OAuth 2 authorization code with PKCE (S256). The verifier and state wait
 * in a signed, HttpOnly cookie scoped to /auth; the access token is used once, to learn who
 * signed in (`/api/v4/user`), and is not kept.
 */
export function authRoutes(settings: UiSettings): Hono<UiEnv> {
  const app = new Hono<UiEnv>();
  const redirectUri = (origin: string): string => `${origin}/auth/callback`;

  app.get('/auth/login', async (c) => {
    const next = safeNext(c.req.query('next'));
    // Cookies belong to one origin: on this machine (127.0.0.1 vs localhost), sign in where the
    // OAuth redirect will come back to. (Behind a proxy the request's own origin differs by design.)
    const canonical = new URL(expectedOrigin(c, settings));
    const here = new URL(c.req.url);
    if (here.origin !== canonical.origin && isLoopback(here.hostname) && isLoopback(canonical.hostname)) {
      return c.redirect(`${canonical.origin}/auth/login?next=${encodeURIComponent(next)}`, 302);
    }
    if (await readSession(c, settings)) return c.redirect(next, 302);
    const problem = signInProblem(c, settings);
    if (problem !== undefined) return c.html(render(signInPage({ refusal: problem })), 403, PAGE_HEADERS);
    const provider = settings.signIn();
    if (!provider) return c.html(render(signInPage({ problem: 'notConfigured' })), 503, PAGE_HEADERS);
    if (c.req.query('go') === undefined) return c.html(render(signInPage({ next, gitlabUrl: provider.gitlabUrl })), 200, PAGE_HEADERS);
    const { as, client } = server(provider);
    const flow: Flow = { verifier: oauth.generateRandomCodeVerifier(), state: oauth.generateRandomState(), next };
    await setSignedCookie(
      c,
      FLOW_COOKIE,
      Buffer.from(JSON.stringify(flow)).toString('base64url'),
      settings.sessionSecret,
      cookieOptions(settings, FLOW_TTL_S, '/auth'),
    );
    const url = new URL(as.authorization_endpoint ?? '');
    url.searchParams.set('client_id', client.client_id);
    url.searchParams.set('redirect_uri', redirectUri(expectedOrigin(c, settings)));
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', 'read_user');
    url.searchParams.set('state', flow.state);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(flow.verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return c.redirect(url.toString(), 302);
  });

  app.get('/auth/callback', async (c) => {
    const provider = settings.signIn();
    const raw = await getSignedCookie(c, settings.sessionSecret, FLOW_COOKIE);
    deleteCookie(c, FLOW_COOKIE, cookieOptions(settings, 0, '/auth'));
    if (!provider) return c.html(render(signInPage({ problem: 'notConfigured' })), 503, PAGE_HEADERS);
    const problem = signInProblem(c, settings);
    if (problem !== undefined) return c.html(render(signInPage({ refusal: problem })), 403, PAGE_HEADERS);
    if (!raw) return c.html(render(signInPage({ problem: 'expired' })), 400, PAGE_HEADERS);
    const flow = JSON.parse(Buffer.from(raw, 'base64url').toString()) as Flow;
    const { as, client } = server(provider);
    const origin = expectedOrigin(c, settings);
    try {
      const params = oauth.validateAuthResponse(as, client, new URL(c.req.url), flow.state);
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.ClientSecretPost(provider.clientSecret),
        params,
        redirectUri(origin),
        flow.verifier,
        requestOptions(provider),
      );
      const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
      const api = (provider.serverUrl ?? provider.gitlabUrl).replace(/\/+$/, '');
      const userResponse = await (provider.fetch ?? fetch)(`${api}/api/v4/user`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      if (!userResponse.ok) throw new Error(`GitLab answered ${userResponse.status} for /api/v4/user`);
      const user = (await userResponse.json()) as { username?: unknown; name?: unknown; id?: unknown };
      if (typeof user.username !== 'string') throw new Error('GitLab sent no username');
      const refusal = await settings.userRefusal?.({ username: user.username, id: typeof user.id === 'number' ? user.id : undefined });
      if (refusal !== undefined) {
        settings.logger.info({ username: user.username }, 'web UI sign-in refused: the user is not in uiUsers');
        return c.html(render(signInPage({ refusal })), 403, PAGE_HEADERS);
      }
      await startSession(c, settings, { username: user.username, name: typeof user.name === 'string' ? user.name : user.username });
      return c.redirect(safeNext(flow.next), 302);
    } catch (error) {
      settings.logger.warn({ err: error }, 'sign-in with GitLab failed');
      return c.html(render(signInPage({ problem: 'failed' })), 400, PAGE_HEADERS);
    }
  });

  app.post('/auth/logout', requireUser(settings), verifyCsrf(settings), async (c) => {
    await endSession(c, settings, c.get('session'));
    return c.redirect('/auth/login', 302);
  });
  return app;
}
