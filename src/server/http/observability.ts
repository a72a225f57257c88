import type { MiddlewareHandler } from 'hono';
import { Hono } from 'hono';
import type { Runtime } from '../../app/runtime.js';
import type { AppEnv } from './env.js';

/** What the probes and the scraper need of a runtime. */
export interface Observability {
  /** Prometheus text exposition, and its content type. */
  metrics(): Promise<{ contentType: string; body: string }>;
  /** Whether this node can serve: its database answers a real query. */
  ready(): Promise<{ ok: boolean; store: string; reason?: string }>;
  /** Counts a webhook delivery by the status it was answered with. */
  webhook(result: 'accepted' | 'duplicate' | 'rejected'): void;
}

/**
 * `GET /metrics` (Prometheus) and `GET /readyz` (503 while the database is unreachable, so that a
 * load balancer sends no traffic to a node that cannot store it). `/healthz` stays liveness.
 * Neither needs the API token: scrapers and probes have none; keep them on an internal network.
 */
export function observabilityRoutes(observability: Observability): Hono<AppEnv> {
  return new Hono<AppEnv>()
    .get('/metrics', async (c) => {
      const { contentType, body } = await observability.metrics();
      return c.body(body, 200, { 'content-type': contentType });
    })
    .get('/readyz', async (c) => {
      const readiness = await observability.ready();
      return c.json(readiness, readiness.ok ? 200 : 503);
    });
}

/**
 * Counts webhook deliveries as GitLab saw them: 202 stored, 200 a duplicate (stored before),
 * anything else refused. Mounted in front of the webhook routes.
 */
export function countWebhooks(observability: Pick<Observability, 'webhook'>): MiddlewareHandler<AppEnv> {
  return async function countWebhooks(c, next) {
    await next();
    const status = c.res.status;
    observability.webhook(status === 202 ? 'accepted' : status === 200 ? 'duplicate' : 'rejected');
  };
}

/** The Observability of a runtime (its metrics registry and readiness check). */
export function observabilityOf(runtime: Pick<Runtime, 'metrics' | 'ready'>): Observability {
  return {
    metrics: async () => ({ contentType: runtime.metrics.contentType, body: await runtime.metrics.render() }),
    ready: () => runtime.ready(),
    webhook: (result) => runtime.metrics.webhook(result),
  };
}
