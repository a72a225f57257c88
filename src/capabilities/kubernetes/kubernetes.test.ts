import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Json, Permissions } from '../../core/model.js';
import type { CapabilityContext } from '../../core/ports.js';
import { createKubernetesStandIn, gitRepository, kustomization, type KubernetesStandIn } from '../../testing/standins/kubernetes-api.js';
import { createKubernetesCapability } from './index.js';
import { capabilityContext } from '../../../test/helpers/capability-context.js';

const permissions: Permissions = {
  kubernetes: { namespaces: ['flux-system', 'apps'], kinds: ['Kustomization', 'GitRepository', 'Pod', 'Event'] },
};

function context(perms: Permissions = permissions): CapabilityContext {
  return capabilityContext({ workflow: 'gate', permissions: perms, now: Date.now() });
}

describe('kubernetes capability on the official client, against the API stand-in', () => {
  let clock = Date.parse('2026-01-05T09:00:00Z');
  let kube: KubernetesStandIn;
  const invoke = (method: string, args: Json, perms?: Permissions) =>
    createKubernetesCapability({ server: kube.url, token: kube.token }).invoke(method, args, context(perms));

  before(async () => {
    kube = await createKubernetesStandIn({ now: () => clock, reconcileMs: 10_000, revisionOf: () => 'main@sha1:abc123' });
    kube.add(gitRepository('flux-system', 'app', { url: 'https://gitlab.example.com/acme/app.git', branch: 'main', interval: '24h' }));
    kube.add(kustomization('flux-system', 'app', { source: { kind: 'GitRepository', name: 'app' } }));
    kube.addPod({ namespace: 'apps', name: 'web-1', labels: { app: 'web' }, logs: { web: 'line 1\nline 2\npanic: boom' } });
  });
  after(() => kube.close());

  test('a merge-patched requestedAt makes Flux fetch and apply the revision', async () => {
    const ref = { apiVersion: 'source.toolkit.fluxcd.io/v1', kind: 'GitRepository', namespace: 'flux-system', name: 'app' };
    const patched = (await invoke('patchObject', {
      ...ref,
      patch: { metadata: { annotations: { 'reconcile.fluxcd.io/requestedAt': 'now-1' } } },
    })) as {
      metadata: { annotations: Record<string, string>; resourceVersion: string };
    };
    assert.equal(patched.metadata.annotations['reconcile.fluxcd.io/requestedAt'], 'now-1');
    assert.equal(kube.patches.at(-1)?.contentType, 'application/merge-patch+json');
    clock += 20_000;
    const ks = (await invoke('getObject', {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      namespace: 'flux-system',
      name: 'app',
    })) as {
      status: { lastAppliedRevision: string; conditions: Array<{ type: string; status: string }> };
    };
    assert.equal(ks.status.lastAppliedRevision, 'main@sha1:abc123');
    assert.equal(ks.status.conditions.find((c) => c.type === 'Ready')?.status, 'True');
    const events = (await invoke('listEvents', {
      namespace: 'flux-system',
      involvedObject: { kind: 'Kustomization', name: 'app' },
    })) as Array<{
      reason: string;
    }>;
    assert.deepEqual(
      events.map((e) => e.reason),
      ['ReconciliationSucceeded'],
    );
  });

  test('pods and their logs; a missing object is a non-retryable not-found', async () => {
    assert.deepEqual(await invoke('listPods', { namespace: 'apps', labelSelector: 'app=web' }), [
      { name: 'web-1', phase: 'Running', containers: ['web'] },
    ]);
    assert.equal(await invoke('podLogs', { namespace: 'apps', name: 'web-1', tailLines: 1 }), 'panic: boom');
    await assert.rejects(
      invoke('getObject', { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', namespace: 'flux-system', name: 'nope' }),
      (error: Error & { code?: string; retryable?: boolean }) =>
        error.name === 'CapabilityError' && error.code === 'kubernetes_not_found' && error.retryable === false,
    );
  });

  test('permissions: namespace, kind and access are checked before any request', async () => {
    const before = kube.patches.length;
    const ref = {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      namespace: 'flux-system',
      name: 'app',
      patch: { metadata: {} },
    };
    await assert.rejects(
      invoke('patchObject', ref, { kubernetes: { namespaces: ['flux-system'], kinds: ['Kustomization'], access: 'read' } }),
      /access is 'read'/,
    );
    await assert.rejects(
      invoke('patchObject', ref, { kubernetes: { namespaces: ['apps'], kinds: ['*'] } }),
      /add 'flux-system' to permissions.kubernetes.namespaces/,
    );
    await assert.rejects(
      invoke('podLogs', { namespace: 'apps', name: 'web-1' }, { kubernetes: { namespaces: ['apps'], kinds: ['Event'] } }),
      /add 'Pod'/,
    );
    await assert.rejects(invoke('listPods', { namespace: 'apps' }, {}), /add permissions.kubernetes/);
    assert.equal(kube.patches.length, before, 'nothing reached the API server');
  });

  test('a name, namespace or apiVersion Kubernetes would not take is refused before any request: none leads to another path', async () => {
    const before = kube.patches.length;
    const ref = { apiVersion: 'kustomize.toolkit.fluxcd.io/v1', kind: 'Kustomization', namespace: 'flux-system', name: 'app', patch: {} };
    for (const [change, problem] of [
      [{ name: '..' }, /name: a Kubernetes name/],
      [{ name: 'app/../other' }, /name: a Kubernetes name/],
      [{ apiVersion: '../v1' }, /apiVersion: group\/version/],
      [{ apiVersion: 'kustomize.toolkit.fluxcd.io/../v1' }, /apiVersion: group\/version/],
      [{ namespace: 'Flux-System' }, /namespace: a namespace/],
    ] as const) {
      await assert.rejects(invoke('patchObject', { ...ref, ...change }), problem, JSON.stringify(change));
    }
    assert.equal(kube.patches.length, before, 'nothing reached the API server');
  });

  test('a wrong token is refused by the server and not retried', async () => {
    const capability = createKubernetesCapability({ server: kube.url, token: 'wrong' });
    await assert.rejects(
      capability.invoke('listPods', { namespace: 'apps' }, context()),
      (error: Error & { retryable?: boolean }) => /401/.test(error.message) && error.retryable === false,
    );
  });
});

describe('kubernetes configuration', () => {
  test("a kubeconfig file's current context reaches the API; a missing file says which", async () => {
    const kube = await createKubernetesStandIn({ now: () => Date.now(), reconcileMs: 10_000, revisionOf: () => 'main@sha1:abc123' });
    const dir = mkdtempSync(join(tmpdir(), 'autoflow-kubeconfig-'));
    try {
      kube.addPod({ namespace: 'apps', name: 'api-1', labels: { app: 'api' }, logs: { api: 'ready' } });
      const kubeconfig = join(dir, 'config');
      writeFileSync(
        kubeconfig,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters: [{ name: standin, cluster: { server: "' + kube.url + '" } }]',
          'users: [{ name: bot, user: { token: "' + kube.token + '" } }]',
          'contexts: [{ name: other, context: { cluster: standin, user: nobody } }, { name: ci, context: { cluster: standin, user: bot } }]',
          'current-context: ci',
        ].join('\n'),
      );
      const pods = await createKubernetesCapability({ kubeconfig }).invoke('listPods', { namespace: 'apps' }, context());
      assert.deepEqual(pods, [{ name: 'api-1', phase: 'Running', containers: ['api'] }]);
      await assert.rejects(
        createKubernetesCapability({ kubeconfig: join(dir, 'missing') }).invoke('listPods', { namespace: 'apps' }, context()),
        /missing/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await kube.close();
    }
  });
});
