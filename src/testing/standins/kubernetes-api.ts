import { createHash, randomUUID } from 'node:crypto';
import { listenLoopback, type LoopbackServer, type StandInRequest, type StandInResponse } from './http-server.js';

/**
 * A Kubernetes API server for tests that serves Flux's custom resources and behaves as Flux's
 * controllers would: a `reconcile.fluxcd.io/requestedAt` annotation (or a source's `spec.interval`
 * passing) makes the source fetch its revision, then the Kustomizations built from it apply that
 * revision and become `Ready=True` — or `Ready=False` when `outcome` says the apply fails.
 *
 * Shapes follow the API conventions and Flux's CRDs (source.toolkit.fluxcd.io/v1,
 * kustomize.toolkit.fluxcd.io/v1): `metadata.resourceVersion` changes on every write, `generation`
 * only on spec changes, `status.conditions` with `observedGeneration`, `lastAppliedRevision` and
 * `lastAttemptedRevision`, `lastHandledReconcileAt`; errors are `Status` objects; patches must be
 * `application/merge-patch+json` (RFC 7386), anything else is 415.
 *
 * Time is `now()`: give it the test's virtual clock and a reconcile takes `reconcileMs` of virtual
 * time. Controllers act lazily, whenever the API is read — what a client sees is what a real
 * cluster would show at that moment.
 */
export interface KubernetesStandInOptions {
  /** Bearer token clients must send. @default 'test-token' */
  token?: string;
  /** @default Date.now */
  now?: () => number;
  /** How long a reconcile takes (source fetch, then apply). @default 20000 */
  reconcileMs?: number;
  /**
   * The revision a source would fetch now, in Flux's form (`main@sha1:<sha>`,
   * `v1.2.0@sha256:<digest>`), or undefined when it cannot (the fetch fails).
   */
  revisionOf?: (source: KubeObject) => string | undefined;
  /** Whether applying `revision` succeeds. @default success */
  outcome?: (kustomization: KubeObject, revision: string) => ApplyOutcome;
}

export type ApplyOutcome = { ok: true } | { ok: false; reason: string; message: string };

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface PodSeed {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  /** Log text per container; the first container is the default. */
  logs: Record<string, string>;
  phase?: string;
}

interface Kind {
  group: string;
  version: string;
  kind: string;
  plural: string;
}

const KINDS: readonly Kind[] = [
  { group: 'kustomize.toolkit.fluxcd.io', version: 'v1', kind: 'Kustomization', plural: 'kustomizations' },
  { group: 'source.toolkit.fluxcd.io', version: 'v1', kind: 'GitRepository', plural: 'gitrepositories' },
  { group: 'source.toolkit.fluxcd.io', version: 'v1', kind: 'OCIRepository', plural: 'ocirepositories' },
  { group: 'source.toolkit.fluxcd.io', version: 'v1beta2', kind: 'OCIRepository', plural: 'ocirepositories' },
];

const REQUESTED_AT = 'reconcile.fluxcd.io/requestedAt';

interface Pending {
  /** When the reconcile completes. */
  at: number;
  requestedAt: string | undefined;
}

/** RFC 7386: objects merge recursively, `null` deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** Flux's `interval` values: Go durations such as `30s`, `5m`, `1h0m0s`. */
function goDuration(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  let total = 0;
  for (const match of text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
    total += Number(match[1]) * unit;
  }
  return total > 0 ? total : undefined;
}

function status(code: number, reason: string, message: string): StandInResponse {
  return { status: code, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code } };
}

export class KubernetesStandIn {
  private server: LoopbackServer | undefined;
  private readonly objects = new Map<string, KubeObject>();
  private readonly pending = new Map<string, Pending>();
  private readonly lastFetch = new Map<string, number>();
  private readonly pods: PodSeed[] = [];
  private readonly eventList: Record<string, unknown>[] = [];
  private version = 1000;
  readonly token: string;
  /** Every PATCH received, with its content type, in order. */
  readonly patches: Array<{ path: string; contentType: string; body: unknown }> = [];
  /** Every reconcile a controller completed: kind/namespace/name and the revision it handled. */
  readonly reconciles: Array<{ kind: string; namespace: string; name: string; revision: string | undefined; ok: boolean }> = [];

  constructor(private readonly options: KubernetesStandInOptions = {}) {
    this.token = options.token ?? 'test-token';
  }

  get url(): string {
    if (!this.server) throw new Error('call listen() first');
    return this.server.url;
  }

  async listen(): Promise<string> {
    this.server = await listenLoopback((request) => this.handle(request));
    return this.server.url;
  }

  async close(): Promise<void> {
    await this.server?.close();
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private iso(at = this.now()): string {
    return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  private key(kind: string, namespace: string, name: string): string {
    return `${kind}/${namespace}/${name}`;
  }

  /** Creates an object as `kubectl apply` would, with the metadata the API server fills in. */
  add(object: KubeObject): KubeObject {
    const stored: KubeObject = structuredClone(object);
    stored.metadata.uid ??= randomUUID();
    stored.metadata.generation = 1;
    stored.metadata.creationTimestamp = this.iso();
    stored.metadata.resourceVersion = String(++this.version);
    stored.status ??= { observedGeneration: -1, conditions: [] };
    this.objects.set(this.key(stored.kind, stored.metadata.namespace, stored.metadata.name), stored);
    this.lastFetch.set(this.key(stored.kind, stored.metadata.namespace, stored.metadata.name), this.now());
    return structuredClone(stored);
  }

  /** The object as a client would read it now (controllers having acted). */
  get(kind: string, namespace: string, name: string): KubeObject | undefined {
    this.tick();
    const object = this.objects.get(this.key(kind, namespace, name));
    return object && structuredClone(object);
  }

  addPod(pod: PodSeed): void {
    this.pods.push(pod);
  }

  /** Records a core/v1 Event about an object, as a controller's event recorder does. */
  recordEvent(
    object: Pick<KubeObject, 'kind' | 'apiVersion' | 'metadata'>,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
  ): void {
    const at = this.iso();
    this.eventList.push({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: `${object.metadata.name}.${(++this.version).toString(16)}`,
        namespace: object.metadata.namespace,
        resourceVersion: String(this.version),
      },
      involvedObject: {
        apiVersion: object.apiVersion,
        kind: object.kind,
        name: object.metadata.name,
        namespace: object.metadata.namespace,
        uid: object.metadata.uid,
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: at,
      lastTimestamp: at,
      source: { component: object.kind === 'Kustomization' ? 'kustomize-controller' : 'source-controller' },
      reportingComponent: object.kind === 'Kustomization' ? 'kustomize-controller' : 'source-controller',
    });
  }

  /** Asks for a reconcile as `flux reconcile` or the notification-controller's Receiver does: sets the annotation. */
  requestReconcile(kind: string, namespace: string, name: string): void {
    const object = this.objects.get(this.key(kind, namespace, name));
    if (!object) throw new Error(`no ${kind} ${namespace}/${name}`);
    this.write(object, { metadata: { annotations: { [REQUESTED_AT]: this.iso() } } });
  }

  // controllers ------------------------------------------------------------------------------

  private touch(object: KubeObject): void {
    object.metadata.resourceVersion = String(++this.version);
  }

  private setCondition(object: KubeObject, condition: Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>): void {
    const status = (object.status ??= {});
    const conditions = ((status.conditions as Condition[] | undefined) ?? []).filter((c) => c.type !== condition.type);
    const previous = ((status.conditions as Condition[] | undefined) ?? []).find((c) => c.type === condition.type);
    const changed = previous?.status !== condition.status;
    conditions.unshift({
      ...condition,
      observedGeneration: object.metadata.generation ?? 1,
      lastTransitionTime: changed || !previous ? this.iso() : previous.lastTransitionTime,
    });
    status.conditions = conditions;
  }

  /** Applies a merge patch; a new `requestedAt` schedules a reconcile, a spec change bumps `generation`. */
  private write(object: KubeObject, patch: unknown): KubeObject {
    const before = JSON.stringify(object.spec ?? {});
    const requested = object.metadata.annotations?.[REQUESTED_AT];
    const merged = mergePatch(object, patch) as KubeObject;
    // Status is a subresource: a patch of the main resource leaves it alone.
    merged.status = object.status;
    merged.metadata = { ...merged.metadata, name: object.metadata.name, namespace: object.metadata.namespace, uid: object.metadata.uid };
    Object.assign(object, merged);
    if (JSON.stringify(object.spec ?? {}) !== before) object.metadata.generation = (object.metadata.generation ?? 1) + 1;
    this.touch(object);
    const now = object.metadata.annotations?.[REQUESTED_AT];
    if (now !== undefined && now !== requested) this.schedule(object, now);
    else if (JSON.stringify(object.spec ?? {}) !== before) this.schedule(object, undefined);
    return object;
  }

  private schedule(object: KubeObject, requestedAt: string | undefined, from = this.now()): void {
    const key = this.key(object.kind, object.metadata.namespace, object.metadata.name);
    if (this.pending.has(key)) return;
    this.pending.set(key, { at: from + (this.options.reconcileMs ?? 20_000), requestedAt });
    if (object.kind === 'Kustomization') {
      this.setCondition(object, { type: 'Reconciling', status: 'True', reason: 'Progressing', message: 'Reconciliation in progress' });
      this.setCondition(object, { type: 'Ready', status: 'Unknown', reason: 'Progressing', message: 'Reconciliation in progress' });
      this.touch(object);
    }
  }

  /** Runs every controller action that is due, oldest first. */
  private tick(): void {
    const now = this.now();
    for (const object of this.objects.values()) {
      if (object.kind === 'Kustomization') continue;
      const key = this.key(object.kind, object.metadata.namespace, object.metadata.name);
      const interval = goDuration(object.spec?.interval);
      const last = this.lastFetch.get(key) ?? now;
      if (interval !== undefined && !this.pending.has(key) && now >= last + interval) this.schedule(object, undefined, last + interval);
    }
    for (;;) {
      const due = [...this.pending].filter(([, p]) => p.at <= now).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) return;
      const [key, pending] = due;
      this.pending.delete(key);
      const object = this.objects.get(key);
      if (!object) continue;
      if (object.kind === 'Kustomization') this.applyKustomization(object, pending);
      else this.fetchSource(object, pending);
    }
  }

  private fetchSource(source: KubeObject, pending: Pending): void {
    const key = this.key(source.kind, source.metadata.namespace, source.metadata.name);
    this.lastFetch.set(key, pending.at);
    const status = (source.status ??= {});
    if (pending.requestedAt !== undefined) status.lastHandledReconcileAt = pending.requestedAt;
    status.observedGeneration = source.metadata.generation ?? 1;
    const revision = this.options.revisionOf?.(source);
    if (revision === undefined) {
      this.setCondition(source, {
        type: 'Ready',
        status: 'False',
        reason: 'GitOperationFailed',
        message: 'failed to checkout and determine revision',
      });
      this.recordEvent(source, 'Warning', 'GitOperationFailed', 'failed to checkout and determine revision');
      this.touch(source);
      this.reconciles.push({ kind: source.kind, namespace: source.metadata.namespace, name: source.metadata.name, revision, ok: false });
      return;
    }
    const previous = (status.artifact as { revision?: string } | undefined)?.revision;
    const digest = `sha256:${createHash('sha256').update(revision).digest('hex')}`;
    status.artifact = {
      path: `${source.kind.toLowerCase()}/${source.metadata.namespace}/${source.metadata.name}/${digest.slice(7, 19)}.tar.gz`,
      url: `http://source-controller.flux-system.svc.cluster.local./${source.kind.toLowerCase()}/${source.metadata.namespace}/${source.metadata.name}/${digest.slice(7, 19)}.tar.gz`,
      revision,
      digest,
      lastUpdateTime: this.iso(pending.at),
      size: 1024,
    };
    this.setCondition(source, {
      type: 'Ready',
      status: 'True',
      reason: 'Succeeded',
      message: `stored artifact for revision '${revision}'`,
    });
    this.setCondition(source, {
      type: 'ArtifactInStorage',
      status: 'True',
      reason: 'Succeeded',
      message: `stored artifact for revision '${revision}'`,
    });
    this.touch(source);
    this.reconciles.push({ kind: source.kind, namespace: source.metadata.namespace, name: source.metadata.name, revision, ok: true });
    if (previous === revision) return;
    this.recordEvent(source, 'Normal', 'NewArtifact', `stored artifact for commit '${revision}'`);
    // The kustomize-controller watches its sources' artifacts: a new revision starts a reconcile.
    for (const object of this.objects.values()) {
      const ref = object.spec?.sourceRef as { kind?: string; name?: string; namespace?: string } | undefined;
      if (object.kind !== 'Kustomization' || ref?.kind !== source.kind || ref.name !== source.metadata.name) continue;
      if ((ref.namespace ?? object.metadata.namespace) !== source.metadata.namespace) continue;
      this.schedule(object, undefined, pending.at);
    }
  }

  private applyKustomization(kustomization: KubeObject, pending: Pending): void {
    const status = (kustomization.status ??= {});
    const ref = kustomization.spec?.sourceRef as { kind: string; name: string; namespace?: string };
    const source = this.objects.get(this.key(ref.kind, ref.namespace ?? kustomization.metadata.namespace, ref.name));
    const revision = (source?.status?.artifact as { revision?: string } | undefined)?.revision;
    if (pending.requestedAt !== undefined) status.lastHandledReconcileAt = pending.requestedAt;
    status.observedGeneration = kustomization.metadata.generation ?? 1;
    const where = { kind: 'Kustomization', namespace: kustomization.metadata.namespace, name: kustomization.metadata.name };
    if (revision === undefined) {
      const message = `Source artifact not found, retrying in 30s`;
      this.setCondition(kustomization, { type: 'Ready', status: 'False', reason: 'ArtifactFailed', message });
      this.setCondition(kustomization, { type: 'Reconciling', status: 'False', reason: 'ArtifactFailed', message });
      this.recordEvent(kustomization, 'Warning', 'ArtifactFailed', message);
      this.reconciles.push({ ...where, revision, ok: false });
      this.touch(kustomization);
      return;
    }
    status.lastAttemptedRevision = revision;
    const outcome = this.options.outcome?.(structuredClone(kustomization), revision) ?? { ok: true };
    if (outcome.ok) {
      status.lastAppliedRevision = revision;
      const message = `Applied revision: ${revision}`;
      this.setCondition(kustomization, { type: 'Ready', status: 'True', reason: 'ReconciliationSucceeded', message });
      this.setCondition(kustomization, { type: 'Healthy', status: 'True', reason: 'Succeeded', message: 'Health check passed' });
      kustomization.status = { ...status, conditions: (status.conditions as Condition[]).filter((c) => c.type !== 'Reconciling') };
      this.recordEvent(
        kustomization,
        'Normal',
        'ReconciliationSucceeded',
        `Reconciliation finished, next run in ${typeof kustomization.spec?.interval === 'string' ? kustomization.spec.interval : '10m'}`,
      );
    } else {
      this.setCondition(kustomization, { type: 'Ready', status: 'False', reason: outcome.reason, message: outcome.message });
      this.setCondition(kustomization, { type: 'Reconciling', status: 'False', reason: outcome.reason, message: outcome.message });
      this.recordEvent(kustomization, 'Warning', outcome.reason, outcome.message);
    }
    this.reconciles.push({ ...where, revision, ok: outcome.ok });
    this.touch(kustomization);
  }

  // HTTP -------------------------------------------------------------------------------------

  private handle(request: StandInRequest): StandInResponse {
    if (request.headers.authorization !== `Bearer ${this.token}`) return status(401, 'Unauthorized', 'Unauthorized');
    this.tick();
    const path = request.url.pathname;
    const custom = /^\/apis\/([^/]+)\/([^/]+)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (custom) {
      const [, group, version, namespace, plural, name] = custom as unknown as [string, string, string, string, string, string | undefined];
      const kind = KINDS.find((k) => k.group === group && k.version === version && k.plural === plural);
      if (!kind) return status(404, 'NotFound', 'the server could not find the requested resource');
      if (name === undefined) {
        if (request.method !== 'GET')
          return status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
        const items = [...this.objects.values()].filter((o) => o.kind === kind.kind && o.metadata.namespace === namespace);
        return {
          status: 200,
          body: { apiVersion: `${group}/${version}`, kind: `${kind.kind}List`, metadata: { resourceVersion: String(this.version) }, items },
        };
      }
      const object = this.objects.get(this.key(kind.kind, namespace, name));
      if (!object) return status(404, 'NotFound', `${kind.plural}.${group} "${name}" not found`);
      if (request.method === 'GET') return { status: 200, body: object };
      if (request.method === 'PATCH') return this.patch(object, request, kind);
      return status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
    const core = /^\/api\/v1\/namespaces\/([^/]+)\/(events|pods)(?:\/([^/]+)(\/log)?)?$/.exec(path);
    if (core && request.method === 'GET') {
      const [, namespace, resource, name, log] = core as unknown as [string, string, string, string | undefined, string | undefined];
      if (resource === 'events' && name === undefined)
        return { status: 200, body: this.listEvents(namespace, request.url.searchParams.get('fieldSelector')) };
      if (resource === 'pods' && name === undefined)
        return { status: 200, body: this.listPods(namespace, request.url.searchParams.get('labelSelector')) };
      const pod = this.pods.find((p) => p.namespace === namespace && p.name === name);
      if (!pod) return status(404, 'NotFound', `pods "${name}" not found`);
      if (log === undefined) return { status: 200, body: this.podObject(pod) };
      const container = request.url.searchParams.get('container') ?? Object.keys(pod.logs)[0] ?? '';
      const text = pod.logs[container];
      if (text === undefined) return status(400, 'BadRequest', `container ${container} is not valid for pod ${pod.name}`);
      const tail = Number(request.url.searchParams.get('tailLines') ?? NaN);
      const lines = text.split('\n');
      return { status: 200, body: Number.isFinite(tail) ? lines.slice(-tail).join('\n') : text };
    }
    return status(404, 'NotFound', 'the server could not find the requested resource');
  }

  private patch(object: KubeObject, request: StandInRequest, kind: Kind): StandInResponse {
    const contentType =
      String(request.headers['content-type'] ?? '')
        .split(';')[0]
        ?.trim() ?? '';
    let body: unknown;
    try {
      body = JSON.parse(request.body);
    } catch {
      return status(400, 'BadRequest', 'the body of the request was in an unknown format');
    }
    this.patches.push({ path: request.url.pathname, contentType, body });
    if (contentType !== 'application/merge-patch+json' && contentType !== 'application/json-patch+json') {
      return status(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
      );
    }
    if (contentType === 'application/json-patch+json')
      return status(415, 'UnsupportedMediaType', 'this stand-in implements merge patches only');
    const expected = (body as { metadata?: { resourceVersion?: string } } | null)?.metadata?.resourceVersion;
    if (expected !== undefined && expected !== object.metadata.resourceVersion) {
      return status(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${kind.plural}.${kind.group} "${object.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    return { status: 200, body: this.write(object, body) };
  }

  private listEvents(namespace: string, fieldSelector: string | null): Record<string, unknown> {
    const wanted = new Map(
      (fieldSelector ?? '')
        .split(',')
        .filter(Boolean)
        .map((part) => part.split('=') as [string, string]),
    );
    const items = this.eventList.filter((event) => {
      const involved = event.involvedObject as Record<string, string>;
      if ((event.metadata as { namespace: string }).namespace !== namespace) return false;
      for (const [field, value] of wanted) {
        const [, sub] = field.split('.');
        if (field.startsWith('involvedObject.') && involved[sub as string] !== value) return false;
        if (field === 'type' && event.type !== value) return false;
      }
      return true;
    });
    return { apiVersion: 'v1', kind: 'EventList', metadata: { resourceVersion: String(this.version) }, items };
  }

  private listPods(namespace: string, labelSelector: string | null): Record<string, unknown> {
    const wanted = (labelSelector ?? '')
      .split(',')
      .filter(Boolean)
      .map((part) => part.split('=') as [string, string]);
    const items = this.pods
      .filter((pod) => pod.namespace === namespace && wanted.every(([label, value]) => pod.labels?.[label] === value))
      .map((pod) => this.podObject(pod));
    return { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: String(this.version) }, items };
  }

  private podObject(pod: PodSeed): Record<string, unknown> {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: pod.name, namespace: pod.namespace, labels: pod.labels ?? {}, resourceVersion: String(this.version) },
      spec: { containers: Object.keys(pod.logs).map((name) => ({ name, image: `${name}:latest` })) },
      status: { phase: pod.phase ?? 'Running' },
    };
  }
}

/** A Kubernetes API stand-in listening on loopback. */
export async function createKubernetesStandIn(options: KubernetesStandInOptions = {}): Promise<KubernetesStandIn> {
  const standIn = new KubernetesStandIn(options);
  await standIn.listen();
  return standIn;
}

/** A Flux GitRepository as `flux create source git` writes it. */
export function gitRepository(namespace: string, name: string, spec: { url: string; branch: string; interval?: string }): KubeObject {
  return {
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'GitRepository',
    metadata: { name, namespace },
    spec: { interval: spec.interval ?? '1m0s', url: spec.url, ref: { branch: spec.branch }, timeout: '60s' },
  };
}

/** A Flux OCIRepository following a tag. */
export function ociRepository(namespace: string, name: string, spec: { url: string; tag: string; interval?: string }): KubeObject {
  return {
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'OCIRepository',
    metadata: { name, namespace },
    spec: { interval: spec.interval ?? '1m0s', url: spec.url, ref: { tag: spec.tag }, timeout: '60s' },
  };
}

/** A Flux Kustomization applying `path` from a source. */
export function kustomization(
  namespace: string,
  name: string,
  spec: { source: { kind: 'GitRepository' | 'OCIRepository'; name: string }; path?: string; interval?: string; targetNamespace?: string },
): KubeObject {
  return {
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    metadata: { name, namespace },
    spec: {
      interval: spec.interval ?? '10m0s',
      path: spec.path ?? './',
      prune: true,
      sourceRef: { kind: spec.source.kind, name: spec.source.name },
      wait: true,
      timeout: '5m0s',
      ...(spec.targetNamespace === undefined ? {} : { targetNamespace: spec.targetNamespace }),
    },
  };
}
