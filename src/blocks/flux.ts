import type { Json } from '../core/model.js';
import { callCapability, http, secrets } from '../sdk/capabilities.js';
import { now } from '../sdk/durable.js';
import { gitlab } from '../sdk/gitlab.js';
import {
  annotatedSource,
  FLUX_API_VERSIONS,
  sharedSyncProblems,
  type FluxObjectRef,
  type GateEnvironment,
  type SyncTrigger,
} from './gitops-options.js';

/**
 * Flux from a workflow: trigger a sync (Receiver, annotation or environment branch) and read a
 * Kustomization's verdict on a revision. Calls go through the `http`, `kubernetes` and `gitlab`
 * capabilities, so every one is journaled and permission-checked.
 */

export interface KubeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

export interface KustomizationObject {
  metadata: { generation?: number; resourceVersion?: string };
  spec?: { sourceRef?: { kind: string; name: string; namespace?: string } };
  status?: {
    observedGeneration?: number;
    lastAppliedRevision?: string;
    lastAttemptedRevision?: string;
    conditions?: KubeCondition[];
  };
}

/**
 * Does a Flux revision name this commit? Flux 2 writes `main@sha1:<sha>` (Git), older versions
 * `main/<sha>`; OCI revisions are `<tag>@sha256:<digest>`, which match when the tag carries the sha.
 */
export function revisionMatches(revision: string | undefined, sha: string): boolean {
  if (!revision) return false;
  return revision.endsWith(`sha1:${sha}`) || revision.endsWith(`/${sha}`) || revision === sha || revision.includes(sha);
}

/** The commit a Flux Git revision names (`main@sha1:<sha>`, `main/<sha>`), when it names one. */
export function commitOf(revision: string): string | undefined {
  return /(?:sha1:|\/|^)([0-9a-f]{40})$/.exec(revision)?.[1];
}

/** The branch or tag a Flux Git revision was fetched from (`v1.2.0@sha1:<sha>` → `v1.2.0`), when it says. */
export function refOf(revision: string): string | undefined {
  return /^(?:refs\/(?:heads|tags)\/)?([^@]+)@sha1:[0-9a-f]{40}$/.exec(revision)?.[1];
}

export type FluxVerdict =
  | { state: 'ready'; revision: string; message: string }
  | { state: 'failed'; revision: string; reason: string; message: string }
  /** Since the sync, Flux applied (`ready`) or tried and failed to apply another revision than this commit. */
  | { state: 'elsewhere'; revision: string; ready: boolean; message: string }
  | { state: 'progressing'; message: string };

/**
 * What a Kustomization says about `sha` now: applied and Ready, failed on it, or not there yet.
 * Given `before` — the Kustomization as it was when the sync was triggered — a revision Flux
 * settled on since then that is not `sha` is `elsewhere`, not "not there yet": Flux fetches the
 * head of what it watches, and a commit that landed after the trigger and before the fetch is
 * the one that runs now.
 */
export function fluxVerdict(kustomization: KustomizationObject, sha: string, before?: KustomizationObject): FluxVerdict {
  const status = kustomization.status ?? {};
  const ready = (status.conditions ?? []).find((condition) => condition.type === 'Ready');
  const current = (status.observedGeneration ?? -1) >= (kustomization.metadata.generation ?? 0);
  if (current && ready?.status === 'True' && revisionMatches(status.lastAppliedRevision, sha)) {
    return { state: 'ready', revision: status.lastAppliedRevision ?? '', message: ready.message ?? '' };
  }
  // Ready=False speaks of the last attempt: only ours counts (an old failure is not this commit's).
  if (current && ready?.status === 'False' && revisionMatches(status.lastAttemptedRevision, sha)) {
    return {
      state: 'failed',
      revision: status.lastAttemptedRevision ?? '',
      reason: ready.reason ?? 'Failed',
      message: ready.message ?? '',
    };
  }
  const attempted = status.lastAttemptedRevision;
  const settled = current && (ready?.status === 'True' || ready?.status === 'False');
  if (
    before &&
    settled &&
    attempted !== undefined &&
    !revisionMatches(attempted, sha) &&
    attempted !== before.status?.lastAttemptedRevision
  ) {
    return { state: 'elsewhere', revision: attempted, ready: ready?.status === 'True', message: ready?.message ?? '' };
  }
  return { state: 'progressing', message: ready ? `${ready.reason ?? ready.status}: ${ready.message ?? ''}` : 'no Ready condition yet' };
}

/** The Flux source a Kustomization reads, as `Kind namespace/name`. */
export function fluxSourceOf(kustomization: KustomizationObject, namespace: string): string | undefined {
  const ref = kustomization.spec?.sourceRef;
  return ref && `${ref.kind} ${ref.namespace ?? namespace}/${ref.name}`;
}

/**
 * `sharedSyncProblems` of the environments as the cluster has them: what each Kustomization is
 * built from. A Receiver's resources are not visible to the gate; it is taken to move the source
 * of its own environment.
 */
export async function sharedSourceProblems(environments: GateEnvironment[]): Promise<string[]> {
  if (environments.length < 2) return [];
  const reads: string[][] = [];
  for (const env of environments) {
    const { namespace, name } = env.observe.kustomization;
    const source = fluxSourceOf(await getKustomization(namespace, name), namespace);
    reads.push(source === undefined ? [] : [source]);
  }
  const moves = environments.map((env, i) => [...(reads[i] ?? []), ...annotatedSource(env.sync)]);
  return sharedSyncProblems(environments, moves, reads);
}

export function getKustomization(namespace: string, name: string): Promise<KustomizationObject> {
  return callCapability<KustomizationObject>('kubernetes', 'getObject', {
    apiVersion: FLUX_API_VERSIONS.Kustomization,
    kind: 'Kustomization',
    namespace,
    name,
  });
}

/** Asks Flux to reconcile `ref` now, as `flux reconcile` does. */
export function requestReconcile(ref: FluxObjectRef): Promise<unknown> {
  return callCapability('kubernetes', 'patchObject', {
    apiVersion: ref.apiVersion ?? FLUX_API_VERSIONS[ref.kind],
    kind: ref.kind,
    namespace: ref.namespace,
    name: ref.name,
    patch: { metadata: { annotations: { 'reconcile.fluxcd.io/requestedAt': now().toISOString() } } },
  });
}

export interface KubeEvent {
  type: string | null;
  reason: string | null;
  message: string | null;
  time: string | null;
  involvedObject: { kind: string | null; name: string | null };
}

export function listEvents(namespace: string, involvedObject?: { kind?: string; name?: string }, limit = 20): Promise<KubeEvent[]> {
  return callCapability<KubeEvent[]>('kubernetes', 'listEvents', { namespace, ...(involvedObject ? { involvedObject } : {}), limit });
}

export interface SyncContext {
  project: string;
  sha: string;
  ref: string;
  tag: boolean;
  /** The push webhook that started the gate (GitLab's payload), forwarded to a Receiver as is. */
  push: Json;
}

/** Triggers the sync of one environment. */
export async function triggerSync(sync: SyncTrigger, context: SyncContext): Promise<string> {
  if ('receiver' in sync) {
    const token = await secrets.get(sync.receiver.tokenSecret);
    await http.request({
      url: sync.receiver.url,
      method: 'POST',
      headers: {
        'X-Gitlab-Event': context.tag ? 'Tag Push Hook' : 'Push Hook',
        'X-Gitlab-Token': token,
        'Content-Type': 'application/json',
      },
      body: context.push,
    });
    return `posted the push to the Flux Receiver`;
  }
  if ('annotate' in sync) {
    await requestReconcile(sync.annotate);
    return `requested a reconcile of ${sync.annotate.kind} ${sync.annotate.namespace}/${sync.annotate.name}`;
  }
  const branch = sync.branch.name;
  const path = `/projects/${encodeURIComponent(context.project)}/repository/branches`;
  // GitLab cannot force-move a branch: delete it (if it exists) and create it at the commit.
  try {
    await gitlab.request('DELETE', `${path}/${encodeURIComponent(branch)}`);
  } catch (error) {
    if ((error as { details?: { status?: number } }).details?.status !== 404) throw error;
  }
  await gitlab.request('POST', path, { branch, ref: context.sha });
  return `moved branch ${branch} to ${context.sha.slice(0, 8)}`;
}
