import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';

const read = (name: string): string => readFileSync(new URL(`./static/${name}`, import.meta.url), 'utf8');
const CSS = read('app.css');
const JS = read('app.js');
const ICON = read('icon.svg');

/** Changes whenever an asset does, so the browser may cache them for a year. */
export const ASSET_VERSION = createHash('sha256').update(CSS).update(JS).digest('hex').slice(0, 12);

/** `/ui/app.css`, `/ui/app.js` and the icon: the UI's only assets, served from here (no CDN; works offline). */
export function staticRoutes(): Hono {
  const app = new Hono();
  const headers = (type: string) => ({ 'content-type': type, 'cache-control': 'public, max-age=31536000, immutable' });
  app.get('/ui/app.css', (c) => c.body(CSS, 200, headers('text/css; charset=utf-8')));
  app.get('/ui/app.js', (c) => c.body(JS, 200, headers('text/javascript; charset=utf-8')));
  app.get('/ui/icon.svg', (c) => c.body(ICON, 200, headers('image/svg+xml')));
  // Browsers ask for /favicon.ico before they read the page's <link rel="icon">, or without one.
  app.get('/favicon.ico', (c) => c.body(ICON, 200, { ...headers('image/svg+xml'), 'cache-control': 'public, max-age=86400' }));
  return app;
}

/**
 * Headers of every page: a Content-Security-Policy that allows only this server's own script and
 * styles (so that markup slipping through escaping still could not run), no framing (an approve
 * button must not be clickable through someone else's page), no MIME sniffing, no referrer abroad.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** `<!doctype html>` and the rendered page. */
export function render(node: { toString(): string | Promise<string> }): string {
  const text = node.toString();
  if (typeof text !== 'string') throw new Error('pages render synchronously: no async components');
  return `<!doctype html>${text}`;
}
