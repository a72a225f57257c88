import { Worker } from 'node:worker_threads';

export interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  statuses: Record<number, number>;
}

export interface LoadOptions {
  url: string;
  requests: number;
  concurrency: number;
  headers: Record<string, string>;
  /** Called with the request number: each body may differ (distinct Idempotency-Keys, say). */
  body: string;
  /** Header whose value is made unique per request. */
  uniqueHeader?: string;
}

/**
 * A small keep-alive HTTP load generator in a worker thread, so that it does not share the
 * server's event loop. Bounded: exactly `requests` requests, then it stops.
 */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    // Plain JavaScript, so that the worker needs no TypeScript loader.
    const worker = new Worker(new URL('./load-worker.mjs', import.meta.url), { workerData: options });
    worker.once('message', (result: LoadResult) => {
      void worker.terminate();
      resolve(result);
    });
    worker.once('error', reject);
  });
}

