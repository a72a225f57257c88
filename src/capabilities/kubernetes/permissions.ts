import { PermissionDeniedError } from '../../core/errors.js';
import type { KubernetesPermissions } from '../../core/model.js';

/** `*` any run of characters, `?` one; everything else literal. Namespaces and kinds are case-sensitive, as in Kubernetes. */
function glob(pattern: string, value: string): boolean {
  const source = pattern
    .replace(/[\\^$.|+()[\]{}]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(value);
}

export type KubernetesAccess = 'read' | 'write';

/**
 * Checks `permissions.kubernetes` for one request: the namespace and the kind must both be granted,
 * and a write needs `access: 'write'` (the default). Kinds are written as Kubernetes names them
 * (`Kustomization`, `GitRepository`, `Pod`, `Event`); `Pod` also grants its logs.
 */
export function checkKubernetesPermission(
  permissions: KubernetesPermissions | undefined,
  request: { workflow: string; namespace: string; kind: string; access: KubernetesAccess },
): void {
  const { workflow, namespace, kind, access } = request;
  const what = `${access === 'write' ? 'change' : 'read'} ${kind} objects in namespace '${namespace}'`;
  if (!permissions) {
    throw new PermissionDeniedError(`workflow '${workflow}' may not ${what}: add permissions.kubernetes { namespaces, kinds }`, {
      namespace,
      kind,
    });
  }
  if (!(permissions.namespaces ?? []).some((pattern) => glob(pattern, namespace))) {
    throw new PermissionDeniedError(`workflow '${workflow}' may not ${what}: add '${namespace}' to permissions.kubernetes.namespaces`, {
      namespace,
      kind,
    });
  }
  if (!(permissions.kinds ?? []).some((pattern) => glob(pattern, kind))) {
    throw new PermissionDeniedError(`workflow '${workflow}' may not ${what}: add '${kind}' to permissions.kubernetes.kinds`, {
      namespace,
      kind,
    });
  }
  if (access === 'write' && permissions.access === 'read') {
    throw new PermissionDeniedError(`workflow '${workflow}' may not ${what}: permissions.kubernetes.access is 'read'`, { namespace, kind });
  }
}
