/**
 * The slice of the Kubernetes API the capability uses, behind one small interface: the official
 * client (official-client.ts) implements it, and a test may pass its own.
 */
export interface KubernetesClient {
  getObject(ref: ObjectRef & { name: string }): Promise<unknown>;
  listObjects(ref: ObjectRef & { labelSelector?: string | undefined }): Promise<unknown[]>;
  /** An RFC 7386 merge patch (`application/merge-patch+json`). */
  mergePatchObject(ref: ObjectRef & { name: string }, patch: unknown): Promise<unknown>;
  listEvents(namespace: string, fieldSelector: string | undefined): Promise<Record<string, unknown>[]>;
  listPods(namespace: string, labelSelector: string | undefined): Promise<Record<string, unknown>[]>;
  podLog(namespace: string, name: string, options: { container?: string | undefined; tailLines: number }): Promise<string>;
}

export interface ObjectRef {
  group: string;
  version: string;
  namespace: string;
  plural: string;
}

/** An answer other than 2xx from the API server, with its `Status` object when it sent one. */
export class KubernetesApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string | undefined,
    readonly detail: string | undefined,
  ) {
    super(`${status} ${reason ?? ''} ${detail ?? ''}`.replace(/\s+/g, ' ').trim());
    this.name = 'KubernetesApiError';
  }
}
