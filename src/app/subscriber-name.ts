import { createHash } from 'node:crypto';

/** Six hex digits of the SHA-256 of `text`: tells two subscribers' paths apart without showing them. */
function shortHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 6);
}

/**
 * How logs and metrics name a subscriber: its `name` when set, else its URL's scheme, host and port with a short hash of
 * its path (`https://hooks.slack.com/…#3f2a9c`). Not the path itself: a Slack incoming webhook's or a GitLab pipeline
 * trigger's path is its secret, and `/metrics` is read without a token. Credentials, query and fragment are left out
 * too. Only what is shown: the subscriber's mark and lease are keyed by its URL as configured (subscribers.ts).
 */
export function subscriberName(subscriber: { url: string; name?: string | undefined }): string {
  if (subscriber.name !== undefined) return subscriber.name;
  if (!URL.canParse(subscriber.url)) return `(a URL that does not parse)#${shortHash(subscriber.url)}`;
  const { origin, pathname } = new URL(subscriber.url);
  return pathname === '/' ? origin : `${origin}/…#${shortHash(pathname)}`;
}

/**
 * Where a delivery is POSTed: fetch refuses a URL with credentials, so they leave the URL and become
 * the `Authorization: Basic` header they stand for (as curl sends them).
 */
export function subscriberEndpoint(url: string): { url: string; authorization?: string } {
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return { url };
  const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.href, authorization: `Basic ${Buffer.from(credentials).toString('base64')}` };
}
