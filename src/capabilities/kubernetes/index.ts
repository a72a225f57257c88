import { z } from 'zod';
import { CapabilityError, toError } from '../../core/errors.js';
import type { Json } from '../../core/model.js';
import type { Capability, CapabilityContext } from '../../core/ports.js';
import { parseArgs } from '../args.js';
import { KubernetesApiError, type KubernetesClient } from './client.js';
import { checkKubernetesPermission } from './permissions.js';

/**
 * The `kubernetes` capability: a small, permission-checked slice of the Kubernetes API for
 * workflows — get, list and merge-patch custom objects (Flux's Kustomizations and sources), list
 * events, list pods and read their logs — built on the official client (@kubernetes/client-node).
 */
export interface KubernetesCapabilityOptions {
  /** A kubeconfig file; its current context (or `context`) is used. */
  kubeconfig?: string | undefined;
  context?: string | undefined;
  /** Or the API server's URL with a bearer token (a ServiceAccount token). */
  server?: string | undefined;
  token?: string | undefined;
  /** PEM of the API server's CA (with `server`). */
  caFile?: string | undefined;
  /** Skips TLS verification (with `server`; never in production). @default false */
  insecureSkipTlsVerify?: boolean | undefined;
  /** Inside a cluster, with no other option given: the pod's ServiceAccount. */
  inCluster?: boolean | undefined;
  /** A client of your own (tests, other transports); the options above are then ignored. */
  client?: KubernetesClient;
}

/**
 * Kubernetes' own rules for names (RFC 1123): a namespace or container is a DNS label, an object a DNS subdomain.
 * Anything else names nothing in a cluster — and `..` or a `/` would lead the request to another path of the API.
 */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const namespace = z.string().regex(DNS_LABEL, 'a namespace: lower-case letters, digits and -, at most 63');
const objectName = z.string().regex(DNS_SUBDOMAIN, 'a Kubernetes name: lower-case letters, digits, - and ., at most 253');

const objectRef = z.object({
  /** `group/version`, as in a manifest (`kustomize.toolkit.fluxcd.io/v1`). */
  apiVersion: z
    .string()
    .regex(
      /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/v\d+((alpha|beta)\d+)?$/,
      'group/version, e.g. kustomize.toolkit.fluxcd.io/v1',
    ),
  kind: z.string().regex(/^[A-Z][A-Za-z0-9]*$/, 'a kind such as Kustomization'),
  namespace,
});

const schemas = {
  getObject: objectRef.extend({ name: objectName }),
  listObjects: objectRef.extend({ labelSelector: z.string().optional() }),
  patchObject: objectRef.extend({ name: objectName, patch: z.record(z.string(), z.unknown()) }),
  listEvents: z.object({
    namespace,
    involvedObject: z.object({ kind: z.string().optional(), name: z.string().optional() }).optional(),
    limit: z.number().int().positive().max(500).optional(),
  }),
  listPods: z.object({ namespace, labelSelector: z.string().optional() }),
  podLogs: z.object({
    namespace,
    name: objectName,
    container: z.string().regex(DNS_LABEL, 'a container name: lower-case letters, digits and -, at most 63').optional(),
    tailLines: z.number().int().positive().max(10_000).optional(),
  }),
};

export type KubernetesMethod = keyof typeof schemas;

/** Plural resource names of the kinds workflows use; others are lower-cased and given an `s`, as most CRDs are. */
const PLURALS: Record<string, string> = {
  Kustomization: 'kustomizations',
  GitRepository: 'gitrepositories',
  OCIRepository: 'ocirepositories',
  HelmRelease: 'helmreleases',
  HelmRepository: 'helmrepositories',
  Bucket: 'buckets',
  Receiver: 'receivers',
};

export function pluralOf(kind: string): string {
  return PLURALS[kind] ?? `${kind.toLowerCase()}s`;
}

/** The official client, loaded on first use (it is large, and many servers never call Kubernetes). */
async function connect(options: KubernetesCapabilityOptions): Promise<KubernetesClient> {
  if (options.client) return options.client;
  const { loadOfficialClient } = await import('./official-client.js');
  return loadOfficialClient(options);
}

/** Turns a failure into the engine's retry decision and a message that says what to do. */
function toCapabilityError(caught: unknown, what: string): CapabilityError {
  if (caught instanceof CapabilityError) return caught;
  if (caught instanceof KubernetesApiError) {
    const code = caught.status;
    const message = `${what}: ${caught.message}`;
    const details: Json = { status: code, reason: caught.reason ?? null, message: caught.detail ?? null };
    if (code === 429 || code >= 500) return new CapabilityError('kubernetes_unavailable', message, { retryable: true, details });
    if (code === 401 || code === 403) {
      return new CapabilityError(
        'kubernetes_forbidden',
        `${message} (check the credentials in the server's kubernetes configuration and their RBAC)`,
        {
          retryable: false,
          details,
        },
      );
    }
    if (code === 404) return new CapabilityError('kubernetes_not_found', message, { retryable: false, details });
    return new CapabilityError('kubernetes_error', message, { retryable: false, details });
  }
  const error = toError(caught);
  return new CapabilityError('network_error', `${what} failed: ${error.message}`, { retryable: true, cause: error });
}

/** Keeps what a workflow needs of an event (history stays small). */
function eventSummary(event: Record<string, unknown>): Json {
  const involved = (event.involvedObject ?? {}) as Record<string, unknown>;
  const time = event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? null;
  return {
    type: (event.type as string | undefined) ?? null,
    reason: (event.reason as string | undefined) ?? null,
    message: (event.message as string | undefined) ?? null,
    count: (event.count as number | undefined) ?? 1,
    time: time instanceof Date ? time.toISOString() : ((time as string | null) ?? null),
    involvedObject: { kind: (involved.kind as string | undefined) ?? null, name: (involved.name as string | undefined) ?? null },
  };
}

const json = (value: unknown): Json => JSON.parse(JSON.stringify(value ?? null)) as Json;

export function createKubernetesCapability(options: KubernetesCapabilityOptions = {}): Capability {
  let client: Promise<KubernetesClient> | undefined;
  const api = (): Promise<KubernetesClient> => {
    client ??= connect(options);
    client.catch(() => (client = undefined));
    return client;
  };
  return {
    name: 'kubernetes',
    async invoke(method: string, raw: Json, context: CapabilityContext): Promise<Json> {
      if (!(method in schemas)) {
        throw new CapabilityError('unknown_method', `kubernetes has no method '${method}'; it has ${Object.keys(schemas).join(', ')}`, {
          retryable: false,
        });
      }
      const check = (namespace: string, kind: string, access: 'read' | 'write') =>
        checkKubernetesPermission(context.permissions.kubernetes, { workflow: context.workflow, namespace, kind, access });
      const attempt = async <T>(what: string, call: (k8s: KubernetesClient) => Promise<T>): Promise<T> => {
        try {
          return await call(await api());
        } catch (caught) {
          throw toCapabilityError(caught, what);
        }
      };
      const refOf = (args: { apiVersion: string; kind: string; namespace: string }) => {
        const [group, version] = args.apiVersion.split('/') as [string, string];
        return { group, version, namespace: args.namespace, plural: pluralOf(args.kind) };
      };
      switch (method as KubernetesMethod) {
        case 'getObject': {
          const args = parseArgs(schemas.getObject, raw, 'kubernetes.getObject');
          check(args.namespace, args.kind, 'read');
          return json(
            await attempt(`GET ${args.kind} ${args.namespace}/${args.name}`, (k8s) => k8s.getObject({ ...refOf(args), name: args.name })),
          );
        }
        case 'listObjects': {
          const args = parseArgs(schemas.listObjects, raw, 'kubernetes.listObjects');
          check(args.namespace, args.kind, 'read');
          return json(
            await attempt(`LIST ${args.kind} in ${args.namespace}`, (k8s) =>
              k8s.listObjects({ ...refOf(args), labelSelector: args.labelSelector }),
            ),
          );
        }
        case 'patchObject': {
          const args = parseArgs(schemas.patchObject, raw, 'kubernetes.patchObject');
          check(args.namespace, args.kind, 'write');
          return json(
            await attempt(`PATCH ${args.kind} ${args.namespace}/${args.name}`, (k8s) =>
              k8s.mergePatchObject({ ...refOf(args), name: args.name }, args.patch),
            ),
          );
        }
        case 'listEvents': {
          const args = parseArgs(schemas.listEvents, raw, 'kubernetes.listEvents');
          check(args.namespace, 'Event', 'read');
          const selector = [
            ...(args.involvedObject?.kind ? [`involvedObject.kind=${args.involvedObject.kind}`] : []),
            ...(args.involvedObject?.name ? [`involvedObject.name=${args.involvedObject.name}`] : []),
          ].join(',');
          const items = await attempt(`LIST events in ${args.namespace}`, (k8s) =>
            k8s.listEvents(args.namespace, selector === '' ? undefined : selector),
          );
          return items.slice(-(args.limit ?? 50)).map(eventSummary);
        }
        case 'listPods': {
          const args = parseArgs(schemas.listPods, raw, 'kubernetes.listPods');
          check(args.namespace, 'Pod', 'read');
          const pods = await attempt(`LIST pods in ${args.namespace}`, (k8s) => k8s.listPods(args.namespace, args.labelSelector));
          return pods.map((pod) => {
            const { metadata, spec, status } = pod as {
              metadata?: { name?: string };
              spec?: { containers?: Array<{ name: string }> };
              status?: { phase?: string };
            };
            return { name: metadata?.name ?? '', phase: status?.phase ?? null, containers: (spec?.containers ?? []).map((c) => c.name) };
          });
        }
        case 'podLogs': {
          const args = parseArgs(schemas.podLogs, raw, 'kubernetes.podLogs');
          check(args.namespace, 'Pod', 'read');
          return await attempt(`GET logs of pod ${args.namespace}/${args.name}`, (k8s) =>
            k8s.podLog(args.namespace, args.name, { container: args.container, tailLines: args.tailLines ?? 100 }),
          );
        }
      }
    },
  };
}
