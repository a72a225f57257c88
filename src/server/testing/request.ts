import type { Hono } from 'hono';
import type { AppEnv } from '../http/env.js';
import type { ErrorBody } from '../http/errors.js';

/**
 * Calls the app in-process as an authenticated client; `body` is sent as JSON unless a string.
 * `T` is the response body the test expects (no check: a wrong guess fails the assertions).
 */
export async function call<T = ErrorBody>(
  app: Hono<AppEnv>,
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  const token = options.token === undefined ? 'test-token' : options.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const init: RequestInit = { method, headers };
  if (options.body !== undefined) {
    init.body = typeof options.body === 'string' || options.body instanceof Uint8Array ? options.body : JSON.stringify(options.body);
  }
  const response = await app.request(path, init);
  const text = await response.text();
  return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T, headers: response.headers };
}
