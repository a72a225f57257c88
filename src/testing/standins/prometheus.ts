import { listenLoopback, type LoopbackServer, type StandInRequest, type StandInResponse } from './http-server.js';

/**
 * Prometheus's HTTP API (`/api/v1/query`, `/api/v1/query_range`) answering scripted series, for
 * tests. A series is a function of time (epoch ms) → value, or undefined for "no data"; a query
 * that no series answers returns an empty vector, as Prometheus does for an absent metric.
 * Instant queries without `time` are evaluated at `now()` (give it the test's virtual clock).
 */
export interface PrometheusStandInOptions {
  /** @default Date.now */
  now?: () => number;
  /** Scripted series by exact query text. */
  series?: Record<string, Series>;
  /** Series for queries not in `series` (match them by pattern); undefined: no data. */
  resolve?: (query: string) => Series | undefined;
}

export type Series = (at: number) => number | undefined;

export class PrometheusStandIn {
  private server: LoopbackServer | undefined;
  private readonly series = new Map<string, Series>();
  /** Every query received: its text and evaluation time (ms). */
  readonly queries: Array<{ query: string; at: number; range?: { start: number; end: number; step: number } }> = [];

  constructor(private readonly options: PrometheusStandInOptions = {}) {
    for (const [query, series] of Object.entries(options.series ?? {})) this.series.set(query, series);
  }

  get url(): string {
    if (!this.server) throw new Error('call listen() first');
    return this.server.url;
  }

  /** Scripts (or replaces) the answer to `query`. */
  set(query: string, series: Series): void {
    this.series.set(query, series);
  }

  async listen(): Promise<string> {
    this.server = await listenLoopback((request) => this.handle(request));
    return this.server.url;
  }

  async close(): Promise<void> {
    await this.server?.close();
  }

  private params(request: StandInRequest): URLSearchParams {
    const params = new URLSearchParams(request.url.searchParams);
    if (request.method === 'POST' && String(request.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
      for (const [key, value] of new URLSearchParams(request.body)) params.set(key, value);
    }
    return params;
  }

  private handle(request: StandInRequest): StandInResponse {
    const params = this.params(request);
    const query = params.get('query');
    const bad = (error: string): StandInResponse => ({ status: 400, body: { status: 'error', errorType: 'bad_data', error } });
    if (query === null || query === '')
      return bad('invalid parameter "query": unknown position: parse error: no expression found in input');
    const time = (name: string): number | undefined => {
      const raw = params.get(name);
      if (raw === null) return undefined;
      const seconds = Number(raw);
      return Number.isFinite(seconds) ? seconds * 1000 : Date.parse(raw);
    };
    const series = this.series.get(query) ?? this.options.resolve?.(query);
    const sample = (at: number): [number, string] | undefined => {
      const value = series?.(at);
      return value === undefined ? undefined : [at / 1000, String(value)];
    };
    if (request.url.pathname === '/api/v1/query') {
      const at = time('time') ?? (this.options.now ?? Date.now)();
      this.queries.push({ query, at });
      const value = sample(at);
      return { status: 200, body: { status: 'success', data: { resultType: 'vector', result: value ? [{ metric: {}, value }] : [] } } };
    }
    if (request.url.pathname === '/api/v1/query_range') {
      const [start, end] = [time('start'), time('end')];
      const stepRaw = params.get('step') ?? '';
      const step = /^\d+(\.\d+)?$/.test(stepRaw) ? Number(stepRaw) * 1000 : parseStep(stepRaw);
      if (start === undefined || end === undefined || !step) return bad('invalid parameter "start", "end" or "step"');
      if ((end - start) / step > 11_000)
        return bad('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
      this.queries.push({ query, at: end, range: { start, end, step } });
      const values: Array<[number, string]> = [];
      for (let at = start; at <= end; at += step) {
        const value = sample(at);
        if (value) values.push(value);
      }
      return {
        status: 200,
        body: { status: 'success', data: { resultType: 'matrix', result: values.length > 0 ? [{ metric: {}, values }] : [] } },
      };
    }
    return { status: 404, body: '404 page not found' };
  }
}

function parseStep(text: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
}

export async function createPrometheusStandIn(options: PrometheusStandInOptions = {}): Promise<PrometheusStandIn> {
  const standIn = new PrometheusStandIn(options);
  await standIn.listen();
  return standIn;
}
