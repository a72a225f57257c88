/**
 * What the real `http` capability makes of an answer, applied to a mocked one: a mock stands in for the web service,
 * not for the capability, so its `status` means what it means in production (4xx `HttpError`, 429/5xx retried after
 * their `Retry-After`) and a mock that does not answer times out at the request's `timeoutMs`, on the test's clock.
 * The rules are the capability's own (`unavailableError`, `HttpError`, `networkError`); only the plumbing is here.
 */
import { fetchFailure } from '../capabilities/fetch-failure.js';
import { checkHttpRequest, HTTP_TIMEOUT_MS, HttpError, networkError, unavailableError } from '../capabilities/http.js';
import type { Json } from '../core/model.js';
import type { CapabilityContext, Clock } from '../core/ports.js';

/** Answers a capability call as the mock does. */
export type Answer = (method: string, args: Json, context: CapabilityContext) => Promise<Json>;

/** A header of a mocked answer, by name in any case, as `Headers.get` reads a real one; null when absent. */
function headerOf(answer: { [key: string]: Json }, name: string): string | null {
  const headers = answer['headers'];
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) return null;
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name);
  return found === undefined ? null : typeof found[1] === 'string' ? found[1] : JSON.stringify(found[1]);
}

/**
 * The mock's answer, or what it stands for: the failure of a 4xx, 429 or 5xx status, or a timeout once the request's
 * `timeoutMs` (30 s by default, as in production) passed on `clock` without one. An answer without a numeric `status`
 * is not an HTTP answer: the workflow gets it as it is.
 */
export function mockedHttp(answer: Answer, clock: Clock): Answer {
  return async (method, args, context) => {
    const { request, url } = checkHttpRequest(method, args, context);
    const timeoutMs = request.timeoutMs ?? HTTP_TIMEOUT_MS;
    let stopTimer = (): void => {};
    const timedOut = new Promise<never>((_, reject) => {
      stopTimer = clock.schedule(clock.now() + timeoutMs, () => {
        const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
        reject(networkError(url, fetchFailure(timeout), timeoutMs, `no answer within ${timeoutMs} ms`));
      });
    });
    let body: Json;
    try {
      body = await Promise.race([answer(method, args, context), timedOut]);
    } finally {
      stopTimer();
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body) || typeof body['status'] !== 'number') return body;
    const status = body['status'];
    const unavailable = unavailableError(status, url.href, headerOf(body, 'retry-after'), context.now);
    if (unavailable) throw unavailable;
    if (status >= 400) throw new HttpError(status, url.href, body['body'] ?? null);
    return body;
  };
}
