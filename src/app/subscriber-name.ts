/** How logs and metrics name a subscriber: its `name` when set, else its URL without credentials, query or fragment, which may hold secrets. */
export function subscriberName(subscriber: { url: string; name?: string | undefined }): string {
  if (subscriber.name !== undefined) return subscriber.name;
  try {
    const parsed = new URL(subscriber.url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return subscriber.url;
  }
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
