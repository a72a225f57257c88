import { CapabilityError } from '../../core/errors.js';
import type { Json } from '../../core/model.js';

/**
 * GitLab refused the request (4xx, or a redirect): sending it again would get the same answer,
 * so it is not retried. Workflows match it by name (`e.name === 'GitLabError'`); `details` hold
 * `status`, the `request` (`METHOD /path`) and GitLab's answer `body`.
 */
export class GitLabError extends CapabilityError {
  readonly status: number;
  constructor(message: string, details: { status: number; request: string; body: Json }) {
    super('gitlab_error', message, { retryable: false, details });
    this.status = details.status;
  }
}

/**
 * GitLab could not answer now: 429, 5xx, a timeout or a broken connection. The engine retries it
 * (after `retryAfterMs` when GitLab said how long to wait); a workflow sees it only once the
 * retries are used up.
 */
export class GitLabUnavailableError extends CapabilityError {
  constructor(message: string, details: { status?: number; request: string }, options: { retryAfterMs?: number; cause?: unknown } = {}) {
    super('gitlab_unavailable', message, { retryable: true, details, ...options });
  }
}

/**
 * GitLab's explanation in its own words. Its error bodies come in four shapes:
 * `{"message":"404 Project Not Found"}`, Grape's `{"error":"title is missing"}`, model
 * validations `{"message":{"title":["can't be blank"]}}`, and lists `{"message":["Another open…"]}`.
 */
export function gitLabMessage(body: Json): string | undefined {
  if (typeof body === 'string') return body.trim() === '' || body.trimStart().startsWith('<') ? undefined : body.trim().slice(0, 500);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const { message, error } = body;
  // `{"message":"Validation failed","error":"title is too long"}`: the reason is in `error`.
  if (typeof message === 'string' && typeof error === 'string' && error !== message) return `${message}: ${error}`;
  if (typeof message === 'string') return message;
  if (typeof error === 'string') return error;
  if (Array.isArray(message)) return message.filter((item) => typeof item === 'string').join('; ');
  if (message !== null && typeof message === 'object') {
    const parts = Object.entries(message).map(
      ([field, problems]) =>
        `${field} ${Array.isArray(problems) ? problems.map((problem) => (typeof problem === 'string' ? problem : JSON.stringify(problem))).join(', ') : JSON.stringify(problems)}`,
    );
    return parts.join('; ');
  }
  return undefined;
}
