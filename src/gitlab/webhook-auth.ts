import { createHash, timingSafeEqual } from 'node:crypto';

/** A GitLab instance (or group of hooks) allowed to post webhooks, recognised by its secret token. */
export type WebhookSource = {
  /** Names the source in dedupe keys and logs; never the secret. */
  name: string;
  /** The "Secret token" set on the GitLab webhook; GitLab sends it as `X-Gitlab-Token`. */
  secret: string;
  /**
   * Base URL of the GitLab instance (`https://gitlab.example.com`, with a path if GitLab runs under
   * a relative URL root). Used as the CloudEvent `source` prefix; when absent the
   * `X-Gitlab-Instance` header, then the payload's URLs, are used.
   */
  instanceUrl?: string;
  /** The built-in simulator's own source: it receives the simulator's webhooks, never an outside GitLab's. */
  builtIn?: boolean;
};

/**
 * Why a webhook was refused (no source matched its `X-Gitlab-Token`), saying what to fix: with
 * no source but the simulator's, an outside GitLab's webhook cannot be accepted at all.
 */
export function webhookRefusal(sources: readonly WebhookSource[]): string {
  if (sources.every((source) => source.builtIn)) {
    const only = sources.length === 0 ? '' : " (only the built-in simulator's, with a secret of its own)";
    return `no GitLab webhook source is configured${only}: set AUTOFLOW_GITLAB_WEBHOOK_SECRET and use it as the webhook secret token in GitLab`;
  }
  return 'the X-Gitlab-Token header does not match any configured webhook secret; check the secret token of the webhook in GitLab';
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The source whose secret equals the `X-Gitlab-Token` header, or undefined (missing or wrong token).
 *
 * Both sides are hashed to 32 bytes before `timingSafeEqual`, so the comparison takes the same time
 * whatever the token's length, and every source is compared (no exit at the first match), so the
 * time taken does not tell which source — or whether any — matched. A source with an empty secret
 * never matches: an empty secret would let any request without a token in. When two sources share
 * a secret, the first one listed wins.
 *
 * @example
 * const source = matchWebhookSource(config.gitlab.webhooks, headers['x-gitlab-token']);
 * if (!source) throw new UnauthorizedError('…');
 */
export function matchWebhookSource(sources: readonly WebhookSource[], tokenHeader: string | undefined): WebhookSource | undefined {
  // Whether a token was sent at all is no secret, so answering at once leaks nothing.
  if (tokenHeader === undefined || tokenHeader === '') return undefined;
  const given = digest(tokenHeader);
  let match: WebhookSource | undefined;
  for (const source of sources) {
    const equal = timingSafeEqual(given, digest(source.secret));
    if (equal && source.secret !== '' && match === undefined) match = source;
  }
  return match;
}
