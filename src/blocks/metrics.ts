import { http } from '../sdk/capabilities.js';
import { now, sleep } from '../sdk/durable.js';
import { toMilliseconds, type Duration } from '../sdk/duration.js';

/**
 * Metric sources and health checks for rollouts. A `MetricSource` is the small interface users
 * implement for their own monitoring; `prometheusMetric` implements it over Prometheus's HTTP API.
 * A check is healthy, an *anomaly* (unusual against the baseline: pause and ask), or a *breach*
 * (beyond a hard threshold: roll back).
 */
export interface MetricSource {
  /** Shown in notes and incidents. */
  readonly name: string;
  /** The value now; undefined (or NaN) when there is no data, which counts as an anomaly. */
  current(): Promise<number | undefined>;
  /** Samples of normal behaviour to compare against (for example the last day, hourly). */
  baseline(): Promise<number[]>;
}

export interface MetricCheck {
  metric: MetricSource;
  /** Above this is a breach. */
  max?: number;
  /** Below this is a breach. */
  min?: number;
  /** A |z-score| against the baseline above this is an anomaly. @default 3 */
  zScoreMax?: number;
  /** Only deviations in this direction count as anomalies. @default 'up' */
  direction?: 'up' | 'down' | 'both';
}

export interface Finding {
  metric: string;
  value: number | null;
  /** `no_baseline`: too few baseline samples for a z-score, so only the hard limits can judge (see `baselineGaps`). */
  kind: 'breach' | 'anomaly' | 'no_data' | 'no_baseline';
  detail: string;
}

export type Health =
  | { state: 'healthy'; values: Record<string, number | null> }
  | { state: 'anomaly' | 'breach'; findings: Finding[]; values: Record<string, number | null> };

/** Mean and (sample) standard deviation. */
export function meanAndDeviation(samples: readonly number[]): { mean: number; sd: number } {
  const mean = samples.reduce((sum, x) => sum + x, 0) / Math.max(1, samples.length);
  const variance = samples.length < 2 ? 0 : samples.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (samples.length - 1);
  return { mean, sd: Math.sqrt(variance) };
}

/** Fewer baseline samples than this say nothing about normal behaviour: `zScore` answers 0. */
export const MIN_BASELINE_SAMPLES = 3;

/**
 * How many standard deviations `value` lies from the baseline's mean. A flat baseline (sd 0) makes
 * any change infinite and no change 0; fewer than MIN_BASELINE_SAMPLES samples say nothing (0).
 */
export function zScore(value: number, baseline: readonly number[]): number {
  if (baseline.length < MIN_BASELINE_SAMPLES) return 0;
  const { mean, sd } = meanAndDeviation(baseline);
  if (sd === 0) return value === mean ? 0 : value > mean ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  return (value - mean) / sd;
}

const round = (x: number): string => (Number.isFinite(x) ? String(Math.round(x * 1000) / 1000) : String(x));

/** One look at every check: the worst state wins (breach > anomaly > healthy). */
export async function checkHealth(checks: readonly MetricCheck[], baselines: Baselines): Promise<Health> {
  const findings: Finding[] = [];
  const values: Record<string, number | null> = {};
  for (const check of checks) {
    const value = await check.metric.current();
    // NaN is no data too: Prometheus answers NaN for a ratio without traffic (0/0).
    if (value === undefined || Number.isNaN(value)) {
      values[check.metric.name] = null;
      findings.push({ metric: check.metric.name, value: null, kind: 'no_data', detail: 'no data' });
      continue;
    }
    values[check.metric.name] = value;
    if (check.max !== undefined && value > check.max) {
      findings.push({ metric: check.metric.name, value, kind: 'breach', detail: `${round(value)} > ${check.max}` });
      continue;
    }
    if (check.min !== undefined && value < check.min) {
      findings.push({ metric: check.metric.name, value, kind: 'breach', detail: `${round(value)} < ${check.min}` });
      continue;
    }
    if (!Number.isFinite(value)) {
      // An infinity that no threshold caught (+Inf without a `max`): no z-score can judge it, so ask.
      findings.push({ metric: check.metric.name, value, kind: 'anomaly', detail: `${round(value)}: not a finite value` });
      continue;
    }
    const z = zScore(value, baselines.get(check.metric.name) ?? []);
    const limit = check.zScoreMax ?? 3;
    const direction = check.direction ?? 'up';
    const unusual = direction === 'up' ? z > limit : direction === 'down' ? z < -limit : Math.abs(z) > limit;
    if (unusual)
      findings.push({
        metric: check.metric.name,
        value,
        kind: 'anomaly',
        detail: `z-score ${round(z)} against the baseline (limit ${limit})`,
      });
  }
  if (findings.some((f) => f.kind === 'breach')) return { state: 'breach', findings, values };
  // Missing data is treated as an anomaly: a rollout must not proceed blind.
  if (findings.length > 0) return { state: 'anomaly', findings, values };
  return { state: 'healthy', values };
}

/**
 * The checks whose baseline is too short for a z-score (a new service, Prometheus without history,
 * a query that matched nothing then): no look can find an anomaly for them, only the hard limits
 * judge. A rollout must not go on so without being told: ask before it does.
 */
export function baselineGaps(checks: readonly MetricCheck[], baselines: Baselines): Finding[] {
  return checks.flatMap((check) => {
    const samples = baselines.get(check.metric.name)?.length ?? 0;
    if (samples >= MIN_BASELINE_SAMPLES) return [];
    const limits = [check.max === undefined ? '' : `max ${check.max}`, check.min === undefined ? '' : `min ${check.min}`].filter(Boolean);
    const judge = limits.length > 0 ? `only its hard limits (${limits.join(', ')}) would judge it` : 'nothing would judge it';
    const detail = `no baseline (${samples} samples, ${MIN_BASELINE_SAMPLES} needed): anomaly detection is off, ${judge}`;
    return [{ metric: check.metric.name, value: null, kind: 'no_baseline' as const, detail }];
  });
}

/** Baseline samples by metric name. */
export type Baselines = ReadonlyMap<string, number[]>;

/** Reads every baseline once (at the start of a stage), so that the rollout compares against the time before it. */
export async function readBaselines(checks: readonly MetricCheck[]): Promise<Map<string, number[]>> {
  const baselines = new Map<string, number[]>();
  for (const check of checks) baselines.set(check.metric.name, await check.metric.baseline());
  return baselines;
}

/**
 * Watches the checks every `interval` for `duration`: the first unhealthy look ends the watch,
 * else the last healthy one is returned.
 */
export async function watchHealth(
  checks: readonly MetricCheck[],
  baselines: Baselines,
  options: { duration: Duration; interval: Duration },
): Promise<Health> {
  const end = now().getTime() + toMilliseconds(options.duration);
  const interval = toMilliseconds(options.interval);
  for (;;) {
    await sleep(Math.max(1, Math.min(interval, end - now().getTime())));
    const health = await checkHealth(checks, baselines);
    if (health.state !== 'healthy' || now().getTime() >= end) return health;
  }
}

export interface PrometheusMetricOptions {
  name: string;
  /** Prometheus's base URL (`http://prometheus.monitoring.svc:9090`); grant it in `permissions.http`. */
  url: string;
  /**
   * A PromQL expression that yields one series: aggregate it (`sum(…)`, `max(…)`). One value
   * decides each look, so a query answering several series (`by (pod)`) is refused with a
   * PrometheusQueryError rather than judged by one of them.
   */
  query: string;
  /** How far back the baseline reaches, ending when it is read. @default '1d' */
  baselineRange?: Duration;
  /** @default '1h' */
  baselineStep?: Duration;
  /** Extra headers (an `Authorization` from a secret, say). */
  headers?: Record<string, string>;
}

interface PromSeries {
  metric?: Record<string, string>;
  value?: [number, string];
  values?: Array<[number, string]>;
}

interface PromResponse {
  status: 'success' | 'error';
  error?: string;
  /** A `scalar` result is one `[time, value]` pair; vectors and matrices are lists of series. */
  data?: { resultType: string; result: PromSeries[] | [number, string] };
}

/** Prometheus refused the query, or answered something a health check cannot read as one value. */
export class PrometheusQueryError extends Error {
  override readonly name = 'PrometheusQueryError';
  constructor(
    message: string,
    readonly query: string,
  ) {
    super(`Prometheus: ${message} (${query})`);
  }
}

const labelsOf = (series: PromSeries): string =>
  `{${Object.entries(series.metric ?? {})
    .map(([key, value]) => `${key}="${value}"`)
    .join(',')}}`;

/**
 * The one series of an answer, or undefined for none. Several series are refused: judging by any
 * one of them would let a bad pod (or route, or zone) pass unseen.
 */
function onlySeries(body: PromResponse, query: string): PromSeries | undefined {
  if (body.status !== 'success') throw new PrometheusQueryError(body.error ?? 'query failed', query);
  const result = (body.data?.result ?? []) as PromSeries[];
  if (result.length > 1) {
    const shown = result.slice(0, 3).map(labelsOf).join(', ');
    throw new PrometheusQueryError(
      `the query answered ${result.length} series (${shown}${result.length > 3 ? ', …' : ''}) where a health check needs one: ` +
        'aggregate it to one value (max(…) to judge by the worst series, sum(…) / sum(…) for a ratio)',
      query,
    );
  }
  return result[0];
}

/** The value of an instant query's answer: one vector sample or a scalar; undefined when there is none. */
function instantValue(body: PromResponse, query: string): number | undefined {
  if (body.status === 'success' && body.data?.resultType === 'scalar') {
    const [, value] = body.data.result as [number, string];
    return parseSampleValue(value);
  }
  const series = onlySeries(body, query);
  if (series !== undefined && series.value === undefined)
    throw new PrometheusQueryError(`expected an instant vector, got a ${body.data?.resultType ?? 'different'} result`, query);
  return series?.value === undefined ? undefined : parseSampleValue(series.value[1]);
}

/**
 * A sample's value as Prometheus writes it: a decimal, `NaN`, or `+Inf`/`-Inf` (a quantile beyond
 * the top bucket), which `Number()` would read as NaN. NaN is no data.
 */
function parseSampleValue(text: string): number | undefined {
  const value = text === '+Inf' ? Number.POSITIVE_INFINITY : text === '-Inf' ? Number.NEGATIVE_INFINITY : Number(text);
  return Number.isNaN(value) ? undefined : value;
}

function promUrl(base: string, path: string, params: Record<string, string>): string {
  return `${base.replace(/\/+$/, '')}${path}?${Object.entries(params)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join('&')}`;
}

/** A MetricSource over Prometheus's HTTP API: `/api/v1/query` at the workflow's time, `/api/v1/query_range` for the baseline. */
export function prometheusMetric(options: PrometheusMetricOptions): MetricSource {
  const seconds = (ms: number): string => String(ms / 1000);
  const headers = options.headers ?? {};
  return {
    name: options.name,
    async current() {
      const response = await http.request({
        url: promUrl(options.url, '/api/v1/query', { query: options.query, time: seconds(now().getTime()) }),
        headers,
      });
      return instantValue(response.body as unknown as PromResponse, options.query);
    },
    async baseline() {
      const end = now().getTime();
      const step = toMilliseconds(options.baselineStep ?? '1h');
      const response = await http.request({
        url: promUrl(options.url, '/api/v1/query_range', {
          query: options.query,
          start: seconds(end - toMilliseconds(options.baselineRange ?? '1d')),
          end: seconds(end),
          step: seconds(step),
        }),
        headers,
      });
      const series = onlySeries(response.body as unknown as PromResponse, options.query);
      // Only finite samples describe normal behaviour: one infinity would make the mean infinite.
      return (series?.values ?? [])
        .map(([, value]) => parseSampleValue(value))
        .filter((value): value is number => value !== undefined && Number.isFinite(value));
    },
  };
}
