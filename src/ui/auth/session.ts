import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import type { UiEnv, UiSettings } from '../env.js';
import { errorPage } from '../pages/error.js';
import { sessionEndedPage } from '../pages/sign-in.js';
import { PAGE_HEADERS, render } from '../static.js';

/** Who is signed in. The cookie holds it signed (HMAC-SHA256), so the server keeps no session table. */
export interface Session {
  username: string;
  name: string;
  /** The per-session CSRF token every form carries (`_csrf`). */
  csrf: string;
  /** Epoch ms after which the cookie is refused even if the browser still sends it. */
  expiresAt: number;
}

export const SESSION_COOKIE = 'af_session';
/** Twelve hours: a working day, after which GitLab is asked again (silently, if still signed in there). */
const SESSION_TTL_MS = 12 * 3600_000;

export function cookieOptions(settings: UiSettings, maxAgeSeconds: number, path = '/') {
  return {
    path,
    httpOnly: true,
    sameSite: 'Lax' as const,
    secure: settings.publicUrl?.startsWith('https:') ?? false,
    maxAge: maxAgeSeconds,
  };
}

export async function startSession(c: Context<UiEnv>, settings: UiSettings, user: { username: string; name: string }): Promise<void> {
  const session: Session = {
    username: user.username.toLowerCase(),
    name: user.name,
    csrf: randomBytes(24).toString('base64url'),
    expiresAt: settings.now() + SESSION_TTL_MS,
  };
  const value = Buffer.from(JSON.stringify(session)).toString('base64url');
  await setSignedCookie(c, SESSION_COOKIE, value, settings.sessionSecret, cookieOptions(settings, SESSION_TTL_MS / 1000));
}

/** Signs out: the cookie is deleted, and the session refused from now on even if a copy of it comes back. */
export async function endSession(c: Context<UiEnv>, settings: UiSettings, session: Session): Promise<void> {
  // In the database, so that every server of a deployment refuses it.
  await settings.operations.revokeSession(session.csrf, session.expiresAt);
  deleteCookie(c, SESSION_COOKIE, cookieOptions(settings, 0));
}

export async function readSession(c: Context<UiEnv>, settings: UiSettings): Promise<Session | undefined> {
  const value = await getSignedCookie(c, settings.sessionSecret, SESSION_COOKIE);
  if (!value) return undefined;
  try {
    const session = JSON.parse(Buffer.from(value, 'base64url').toString()) as Session;
    if (typeof session.username !== 'string' || typeof session.csrf !== 'string' || !(session.expiresAt > settings.now())) return undefined;
    // The CSRF token is random per sign-in, so it also names the session for signing out.
    return (await settings.operations.isSessionRevoked(session.csrf)) ? undefined : session;
  } catch {
    return undefined;
  }
}

/** Stands in for this server's origin when resolving `next`: any origin would do, only sameness counts. */
const HERE = 'http://autoflow.invalid';

/**
 * A local path to come back to after signing in; anything else becomes `/`. `next` must start with
 * one `/`, hold no control character (browsers drop tabs and newlines: `/<TAB>/evil.example` is
 * `//evil.example`) and no `\` (read as `/`), and resolve against this server's origin to that origin.
 */
export function safeNext(next: string | undefined): string {
  if (!next?.startsWith('/') || next.startsWith('//') || /[\u0000-\u001f\u007f\\]/.test(next)) return '/';
  try {
    return new URL(next, HERE).origin === HERE ? next : '/';
  } catch {
    return '/';
  }
}

/** The path and query of `url` when it belongs to `origin`, for coming back to it after signing in. */
function sameOriginPath(url: string | undefined, origin: string): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.origin === origin ? safeNext(parsed.pathname + parsed.search) : undefined;
  } catch {
    return undefined;
  }
}

/** Pages need a signed-in user: GETs are sent to sign in (and back), anything else is refused. */
export function requireUser(settings: UiSettings): MiddlewareHandler<UiEnv> {
  return async function signedIn(c, next) {
    const session = await readSession(c, settings);
    if (!session) {
      if (c.req.method === 'GET') {
        const url = new URL(c.req.url);
        return c.redirect(`/auth/login?next=${encodeURIComponent(url.pathname + url.search)}`, 302);
      }
      // Another site's post arrives without the cookie (SameSite=Lax): it is refused as what it is,
      // whether or not the person is signed in here.
      const origin = c.req.header('origin');
      const here = expectedOrigin(c, settings);
      if (origin !== undefined && origin !== here) return refuse(c, undefined, crossSite(origin));
      // A post from a page left open (overnight, or signed out in another tab): say what happened,
      // show what was typed (only for a post from this site: another's is not echoed) and lead
      // back to the page the post came from.
      const back = sameOriginPath(c.req.header('referer'), here) ?? '/';
      const typed = origin === here ? typedFields(await c.req.parseBody({ all: true })) : [];
      return c.html(render(sessionEndedPage({ next: back, typed })), 401, PAGE_HEADERS);
    }
    c.set('session', session);
    await next();
  };
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The origin the browser sees this server at: `publicUrl`'s, or the request's own. */
export function expectedOrigin(c: Context<UiEnv>, settings: UiSettings): string {
  return new URL(settings.publicUrl ?? c.req.url).origin;
}

/** What a form post carried, as name and text, without its token: for the person to copy. */
function typedFields(form: Record<string, unknown>): Array<[string, string]> {
  return Object.entries(form).flatMap(([name, value]) => {
    const texts = (Array.isArray(value) ? value : [value]).filter((item): item is string => typeof item === 'string' && item.trim() !== '');
    return name === '_csrf' || texts.length === 0 ? [] : [[name, texts.join(', ')] as [string, string]];
  });
}

const crossSite = (origin: string): string =>
  `This form was posted from another site (${origin}), not from one of this server's pages, so it was refused and nothing was saved. ` +
  'To do this, open the page on this server and use its form.';

/** A refused form post as a page (403), with the header of whoever is signed in. */
function refuse(c: Context<UiEnv>, session: Session | undefined, message: string): Response {
  return c.html(render(errorPage({ session, status: 403, message })), 403, PAGE_HEADERS);
}

/**
 * CSRF protection of every form post, after `requireUser`: the `Origin` header must be this
 * server's (browsers send it on every POST), and the form must carry the session's token.
 * SameSite=Lax cookies already keep most cross-site posts out; this covers the rest (sibling
 * subdomains, old browsers) and makes a forged post fail loudly.
 */
export function verifyCsrf(settings: UiSettings): MiddlewareHandler<UiEnv> {
  return async function csrf(c, next) {
    const session = c.get('session');
    const origin = c.req.header('origin');
    if (!origin)
      return refuse(
        c,
        session,
        'Refused: the browser sent no Origin with this form, so where it came from is unknown; nothing was saved. Reload the page and try again.',
      );
    if (origin !== expectedOrigin(c, settings)) return refuse(c, session, crossSite(origin));
    const form = await c.req.parseBody({ all: true });
    const token = form._csrf;
    if (!session || typeof token !== 'string' || !sameToken(token, session.csrf)) {
      return refuse(
        c,
        session,
        'Refused: the form token is missing or stale (the page is older than your sign-in); nothing was saved. Reload the page and try again.',
      );
    }
    await next();
  };
}
