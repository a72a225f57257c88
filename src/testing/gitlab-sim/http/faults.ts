import type { Context, MiddlewareHandler } from 'hono';
import type { Clock } from '../../../core/ports.js';

/** Which requests a fault hits. `path` is a glob over the raw path (`*` within a segment, `**` across) or a RegExp. */
export interface FaultMatch {
  method?: string;
  path?: string | RegExp;
  /** How many requests the fault hits before it disappears. @default every matching request */
  times?: number;
}

export type FaultKind =
  | { kind: 'status'; status: 500 | 502 | 503 }
  | { kind: 'rate_limit'; retryAfterSeconds: number }
  | { kind: 'latency'; ms: number }
  /** The connection is destroyed before anything is done or answered. */
  | { kind: 'drop' }
  /** The request is carried out, then the connection is destroyed: the response is lost after the write happened. */
  | { kind: 'lose_response' };

export type FaultSpec = FaultMatch & FaultKind;

export interface Fault {
  id: number;
  spec: FaultSpec;
  /** Requests it has hit so far. */
  hits: number;
}

/**
 * What the node adapter (`incoming`) or the in-process `fetch` (`abandon`) offers to cut a
 * connection. Plain `app.request()` offers neither; a cut then answers an empty 599 instead.
 */
export interface ConnectionBindings {
  incoming?: { socket: { destroy(): void } };
  abandon?: () => void;
}

function globToRegExp(glob: string): RegExp {
  const source = glob
    .split(/(\*\*|\*)/)
    .map((part) => (part === '**' ? '.*' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

const STATUS_TEXT: Record<number, string> = { 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

/** Faults for tests: injected at the HTTP edge, before authentication, as a proxy or an overloaded GitLab would fail. */
export class Faults {
  private readonly active: Fault[] = [];
  private nextId = 1;

  add(spec: FaultSpec): Fault {
    const fault: Fault = { id: this.nextId++, spec, hits: 0 };
    this.active.push(fault);
    return fault;
  }

  remove(id: number): void {
    const at = this.active.findIndex((fault) => fault.id === id);
    if (at >= 0) this.active.splice(at, 1);
  }

  clear(): void {
    this.active.length = 0;
  }

  list(): Fault[] {
    return [...this.active];
  }

  /** The first fault matching the request, counted as hit (and retired when used up). */
  private take(method: string, path: string): Fault | undefined {
    const fault = this.active.find(({ spec }) => {
      if (spec.method !== undefined && spec.method.toUpperCase() !== method) return false;
      if (spec.path === undefined) return true;
      return (typeof spec.path === 'string' ? globToRegExp(spec.path) : spec.path).test(path);
    });
    if (!fault) return undefined;
    fault.hits += 1;
    if (fault.spec.times !== undefined && fault.hits >= fault.spec.times) this.remove(fault.id);
    return fault;
  }

  middleware(clock: Clock): MiddlewareHandler<{ Bindings: ConnectionBindings }> {
    const injectFaults: MiddlewareHandler<{ Bindings: ConnectionBindings }> = async (c, next) => {
      const fault = this.take(c.req.method, new URL(c.req.url).pathname);
      if (!fault) return next();
      const { spec } = fault;
      switch (spec.kind) {
        case 'latency':
          await new Promise<void>((resolve) => clock.schedule(clock.now() + spec.ms, resolve));
          return next();
        case 'status':
          return spec.status === 500
            ? c.json({ message: '500 Internal Server Error' }, 500)
            : c.html(
                `<!DOCTYPE html><html><head><title>${spec.status} ${STATUS_TEXT[spec.status]}</title></head><body><h1>${spec.status}</h1></body></html>\n`,
                spec.status,
              );
        case 'rate_limit': {
          const resetAt = Math.ceil(clock.now() / 1000) + spec.retryAfterSeconds;
          c.header('Retry-After', String(spec.retryAfterSeconds));
          c.header('RateLimit-Name', 'throttle_authenticated_api');
          c.header('RateLimit-Limit', '60');
          c.header('RateLimit-Observed', '61');
          c.header('RateLimit-Remaining', '0');
          c.header('RateLimit-Reset', String(resetAt));
          c.header('RateLimit-ResetTime', new Date(resetAt * 1000).toUTCString());
          return c.text('Retry later\n', 429);
        }
        case 'drop':
          return cut(c);
        case 'lose_response':
          await next();
          return cut(c);
      }
    };
    return injectFaults;
  }
}

function cut(c: Context<{ Bindings: ConnectionBindings }>): Response {
  const bindings = c.env as ConnectionBindings | undefined;
  if (bindings?.incoming) bindings.incoming.socket.destroy();
  else bindings?.abandon?.();
  return new Response(null, { status: 599 });
}
