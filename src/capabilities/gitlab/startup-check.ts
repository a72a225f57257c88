import { CapabilityError, toError } from '../../core/errors.js';
import type { Logger } from '../../core/ports.js';
import { createGitLabClient } from './client.js';
import { GitLabError } from './errors.js';

export interface GitLabStartupCheckOptions {
  baseUrl: string;
  token: string;
  logger: Logger;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Short: the server is starting, and the check only reports. @default 5000 */
  timeoutMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** What the check found, also logged: `ok` with the user AutoFlow acts as, or the warning. */
export type GitLabStartupCheck = { ok: true; username: string } | { ok: false; warning: string };

const FIX_URL = 'set --gitlab-url (AUTOFLOW_GITLAB_URL) to the address people open GitLab at';

/** The warning for a failed `GET /user`: what is wrong, and what to do about it. */
function warningOf(error: Error, baseUrl: string): string {
  const prefix = `GitLab at ${baseUrl}`;
  if (error instanceof GitLabError) {
    if (error.status === 401) {
      return `${prefix} refuses the token (401: wrong, expired or revoked); set a valid token with the api scope in AUTOFLOW_GITLAB_TOKEN`;
    }
    if (error.status === 403) {
      return `${prefix} answers 403 to GET /user: the token lacks the api (or read_api) scope, or its user is blocked; give AUTOFLOW_GITLAB_TOKEN a token with the api scope`;
    }
    if (error.status === 404) return `${prefix} answers 404 to GET /api/v4/user: it does not look like GitLab; ${FIX_URL}`;
    return `${prefix} does not work as expected: ${error.message}`;
  }
  if (error instanceof CapabilityError && error.retryable) {
    return `${prefix} cannot be reached now: ${error.message}. Calls are retried; if the address is wrong, ${FIX_URL}`;
  }
  return `${prefix} cannot be used: ${error.message}`;
}

/**
 * Checks once that GitLab answers and takes the token: `GET /api/v4/user`, with a short timeout,
 * then one info line (`GitLab at X answers; AutoFlow acts as @bot`) or one warning that says what
 * is wrong and how to fix it. It never throws and is not awaited at start-up: a GitLab that is
 * down now may be up by the first call, and calls are retried anyway.
 *
 * @example
 * void checkGitLabAtStartup({ baseUrl: config.gitlabUrl, token: config.gitlabToken, logger });
 */
export async function checkGitLabAtStartup(options: GitLabStartupCheckOptions): Promise<GitLabStartupCheck> {
  const { baseUrl, logger } = options;
  try {
    const client = createGitLabClient({
      baseUrl,
      token: options.token,
      timeoutMs: options.timeoutMs ?? 5000,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const { body } = await client.send('GET', client.urlOf({ method: 'GET', path: '/user' }), undefined, (options.now ?? Date.now)());
    const username = body !== null && typeof body === 'object' && !Array.isArray(body) ? body['username'] : undefined;
    if (typeof username !== 'string') throw new Error(`its answer to GET /api/v4/user names no user; ${FIX_URL}`);
    logger.info({ gitlabUrl: baseUrl, username }, `GitLab at ${baseUrl} answers; AutoFlow acts as @${username}`);
    return { ok: true, username };
  } catch (caught) {
    const warning = warningOf(toError(caught), baseUrl);
    logger.warn({ gitlabUrl: baseUrl }, warning);
    return { ok: false, warning };
  }
}
