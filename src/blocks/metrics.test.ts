import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { Json } from '../core/model.js';
import { createTestEnv } from '../testing/test-env.js';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { baselineGaps, checkHealth, type MetricCheck } from './metrics.js';

/** A metric whose every look answers `value`; its baseline is a calm 1.0 ± 0.1. */
function fixed(value: number | undefined, limits: Pick<MetricCheck, 'max' | 'min'> = {}): MetricCheck {
  return { metric: { name: 'm', current: () => Promise.resolve(value), baseline: () => Promise.resolve([]) }, ...limits };
}

const calm = new Map([['m', [0.9, 1, 1.1, 1, 0.9, 1.1]]]);

describe('checkHealth: values that are not plain numbers', () => {
  test('NaN (a ratio without traffic) is missing data: an anomaly, not healthy', async () => {
    const health = await checkHealth([fixed(Number.NaN, { max: 5 })], calm);
    assert.equal(health.state, 'anomaly');
    assert.deepEqual(health.state === 'anomaly' && health.findings, [{ metric: 'm', value: null, kind: 'no_data', detail: 'no data' }]);
    assert.deepEqual(health.values, { m: null });
  });

  test('no value at all is missing data too', async () => {
    const health = await checkHealth([fixed(undefined)], calm);
    assert.equal(health.state, 'anomaly');
  });

  test('+Infinity breaches a finite max, -Infinity a finite min', async () => {
    const high = await checkHealth([fixed(Number.POSITIVE_INFINITY, { max: 1.5 })], calm);
    assert.equal(high.state, 'breach');
    assert.equal(high.state === 'breach' && high.findings[0]?.detail, 'Infinity > 1.5');
    const low = await checkHealth([fixed(Number.NEGATIVE_INFINITY, { min: 0 })], calm);
    assert.equal(low.state, 'breach');
  });

  test('an infinity no threshold catches is an anomaly, even with too short a baseline for a z-score', async () => {
    const health = await checkHealth([fixed(Number.POSITIVE_INFINITY)], new Map());
    assert.equal(health.state, 'anomaly');
    assert.match((health.state === 'anomaly' && health.findings[0]?.detail) || '', /Infinity: not a finite value/);
  });
});

describe('prometheusMetric: how Prometheus writes sample values', () => {
  const folder = workflowFolder({
    'look.ts': `import { workflow } from 'autoflow';
import { checkHealth, prometheusMetric } from 'autoflow/blocks';
export default workflow({
  name: 'look',
  permissions: { http: ['http://prometheus.test/'] },
  async run() {
    const metric = prometheusMetric({ name: 'p95', url: 'http://prometheus.test', query: 'p95' });
    const current = await metric.current();
    const health = await checkHealth([{ metric, max: 1.5 }], new Map([['p95', await metric.baseline()]]));
    return { current: String(current), baseline: await metric.baseline(), state: health.state };
  },
});`,
  });
  after(() => folder.remove());

  /** The run of `look` against a Prometheus that answers `instant` and `range` (`data` of each answer). */
  async function lookRun(instant: Json, range: Json) {
    const env = await createTestEnv({
      workflows: [folder.path('look.ts')],
      mocks: {
        http: (_method, args) => {
          const data = String((args as { url: string }).url).includes('/query_range') ? range : instant;
          return { status: 200, headers: {}, body: { status: 'success', data } };
        },
      },
    });
    try {
      return await env.result(await env.start('look'));
    } finally {
      await env.close();
    }
  }

  const matrix = (...series: string[][]) => ({
    resultType: 'matrix',
    result: series.map((values, i) => ({ metric: { pod: `p${i}` }, values: values.map((value, t) => [t * 3600, value]) })),
  });
  const vector = (...values: string[]) => ({
    resultType: 'vector',
    result: values.map((value, i) => ({ metric: { pod: `p${i}` }, value: [0, value] })),
  });

  /** Runs `look` against a Prometheus whose instant query answers `sample` and whose range has `series`. */
  async function look(sample: string | undefined, series: string[] = ['0.3', '0.31', '0.29']) {
    const run = await lookRun(sample === undefined ? vector() : vector(sample), matrix(series));
    assert.equal(run.status, 'completed', JSON.stringify(run.error));
    return run.result as { current: string; baseline: number[]; state: string };
  }

  test('"+Inf" (a latency beyond the top bucket) is Infinity: a breach of max', async () => {
    assert.deepEqual(await look('+Inf'), { current: 'Infinity', baseline: [0.3, 0.31, 0.29], state: 'breach' });
  });

  test('"NaN" is no data: an anomaly', async () => {
    assert.deepEqual(await look('NaN'), { current: 'undefined', baseline: [0.3, 0.31, 0.29], state: 'anomaly' });
  });

  test('an empty result is no data; a decimal is read as it is', async () => {
    assert.equal((await look(undefined)).state, 'anomaly');
    assert.equal((await look('0.305')).current, '0.305');
  });

  test('the baseline keeps only finite samples', async () => {
    assert.deepEqual((await look('0.3', ['0.3', 'NaN', '+Inf', '-Inf', '0.32'])).baseline, [0.3, 0.32]);
  });

  test('several series (a query `by (pod)`) are refused, not judged by the first: the error says to aggregate', async () => {
    const instant = await lookRun(vector('0.01', '0.5'), matrix(['0.3', '0.31', '0.29']));
    assert.equal(instant.status, 'failed');
    assert.equal(instant.error?.name, 'PrometheusQueryError');
    assert.match(
      instant.error?.message ?? '',
      /answered 2 series \(\{pod="p0"\}, \{pod="p1"\}\) where a health check needs one: aggregate it/,
    );
    const range = await lookRun(vector('0.01'), matrix(['0.3', '0.31', '0.29'], ['0.9', '0.9', '0.9']));
    assert.equal(range.error?.name, 'PrometheusQueryError', 'the baseline too');
  });

  test('a scalar answer (`scalar(…)`, a number) is read as its value', async () => {
    const run = await lookRun({ resultType: 'scalar', result: [0, '1.7'] }, matrix(['0.3', '0.31', '0.29']));
    assert.deepEqual(run.result, { current: '1.7', baseline: [0.3, 0.31, 0.29], state: 'breach' });
  });
});

describe('baselineGaps: anomaly detection that a short baseline would silently turn off', () => {
  test('fewer than 3 samples is a gap naming the hard limits left; 3 or more is none', () => {
    const checks: MetricCheck[] = [
      { ...fixed(1, { max: 5 }), metric: { ...fixed(1).metric, name: 'short' } },
      { ...fixed(1), metric: { ...fixed(1).metric, name: 'missing' } },
      { ...fixed(1), metric: { ...fixed(1).metric, name: 'full' } },
    ];
    const gaps = baselineGaps(
      checks,
      new Map([
        ['short', [1, 2]],
        ['full', [1, 2, 3]],
      ]),
    );
    assert.deepEqual(gaps, [
      {
        metric: 'short',
        value: null,
        kind: 'no_baseline',
        detail: 'no baseline (2 samples, 3 needed): anomaly detection is off, only its hard limits (max 5) would judge it',
      },
      {
        metric: 'missing',
        value: null,
        kind: 'no_baseline',
        detail: 'no baseline (0 samples, 3 needed): anomaly detection is off, nothing would judge it',
      },
    ]);
  });
});
