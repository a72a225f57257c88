import type { KubernetesCapabilityOptions } from './index.js';
import { KubernetesApiError, type KubernetesClient } from './client.js';

/**
 * The KubernetesClient on the official client, @kubernetes/client-node: kubeconfig files (with
 * their contexts, exec plugins and client certificates), in-cluster ServiceAccounts, or a server
 * URL with a token. Version 1.x: 2.x runs on undici 8, which does not load on Node 20.
 */
export async function loadOfficialClient(options: KubernetesCapabilityOptions): Promise<KubernetesClient> {
  const k8s = await import('@kubernetes/client-node');
  const config = new k8s.KubeConfig();
  if (options.server !== undefined) {
    config.loadFromClusterAndUser(
      {
        name: 'autoflow',
        server: options.server,
        skipTLSVerify: options.insecureSkipTlsVerify ?? false,
        ...(options.caFile === undefined ? {} : { caFile: options.caFile }),
      },
      { name: 'autoflow', ...(options.token === undefined ? {} : { token: options.token }) },
    );
  } else if (options.kubeconfig !== undefined) {
    config.loadFromFile(options.kubeconfig);
    if (options.context !== undefined) config.setCurrentContext(options.context);
  } else if (options.inCluster) {
    config.loadFromCluster();
  } else {
    config.loadFromDefault();
  }
  // The client refuses http:// unless told to skip TLS checks; over plain HTTP (kubectl proxy on
  // localhost, say) there is no TLS to check, so that is what such a cluster means.
  const clusters = config.clusters.map((cluster) => (cluster.server.startsWith('http://') ? { ...cluster, skipTLSVerify: true } : cluster));
  if (clusters.some((cluster, i) => cluster !== config.clusters[i])) {
    config.loadFromOptions({ clusters, users: config.users, contexts: config.contexts, currentContext: config.currentContext });
  }
  const custom = config.makeApiClient(k8s.CustomObjectsApi);
  const core = config.makeApiClient(k8s.CoreV1Api);
  // The client throws ApiException with the server's Status in `body`: one error type for the capability.
  const wrap = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (caught) {
      if (caught instanceof k8s.ApiException) {
        const raw = caught.body as unknown;
        let status: { reason?: string; message?: string } = {};
        if (typeof raw === 'string') {
          try {
            status = JSON.parse(raw) as typeof status;
          } catch {
            status = { message: raw };
          }
        } else if (raw && typeof raw === 'object') status = raw;
        throw new KubernetesApiError(caught.code, status.reason, status.message);
      }
      throw caught;
    }
  };
  return {
    getObject: (ref) => wrap(() => custom.getNamespacedCustomObject(ref)),
    listObjects: (ref) =>
      wrap(async () => {
        const { labelSelector, ...rest } = ref;
        const list = (await custom.listNamespacedCustomObject({ ...rest, ...(labelSelector === undefined ? {} : { labelSelector }) })) as {
          items?: unknown[];
        };
        return list.items ?? [];
      }),
    mergePatchObject: (ref, patch) =>
      wrap(() =>
        custom.patchNamespacedCustomObject({ ...ref, body: patch }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)),
      ),
    listEvents: (namespace, fieldSelector) =>
      wrap(
        async () =>
          (await core.listNamespacedEvent({ namespace, ...(fieldSelector === undefined ? {} : { fieldSelector }) }))
            .items as unknown as Record<string, unknown>[],
      ),
    listPods: (namespace, labelSelector) =>
      wrap(
        async () =>
          (await core.listNamespacedPod({ namespace, ...(labelSelector === undefined ? {} : { labelSelector }) }))
            .items as unknown as Record<string, unknown>[],
      ),
    podLog: (namespace, name, { container, tailLines }) =>
      wrap(() => core.readNamespacedPodLog({ namespace, name, tailLines, ...(container === undefined ? {} : { container }) })),
  };
}
