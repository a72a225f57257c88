/**
 * How deep an event's data, or a run's input, may nest arrays and objects. Real payloads nest under 20; beyond a
 * thousand, SQLite's JSON functions refuse the event (it came back as a retryable "database
 * unavailable", and GitLab redelivered it until it disabled the hook), and far beyond, recursive
 * code such as JSON.stringify overflows the stack.
 */
export const MAX_EVENT_DEPTH = 128;

/** Whether `value` nests arrays and objects more than `limit` deep. Iterative: any depth is safe to ask about. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

const TOO_DEEP = `nests arrays and objects more than ${MAX_EVENT_DEPTH} levels deep; flatten it, or pass a reference to where the data is`;

/** Why an event's data is refused, or undefined when it is not too deep. */
export function eventDepthProblem(data: unknown): string | undefined {
  return jsonDepthProblem('data', data);
}

/** Why a value sent to the server (an event's data, a run's input) is refused as `field`, or undefined when it is not too deep. */
export function jsonDepthProblem(field: string, value: unknown): string | undefined {
  return nestsDeeperThan(value, MAX_EVENT_DEPTH) ? `${field}: ${TOO_DEEP}` : undefined;
}
