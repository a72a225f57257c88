import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createFluxReceiverStandIn, type FluxReceiverStandIn } from './flux-receiver.js';
import { createKubernetesStandIn, gitRepository, kustomization, mergePatch, type KubernetesStandIn } from './kubernetes-api.js';
import { createPrometheusStandIn, type PrometheusStandIn } from './prometheus.js';

/** The stand-ins must behave like what they stand in for, or tests built on them prove nothing. */
describe('Kubernetes API stand-in: API conventions and Flux behaviour', () => {
  let now = Date.parse('2026-01-05T09:00:00Z');
  let revision = 'main@sha1:1111111111111111111111111111111111111111';
  let kube: KubernetesStandIn;
  const path = '/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/apps';
  const request = (method: string, url: string, init: { body?: unknown; type?: string; token?: string } = {}) =>
    fetch(`${kube.url}${url}`, {
      method,
      headers: { authorization: `Bearer ${init.token ?? kube.token}`, ...(init.type ? { 'content-type': init.type } : {}) },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });

  before(async () => {
    kube = await createKubernetesStandIn({ now: () => now, reconcileMs: 10_000, revisionOf: () => revision });
    kube.add(gitRepository('flux-system', 'manifests', { url: 'https://example.com/m.git', branch: 'main', interval: '5m' }));
    kube.add(kustomization('flux-system', 'apps', { source: { kind: 'GitRepository', name: 'manifests' } }));
  });
  after(() => kube.close());

  test('merge patch (RFC 7386): objects merge, null deletes, arrays replace', () => {
    assert.deepEqual(mergePatch({ a: { b: 1, c: 2 }, d: [1, 2] }, { a: { b: null, e: 3 }, d: [3] }), { a: { c: 2, e: 3 }, d: [3] });
  });

  test('Status objects for errors; only merge patches; a stale resourceVersion conflicts', async () => {
    const unauthorized = await request('GET', path, { token: 'nope' });
    assert.equal(unauthorized.status, 401);
    assert.deepEqual(((await unauthorized.json()) as { kind: string; reason: string }).kind, 'Status');
    const missing = (await (await request('GET', `${path}x`)).json()) as { code: number; reason: string; message: string };
    assert.deepEqual(
      [missing.code, missing.reason, missing.message],
      [404, 'NotFound', 'kustomizations.kustomize.toolkit.fluxcd.io "appsx" not found'],
    );
    assert.equal((await request('PATCH', path, { body: { metadata: {} }, type: 'application/strategic-merge-patch+json' })).status, 415);
    const current = (await (await request('GET', path)).json()) as { metadata: { resourceVersion: string; generation: number } };
    const stale = await request('PATCH', path, {
      body: { metadata: { resourceVersion: '1', labels: { a: 'b' } } },
      type: 'application/merge-patch+json',
    });
    assert.equal(stale.status, 409);
    const labelled = (await (
      await request('PATCH', path, {
        body: { metadata: { resourceVersion: current.metadata.resourceVersion, labels: { a: 'b' } } },
        type: 'application/merge-patch+json',
      })
    ).json()) as { metadata: { resourceVersion: string; generation: number; labels: Record<string, string> } };
    assert.notEqual(labelled.metadata.resourceVersion, current.metadata.resourceVersion, 'every write changes resourceVersion');
    assert.equal(labelled.metadata.generation, current.metadata.generation, 'metadata changes leave generation alone');
    const specChanged = (await (
      await request('PATCH', path, { body: { spec: { prune: false } }, type: 'application/merge-patch+json' })
    ).json()) as {
      metadata: { generation: number };
    };
    assert.equal(specChanged.metadata.generation, current.metadata.generation + 1, 'a spec change bumps generation');
  });

  test('a reconcile request: Progressing, then Ready at the fetched revision; a failing apply leaves lastAppliedRevision behind', async () => {
    kube.requestReconcile('GitRepository', 'flux-system', 'manifests');
    now += 10_000;
    const source = kube.get('GitRepository', 'flux-system', 'manifests');
    assert.equal((source?.status?.artifact as { revision: string }).revision, revision);
    const progressing = kube.get('Kustomization', 'flux-system', 'apps');
    assert.deepEqual(
      (progressing?.status?.conditions as Array<{ type: string; status: string; reason: string }>).map((c) => [c.type, c.status, c.reason]),
      [
        ['Ready', 'Unknown', 'Progressing'],
        ['Reconciling', 'True', 'Progressing'],
      ],
    );
    now += 10_000;
    const ready = kube.get('Kustomization', 'flux-system', 'apps');
    assert.equal(ready?.status?.lastAppliedRevision, revision);
    assert.equal(ready?.status?.observedGeneration, ready?.metadata.generation);
    assert.equal((ready?.status?.conditions as Array<{ type: string; status: string }>).find((c) => c.type === 'Ready')?.status, 'True');

    // The source's interval passes: Flux fetches a new revision on its own.
    revision = 'main@sha1:2222222222222222222222222222222222222222';
    now += 5 * 60_000 + 20_000;
    assert.equal(kube.get('Kustomization', 'flux-system', 'apps')?.status?.lastAppliedRevision, revision);
  });
});

describe('Flux Receiver stand-in', () => {
  let kube: KubernetesStandIn;
  let receiver: FluxReceiverStandIn;
  before(async () => {
    kube = await createKubernetesStandIn({ revisionOf: () => 'main@sha1:abc' });
    kube.add(gitRepository('flux-system', 'manifests', { url: 'https://example.com/m.git', branch: 'main', interval: '24h' }));
    receiver = await createFluxReceiverStandIn({
      kubernetes: kube,
      name: 'r',
      namespace: 'flux-system',
      token: 't0ken',
      resources: [{ kind: 'GitRepository', name: 'manifests' }],
    });
  });
  after(async () => {
    await receiver.close();
    await kube.close();
  });

  test('the webhook path is sha256(token + name + namespace); a wrong token is refused, other events ignored', async () => {
    assert.match(receiver.webhookPath, /^\/hook\/[0-9a-f]{64}$/);
    const post = (headers: Record<string, string>) =>
      fetch(receiver.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
    assert.equal((await post({ 'X-Gitlab-Token': 'wrong', 'X-Gitlab-Event': 'Push Hook' })).status, 400);
    assert.equal((await post({ 'X-Gitlab-Token': 't0ken', 'X-Gitlab-Event': 'Issue Hook' })).status, 200);
    const before = kube.get('GitRepository', 'flux-system', 'manifests')?.metadata.annotations?.['reconcile.fluxcd.io/requestedAt'];
    assert.equal(before, undefined, 'neither request asked for a reconcile');
    assert.equal((await post({ 'X-Gitlab-Token': 't0ken', 'X-Gitlab-Event': 'Push Hook' })).status, 200);
    assert.ok(kube.get('GitRepository', 'flux-system', 'manifests')?.metadata.annotations?.['reconcile.fluxcd.io/requestedAt']);
    assert.deepEqual(
      receiver.received.map((hook) => hook.accepted),
      [false, false, true],
    );
  });
});

describe('Prometheus stand-in', () => {
  let prometheus: PrometheusStandIn;
  before(async () => {
    prometheus = await createPrometheusStandIn({ now: () => 1_000_000, series: { up: (at) => at / 1000 } });
  });
  after(() => prometheus.close());

  test('instant and range queries in the HTTP API shapes; unknown series are empty; bad requests are bad_data', async () => {
    const instant = await (await fetch(`${prometheus.url}/api/v1/query?query=up&time=60`)).json();
    assert.deepEqual(instant, { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [60, '60'] }] } });
    const implicit = (await (await fetch(`${prometheus.url}/api/v1/query?query=up`)).json()) as {
      data: { result: Array<{ value: [number, string] }> };
    };
    assert.deepEqual(implicit.data.result[0]?.value, [1000, '1000'], 'without time: now');
    const range = (await (await fetch(`${prometheus.url}/api/v1/query_range?query=up&start=0&end=120&step=60s`)).json()) as {
      data: { resultType: string; result: Array<{ values: unknown[] }> };
    };
    assert.deepEqual(range.data.result[0]?.values, [
      [0, '0'],
      [60, '60'],
      [120, '120'],
    ]);
    assert.deepEqual(
      ((await (await fetch(`${prometheus.url}/api/v1/query?query=nothing`)).json()) as { data: { result: unknown[] } }).data.result,
      [],
    );
    const bad = await fetch(`${prometheus.url}/api/v1/query`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { errorType: string }).errorType, 'bad_data');
  });
});
