import { groupPathOf } from '../core/human-task-rules.js';
import type { Permissions, TriggerSpec } from '../core/model.js';
import { toMilliseconds, type Duration } from '../sdk/duration.js';

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
  /** Whether the one who pushed the commit (or merged it) may approve it; GitLab does not tell who wrote it. @default false */
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

/** Approvals given for one environment: while no deploy freeze was in force, and during one. */
export interface GivenApprovals {
  outsideFreeze: Set<ApprovalRule>;
  duringFreeze: Set<ApprovalRule>;
}

/**
 * Who approves a deploy of `env` during a deploy freeze: its `when: 'freeze'` rule, else the gate's
 * `freezeApprovers` (as `freezeApproval`), else the environment's own approvers. None: the gate
 * waits for the freeze to end.
 */
export function freezeRule(env: GateEnvironment, freezeApproval: ApprovalRule | undefined): ApprovalRule | undefined {
  return env.approval?.when === 'freeze' ? env.approval : (freezeApproval ?? env.approval);
}

/** The approval `env` still needs now, if any. One given before a freeze began does not cover the freeze. */
export function approvalNeeded(
  env: GateEnvironment,
  freezeApproval: ApprovalRule | undefined,
  frozen: boolean,
  given: GivenApprovals,
): ApprovalRule | undefined {
  const always = env.approval?.when === 'freeze' ? undefined : env.approval;
  if (always && !given.outsideFreeze.has(always) && !given.duringFreeze.has(always)) return always;
  const duringFreeze = frozen ? freezeRule(env, freezeApproval) : undefined;
  return duringFreeze && !given.duringFreeze.has(duringFreeze) ? duringFreeze : undefined;
}

/**
 * One gate per commit: a push that reaches AutoFlow twice — a project hook and a group hook, two
 * deliveries under two event ids — would otherwise start two gates, each syncing and deploying
 * the commit and asking for approval. The project and the commit name the run instead of the
 * delivery (the engine's trigger `runKey`), so the second delivery finds the first one's run.
 */
export const GATE_RUN_KEY = ['project_id', 'checkout_sha'];
/** A tag gate's runs are named by the tag too: a second tag on a commit (the release after its candidate) has its own pipeline and gate. */
const TAG_GATE_RUN_KEY = [...GATE_RUN_KEY, 'ref'];

/** A push to the watched branch, or a tag push matching the pattern, of the manifests project. */
/**
 * The gate's triggers. They take pushes by AutoFlow's own account too (`includeOwnEvents`): a workflow that promotes a
 * release by committing to the GitOps repository is gated like a person's push, and the gate itself pushes nothing,
 * so it cannot trigger itself.
 */
export function gateTriggers(options: GitopsGateOptions): TriggerSpec[] {
  const project = { 'project.path_with_namespace': options.project };
  if (options.tagPattern !== undefined) {
    return [
      {
        event: 'com.gitlab.events.tag_push',
        filter: { ...project, ref: { glob: `refs/tags/${options.tagPattern}` } },
        runKey: TAG_GATE_RUN_KEY,
        includeOwnEvents: true,
      },
    ];
  }
  return [
    {
      event: 'com.gitlab.events.push',
      filter: { ...project, ref: `refs/heads/${options.branch ?? 'main'}` },
      runKey: GATE_RUN_KEY,
      includeOwnEvents: true,
    },
  ];
}

/** Mistakes in the options, found when the workflow file is loaded rather than at the first push. */
export function checkGateOptions(options: GitopsGateOptions): void {
  const problems: string[] = [];
  if (options.branch !== undefined && options.tagPattern !== undefined) problems.push('give branch or tagPattern, not both');
  if (options.environments.length === 0) problems.push('environments is empty');
  const names = options.environments.map((env) => env.name);
  if (new Set(names).size !== names.length) problems.push('environment names must be distinct');
  problems.push(
    ...durationProblems('pipelineTimeout', options.pipelineTimeout),
    ...durationProblems('retryWindow', options.retryWindow, true),
    ...durationProblems('pollInterval', options.pollInterval),
    ...urlProblems('autoflowUrl', options.autoflowUrl),
    ...(options.freezeApprovers === undefined ? [] : approverProblems('freezeApprovers', options.freezeApprovers)),
  );
  for (const env of options.environments)
    problems.push(...environmentProblems(env, options).map((problem) => `environment ${env.name}: ${problem}`));
  const targets = options.environments.map((env) => [syncTarget(env.sync)]);
  problems.push(...sharedSyncProblems(options.environments, targets, targets));
  if (problems.length > 0) throw new TypeError(`gitopsGate('${options.name}'): ${problems.join('; ')}`);
}

function environmentProblems(env: GateEnvironment, options: GitopsGateOptions): string[] {
  const problems = [
    ...durationProblems('observe.timeout', env.observe.timeout),
    ...durationProblems('observe.interval', env.observe.interval),
    ...(env.approval ? approvalProblems(env.approval) : []),
  ];
  if ('receiver' in env.sync) {
    problems.push(...urlProblems('sync.receiver.url', env.sync.receiver.url));
    if (!env.sync.receiver.tokenSecret)
      problems.push('sync.receiver.tokenSecret is empty: name the AutoFlow secret that holds the Receiver token');
  }
  if ('branch' in env.sync && env.sync.branch.name === (options.branch ?? 'main')) {
    problems.push('the sync branch must not be the watched branch');
  }
  return problems;
}

/** `toMilliseconds`'s own message, which names the value and shows the accepted forms. */
function durationProblems(what: string, value: Duration | undefined, allowZero = false): string[] {
  if (value === undefined) return [];
  let milliseconds: number;
  try {
    milliseconds = toMilliseconds(value, what);
  } catch (error) {
    return [(error as Error).message];
  }
  return milliseconds === 0 && !allowZero ? [`${what} must be longer than 0`] : [];
}

/** The sandbox has no `URL`: an absolute http(s) URL is recognised by its shape. */
const ABSOLUTE_URL = /^https?:\/\/[^\s/?#]+(?:[/?#]\S*)?$/;

function urlProblems(what: string, value: string | undefined): string[] {
  if (value === undefined || ABSOLUTE_URL.test(value)) return [];
  return [`${what} '${value}' is not an absolute http(s) URL: give the whole address, such as https://flux-webhook.example.com/hook/<id>`];
}

function approverProblems(what: string, approvers: string[]): string[] {
  if (!Array.isArray(approvers) || approvers.length === 0) return [`${what} is empty: list GitLab usernames or group paths ('acme/sre')`];
  return approvers.some((approver) => typeof approver !== 'string' || approver.trim() === '')
    ? [`${what} has an empty entry: list GitLab usernames or group paths ('acme/sre')`]
    : [];
}

function approvalProblems(rule: ApprovalRule): string[] {
  const problems = [...approverProblems('approval.approvers', rule.approvers), ...durationProblems('approval.timeout', rule.timeout)];
  if (rule.when !== undefined && rule.when !== 'always' && rule.when !== 'freeze')
    problems.push(`approval.when is '${String(rule.when)}': use 'always' or 'freeze'`);
  const { required } = rule;
  if (required === undefined) return problems;
  if (!Number.isInteger(required) || required < 1)
    return [...problems, `approval.required is ${String(required)}: use a whole number of at least 1`];
  // A group may have any number of members; listed users are all there is.
  const listed = Array.isArray(rule.approvers) ? rule.approvers : [];
  const users = new Set(listed.filter((approver) => groupPathOf(approver) === undefined));
  if (listed.length > 0 && users.size === listed.length && required > users.size) {
    problems.push(
      `approval.required is ${required} but ${users.size} approver(s) are listed, so it could never pass: list more approvers (or a group), or lower required`,
    );
  }
  return problems;
}

/** What a sync trigger moves, named as `fluxSourceOf` names a Kustomization's source (so the two compare). */
function syncTarget(sync: SyncTrigger): string {
  if ('receiver' in sync) return `Receiver ${sync.receiver.url}`;
  if ('annotate' in sync) return `${sync.annotate.kind} ${sync.annotate.namespace}/${sync.annotate.name}`;
  return `branch ${sync.branch.name}`;
}

/** The Flux sources an `annotate` sync moves (an annotated Kustomization only re-applies what its source holds). */
export function annotatedSource(sync: SyncTrigger): string[] {
  return 'annotate' in sync && sync.annotate.kind !== 'Kustomization' ? [syncTarget(sync)] : [];
}

/**
 * Environments a sync reaches before their turn. Flux applies whatever the source holds to every
 * Kustomization built from it, so when syncing an earlier environment moves what a later one is
 * built from, the later one is deployed at once: before the earlier one is Ready, before its own
 * freeze check and approval. `moves[i]`: what syncing environment i moves; `reads[i]`: what
 * environment i's Kustomization is built from.
 */
export function sharedSyncProblems(environments: GateEnvironment[], moves: string[][], reads: string[][]): string[] {
  const problems: string[] = [];
  environments.forEach((later, j) => {
    for (const [i, earlier] of environments.slice(0, j).entries()) {
      const shared = moves[i]?.find((target) => reads[j]?.includes(target));
      if (shared === undefined) continue;
      problems.push(
        `environments ${earlier.name} and ${later.name} share ${shared}: syncing ${earlier.name} deploys ${later.name} at once, ` +
          `before ${earlier.name} is Ready${later.approval ? ` and before ${later.name} is approved` : ''}. ` +
          `Give ${later.name} a Flux source of its own, such as a GitRepository on an environment branch the gate moves ` +
          `(sync: { branch: { name: 'env/${later.name}' } }); see docs/gitops.md, "One source per environment"`,
      );
      return;
    }
  });
  return problems;
}
