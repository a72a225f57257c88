/**
 * The slice of the Kubernetes API the capability uses, behind one small interface with two
 * implementations: the official client (@kubernetes/client-node, loaded on demand — it reads
 * kubeconfig files, exec plugins and in-cluster credentials) and a plain `fetch` client for a
 * server URL with a bearer token. The official client 2.x runs on undici 8, which needs
 * Node ≥ 22.19; on older Node the capability falls back to the fetch client (server + token).
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

export interface FetchClientOptions {
  server: string;
  token?: string | undefined;
  fetch?: typeof fetch;
  /** @default 30000 */
  timeoutMs?: number;
}

export function createFetchClient(options: FetchClientOptions): KubernetesClient {
  const doFetch = options.fetch ?? globalThis.fetch;
  const base = options.server.replace(/\/+$/, '');
  const enc = encodeURIComponent;
  async function request(
    method: string,
    path: string,
    query: Record<string, string | undefined>,
    body?: { type: string; value: unknown },
  ): Promise<Response> {
    const url = new URL(base + path);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, value);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (body) headers['content-type'] = body.type;
    const response = await doFetch(url, {
      method,
      headers,
      ...(body ? { body: JSON.stringify(body.value) } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    if (response.status >= 200 && response.status < 300) return response;
    const text = await response.text();
    let status: { reason?: string; message?: string } = {};
    try {
      status = JSON.parse(text) as typeof status;
    } catch {
      status = { message: text.slice(0, 500) };
    }
    throw new KubernetesApiError(response.status, status.reason, status.message);
  }
  const objectPath = (ref: ObjectRef) => `/apis/${enc(ref.group)}/${enc(ref.version)}/namespaces/${enc(ref.namespace)}/${enc(ref.plural)}`;
  return {
    async getObject(ref) {
      return (await request('GET', `${objectPath(ref)}/${enc(ref.name)}`, {})).json();
    },
    async listObjects(ref) {
      const list = (await (await request('GET', objectPath(ref), { labelSelector: ref.labelSelector })).json()) as { items?: unknown[] };
      return list.items ?? [];
    },
    async mergePatchObject(ref, patch) {
      return (
        await request('PATCH', `${objectPath(ref)}/${enc(ref.name)}`, {}, { type: 'application/merge-patch+json', value: patch })
      ).json();
    },
    async listEvents(namespace, fieldSelector) {
      const list = (await (await request('GET', `/api/v1/namespaces/${enc(namespace)}/events`, { fieldSelector })).json()) as {
        items?: Record<string, unknown>[];
      };
      return list.items ?? [];
    },
    async listPods(namespace, labelSelector) {
      const list = (await (await request('GET', `/api/v1/namespaces/${enc(namespace)}/pods`, { labelSelector })).json()) as {
        items?: Record<string, unknown>[];
      };
      return list.items ?? [];
    },
    async podLog(namespace, name, { container, tailLines }) {
      return (
        await request('GET', `/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}/log`, { container, tailLines: String(tailLines) })
      ).text();
    },
  };
}
