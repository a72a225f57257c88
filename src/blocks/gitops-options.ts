import { groupPathOf } from '../core/human-task-rules.js';
import type { Permissions, TriggerSpec } from '../core/model.js';
import type { Duration } from '../sdk/duration.js';

/**
 * How the gate makes Flux sync a commit once it may (see docs/gitops.md, "Choosing a trigger").
 *
 * - `receiver`: POST the push event to a Flux notification-controller `Receiver` (type `gitlab`)
 *   with its token. Needs nothing but HTTP to the Receiver; Flux then fetches the branch head.
 * - `annotate`: set `reconcile.fluxcd.io/requestedAt` on a Flux source (or Kustomization) through
 *   the Kubernetes API — what `flux reconcile source git` does. Needs the `kubernetes` capability.
 * - `branch`: move an environment branch that Flux watches to the commit. Flux deploys exactly that
 *   commit, whatever lands on the watched branch afterwards — the choice for promotion between
 *   environments. Needs write access to the branch (it is deleted and re-created at the commit:
 *   GitLab has no API to force-move a branch, so it must not be protected against the bot).
 */
export type SyncTrigger = { receiver: { url: string; tokenSecret: string } } | { annotate: FluxObjectRef } | { branch: { name: string } };

export interface FluxObjectRef {
  /** @default the kind's current Flux API version (source.toolkit.fluxcd.io/v1, kustomize.toolkit.fluxcd.io/v1) */
  apiVersion?: string;
  kind: 'GitRepository' | 'OCIRepository' | 'Kustomization';
  namespace: string;
  name: string;
}

export interface ApprovalRule {
  /** GitLab usernames or group paths (`acme/sre`). */
  approvers: string[];
  /** @default 1 */
  required?: number;
  /** Whether the commit's author may approve it. @default false */
  allowSelfApproval?: boolean;
  /** @default '1d' */
  timeout?: Duration;
  /** `always`, or only during a GitLab deploy freeze period. @default 'always' */
  when?: 'always' | 'freeze';
}

export interface GateEnvironment {
  /** The GitLab environment (deployments, the commit status `autoflow/gitops: <name>`). */
  name: string;
  sync: SyncTrigger;
  observe: {
    /** The Flux Kustomization that applies this environment. */
    kustomization: { namespace: string; name: string };
    /** @default '15m' */
    timeout?: Duration;
    /** @default '15s' */
    interval?: Duration;
  };
  /** Ask people before syncing this environment. */
  approval?: ApprovalRule;
}

export interface GitopsGateOptions {
  /** The workflow's name. */
  name: string;
  description?: string;
  /** The manifests project (`acme/platform-manifests`). */
  project: string;
  /** The branch whose pushes are gated. @default 'main' (unless `tagPattern`) */
  branch?: string;
  /** Gate tag pushes matching this glob (`v*`) instead of a branch. */
  tagPattern?: string;
  /** Synced in order: a later environment only after the earlier one is Ready. */
  environments: GateEnvironment[];
  /** How long to wait for the commit's pipeline to start and succeed. @default '2h' */
  pipelineTimeout?: Duration;
  /** After a failed or cancelled pipeline, how long a retry may still make it green. @default '1h' */
  retryWindow?: Duration;
  /** Polling fallback when no pipeline webhook arrives. @default '2m' */
  pollInterval?: Duration;
  /** Who approves an environment without an approval rule while a deploy freeze is on. Without it, the gate waits for the freeze to end. */
  freezeApprovers?: string[];
  /** AutoFlow's web address, for the links in statuses and issues (`https://autoflow.example.com`). */
  autoflowUrl?: string;
  /** Labels of the issue the gate opens on failure. @default ['gitops::failed'] */
  issueLabels?: string[];
  /** More permissions (merged with what the gate derives from the options). */
  permissions?: Permissions;
}

export const FLUX_API_VERSIONS: Record<FluxObjectRef['kind'], string> = {
  GitRepository: 'source.toolkit.fluxcd.io/v1',
  OCIRepository: 'source.toolkit.fluxcd.io/v1',
  Kustomization: 'kustomize.toolkit.fluxcd.io/v1',
};

const unique = (values: Array<string | undefined>): string[] => [
  ...new Set(values.filter((value): value is string => value !== undefined)),
];

/** The definition's permissions: exactly what the options make the gate reach, plus `extra`. */
export function gatePermissions(options: GitopsGateOptions): Permissions {
  const extra = options.permissions ?? {};
  const receivers = options.environments.flatMap((env) => ('receiver' in env.sync ? [env.sync.receiver] : []));
  const annotated = options.environments.flatMap((env) => ('annotate' in env.sync ? [env.sync.annotate] : []));
  // Group approvers are expanded to their members through the gitlab capability.
  const approverGroups = [...options.environments.flatMap((env) => env.approval?.approvers ?? []), ...(options.freezeApprovers ?? [])].map(
    groupPathOf,
  );
  const groups = unique([...approverGroups, ...(extra.gitlab?.groups ?? [])]);
  return {
    ...extra,
    gitlab: {
      ...extra.gitlab,
      projects: unique([options.project, ...(extra.gitlab?.projects ?? [])]),
      ...(groups.length > 0 ? { groups } : {}),
    },
    http: unique([...receivers.map((receiver) => receiver.url), ...(extra.http ?? [])]),
    secrets: unique([...receivers.map((receiver) => receiver.tokenSecret), ...(extra.secrets ?? [])]),
    kubernetes: {
      ...extra.kubernetes,
      namespaces: unique([
        ...options.environments.map((env) => env.observe.kustomization.namespace),
        ...annotated.map((ref) => ref.namespace),
        ...(extra.kubernetes?.namespaces ?? []),
      ]),
      kinds: unique(['Kustomization', 'Event', ...annotated.map((ref) => ref.kind), ...(extra.kubernetes?.kinds ?? [])]),
    },
  };
}

/** A push to the watched branch, or a tag push matching the pattern, of the manifests project. */
export function gateTriggers(options: GitopsGateOptions): TriggerSpec[] {
  const project = { 'project.path_with_namespace': options.project };
  if (options.tagPattern !== undefined) {
    return [{ event: 'com.gitlab.events.tag_push', filter: { ...project, ref: { glob: `refs/tags/${options.tagPattern}` } } }];
  }
  return [{ event: 'com.gitlab.events.push', filter: { ...project, ref: `refs/heads/${options.branch ?? 'main'}` } }];
}

/** Mistakes in the options, found when the workflow file is loaded rather than at the first push. */
export function checkGateOptions(options: GitopsGateOptions): void {
  const problems: string[] = [];
  if (options.branch !== undefined && options.tagPattern !== undefined) problems.push('give branch or tagPattern, not both');
  if (options.environments.length === 0) problems.push('environments is empty');
  const names = options.environments.map((env) => env.name);
  if (new Set(names).size !== names.length) problems.push('environment names must be distinct');
  for (const env of options.environments) {
    if ('branch' in env.sync && env.sync.branch.name === (options.branch ?? 'main')) {
      problems.push(`environment ${env.name}: the sync branch must not be the watched branch`);
    }
  }
  if (problems.length > 0) throw new TypeError(`gitopsGate('${options.name}'): ${problems.join('; ')}`);
}
