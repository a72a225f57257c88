import type { KubernetesCapabilityOptions } from './index.js';
import { KubernetesApiError, type KubernetesClient } from './client.js';

/**
 * The KubernetesClient on the official client, @kubernetes/client-node: kubeconfig files (with
 * their contexts, exec plugins and client certificates), in-cluster ServiceAccounts, or a server
 * URL with a token. Imported on demand, because its HTTP stack (undici 8) does not load on
 * Node < 22.19; the caller falls back to the fetch client there.
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
