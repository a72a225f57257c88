import type { Json } from '../core/model.js';
import { callCapability } from '../sdk/capabilities.js';
import { now, runInfo, sleep, type EventOf } from '../sdk/durable.js';
import { toMilliseconds } from '../sdk/duration.js';
import { gitlab } from '../sdk/gitlab.js';
import { log } from '../sdk/log.js';
import type { WorkflowDefinition } from '../sdk/types.js';
import { workflow } from '../sdk/workflow.js';
import {
  commitOf,
  fluxVerdict,
  getKustomization,
  listEvents,
  refOf,
  sharedSourceProblems,
  triggerSync,
  type FluxVerdict,
  type KustomizationObject,
} from './flux.js';
import { askApproval, type Clearance, type FreezeStatus } from './gitops-approval.js';
import {
  approvalNeeded,
  checkGateOptions,
  freezeRule,
  gatePermissions,
  gateTriggers,
  type ApprovalRule,
  type GivenApprovals,
  type GateEnvironment,
  type GitopsGateOptions,
} from './gitops-options.js';
import {
  awaitPipeline,
  branchWatch,
  readThroughOutage,
  readWhileWaiting,
  tagWatch,
  verdictOf,
  type PipelineOutcome,
  type RefWatch,
} from './gitops-pipeline.js';
import { missingKubernetes } from './gitops-preflight.js';
import { createReporter, STATUS_PREFIX, type Reporter } from './gitops-report.js';
import { Wakeups } from './wakeups.js';

/** The push (or tag push) webhook that starts a gate: GitLab's payload. */
export interface PushPayload {
  ref: string;
  before: string;
  after: string;
  checkout_sha: string | null;
  user_username?: string;
  project: { path_with_namespace: string };
}

export type GateStatus = 'deployed' | 'failed' | 'pipeline_failed' | 'timed_out' | 'superseded' | 'rejected' | 'ignored';

export interface GateResult {
  status: GateStatus;
  sha: string;
  /** What happened per environment, in order. */
  environments: Array<{ name: string; status: 'success' | 'failed' | 'canceled' | 'skipped'; detail: string }>;
  supersededBy?: string;
  pipelineId?: number;
  /**
   * The revision Flux applied instead of this commit: one that landed on the ref after the sync was
   * triggered and before Flux fetched, and whose pipeline had not passed (docs/gitops.md, §3).
   */
  appliedInstead?: string;
}

type ObserveOutcome = FluxVerdict | { state: 'timeout'; message: string };

const short = (sha: string): string => sha.slice(0, 8);

/**
 * A workflow that gates a pull-based GitOps sync on a green pipeline: on every push to the
 * manifests project's watched branch (or a matching tag) it waits for that commit's pipeline,
 * asks for approval where configured (and during GitLab deploy freezes), makes Flux sync each
 * environment in turn, watches the Kustomization until it is Ready at that commit, and reports
 * all along to GitLab — a commit status and a deployment per environment, and an issue on failure.
 * A newer commit supersedes an older gate, which then never syncs. See docs/gitops.md.
 *
 * @example
 * // workflows/gitops.ts
 * export default gitopsGate({
 *   name: 'platform-gitops',
 *   project: 'acme/platform-manifests',
 *   environments: [{
 *     name: 'production',
 *     sync: { receiver: { url: 'https://flux-webhook.acme.internal/hook/5f1c…', tokenSecret: 'FLUX_RECEIVER_TOKEN' } },
 *     observe: { kustomization: { namespace: 'flux-system', name: 'apps' } },
 *   }],
 * });
 */
export function gitopsGate(options: GitopsGateOptions): WorkflowDefinition<EventOf<PushPayload>, GateResult> {
  checkGateOptions(options);
  return workflow({
    name: options.name,
    description:
      options.description ??
      `Syncs ${options.project} (${options.tagPattern ?? options.branch ?? 'main'}) with Flux once its pipeline is green`,
    triggers: gateTriggers(options),
    permissions: gatePermissions(options),
    run: (event: EventOf<PushPayload>) => runGate(options, event),
  });
}

class Gate {
  readonly environments: GateResult['environments'] = [];
  /** The commit that superseded this one, once one did. */
  supersededBy: string | undefined;
  appliedInstead: string | undefined;
  /** The run's parked waits, shared by every phase. */
  readonly wakeups = new Wakeups();
  /** `freezeApprovers` as a rule (one object, so that an approval given under it is recognised). */
  private readonly freezeApproval: ApprovalRule | undefined;
  constructor(
    readonly options: GitopsGateOptions,
    readonly sha: string,
    readonly ref: string,
    readonly report: Reporter,
    readonly watch: RefWatch,
    readonly push: EventOf<PushPayload>,
  ) {
    this.freezeApproval = options.freezeApprovers ? { approvers: options.freezeApprovers } : undefined;
  }

  /** Marks every environment not reached yet. */
  async closeRemaining(state: 'failed' | 'canceled', description: string): Promise<void> {
    for (const env of this.options.environments) {
      if (this.environments.some((done) => done.name === env.name)) continue;
      await this.report.status(env.name, state, description);
      this.environments.push({ name: env.name, status: state === 'failed' ? 'failed' : 'canceled', detail: description });
    }
  }

  result(status: GateStatus, extra: Partial<GateResult> = {}): GateResult {
    return {
      status,
      sha: this.sha,
      environments: this.environments,
      ...(this.supersededBy ? { supersededBy: this.supersededBy } : {}),
      ...(this.appliedInstead ? { appliedInstead: this.appliedInstead } : {}),
      ...extra,
    };
  }

  /** Waits until `at`, unless a newer commit comes first (then its sha). */
  async sleepUntil(at: number): Promise<string | undefined> {
    while (now().getTime() < at) {
      const woke = await this.wakeups.next({ [`until:${at}`]: () => sleep.until(at), ...this.watch.sources() });
      if (woke.key === `until:${at}`) return undefined;
      const newer = await readWhileWaiting(`reading the head of ${this.ref}`, (call) => this.watch.newer(woke, call));
      if (newer !== undefined) return newer;
    }
    return undefined;
  }

  /** The deploy freeze in force now, if any; read through a GitLab outage (the gate cannot decide without it). */
  async freezeStatus(): Promise<FreezeStatus> {
    const periods = await readThroughOutage('reading the deploy freezes', (call) =>
      gitlab.freezePeriods.list(this.options.project, undefined, { all: true, ...call }),
    );
    if (periods.length === 0) return { frozen: false, endsAt: null };
    return callCapability<FreezeStatus>('calendar', 'freezeStatus', { periods: periods as unknown as Json, at: now().toISOString() });
  }

  /**
   * Approvals and deploy freezes before syncing `env`: go, or why not. The freeze is read again
   * after every wait — an approval may take a day, and a freeze may begin meanwhile — so the go
   * rests on a reading taken right before the sync.
   */
  async clearance(env: GateEnvironment): Promise<Clearance> {
    const given: GivenApprovals = { outsideFreeze: new Set(), duringFreeze: new Set() };
    for (;;) {
      const freeze = await this.freezeStatus();
      const rule = approvalNeeded(env, this.freezeApproval, freeze.frozen, given);
      if (rule) {
        const decided = await this.approval(env, rule, freeze);
        if (!decided.go) return decided;
        // Counted as the approvers were asked: told of a freeze, or not (a freeze may begin while they decide).
        (freeze.frozen ? given.duringFreeze : given.outsideFreeze).add(rule);
        continue;
      }
      if (!freeze.frozen || freezeRule(env, this.freezeApproval)) return { go: true };
      if (!freeze.endsAt)
        return { go: false, status: 'rejected', detail: 'a deploy freeze with no end is in force and no one may approve during it' };
      await this.report.status(env.name, 'pending', `deploy freeze until ${freeze.endsAt}: waiting`);
      log.info(`${env.name}: deploy freeze until ${freeze.endsAt}, waiting for it to end`);
      const newer = await this.sleepUntil(Date.parse(freeze.endsAt));
      if (newer !== undefined) {
        this.supersededBy = newer;
        return { go: false, status: 'superseded', detail: `superseded by ${short(newer)}` };
      }
    }
  }

  private async approval(env: GateEnvironment, rule: ApprovalRule, freeze: FreezeStatus): Promise<Clearance> {
    const { project } = this.options;
    const { sha, ref, report, watch, wakeups } = this;
    const decided = await askApproval(
      { project, sha, ref, pusher: this.push.data?.user_username, report, watch, wakeups },
      env,
      rule,
      freeze,
    );
    if (!decided.go && decided.supersededBy !== undefined) this.supersededBy = decided.supersededBy;
    return decided;
  }

  /** Polls the Kustomization until it settles — Ready at this commit, failed on it, or on another revision — or `timeout` passes. */
  async observe(env: GateEnvironment, before: KustomizationObject): Promise<ObserveOutcome> {
    const { namespace, name } = env.observe.kustomization;
    const deadline = now().getTime() + toMilliseconds(env.observe.timeout ?? '15m');
    const interval = toMilliseconds(env.observe.interval ?? '15s');
    for (;;) {
      const verdict = fluxVerdict(await getKustomization(namespace, name), this.sha, before);
      if (verdict.state !== 'progressing') return verdict;
      const left = deadline - now().getTime();
      if (left <= 0) {
        return {
          state: 'timeout',
          message: `not Ready at ${short(this.sha)} within ${String(env.observe.timeout ?? '15m')} (${verdict.message})`,
        };
      }
      // A newer commit does not end the watch: this gate's sync may have brought it (see `appliedElsewhere`).
      await sleep(Math.min(interval, left));
    }
  }

  async deploy(env: GateEnvironment): Promise<GateStatus | undefined> {
    const clearance = await this.clearance(env);
    if (!clearance.go) return this.stopBefore(env, clearance);
    // The last look before the sync: Flux deploys the head of what it watches, so once a newer
    // commit holds the ref, syncing would deploy that commit — before its own gate allowed it.
    const newer = await readThroughOutage(`reading the head of ${this.ref}`, (call) => this.watch.newer(undefined, call));
    if (newer !== undefined) {
      log.info(`${this.ref} moved on to ${short(newer)}: ${short(this.sha)} is superseded, ${env.name} not synced`);
      this.supersededBy = newer;
      await this.closeRemaining('canceled', `superseded by ${short(newer)}`);
      return 'superseded';
    }
    await this.report.status(env.name, 'running', `syncing ${env.name}`);
    await this.report.deployment(env.name, 'running');
    const { namespace, name } = env.observe.kustomization;
    const before = await getKustomization(namespace, name);
    const how = await triggerSync(env.sync, {
      project: this.options.project,
      sha: this.sha,
      ref: this.ref,
      tag: this.options.tagPattern !== undefined,
      push: (this.push.data ?? null) as Json,
    });
    log.info(`${env.name}: ${how}`);
    const verdict = await this.observe(env, before);
    switch (verdict.state) {
      case 'ready':
        log.info(`${env.name}: Ready at ${verdict.revision}`);
        await this.ended(env, 'success', `Ready at ${verdict.revision}`, verdict.message);
        return undefined;
      case 'elsewhere':
        return this.appliedElsewhere(env, verdict);
      case 'failed':
        return this.fluxFailed(env, `${verdict.reason}: ${verdict.message}`);
      case 'timeout':
        return this.fluxFailed(env, verdict.message);
    }
  }

  private async stopBefore(env: GateEnvironment, clearance: Extract<Clearance, { go: false }>): Promise<GateStatus> {
    const state = clearance.status === 'superseded' ? 'canceled' : 'failed';
    log.info(`${env.name}: not deployed, ${clearance.detail}`);
    await this.report.status(env.name, state, clearance.detail);
    if (clearance.status === 'failed') {
      // Not a decision but a gate that cannot go on as configured: reported as any failure is.
      await this.report.deployment(env.name, 'failed');
      await this.report.failure(`${env.name} cannot be deployed: ${short(this.sha)} not synced`, clearance.detail);
    }
    this.environments.push({ name: env.name, status: state, detail: clearance.detail });
    await this.closeRemaining('canceled', `not deployed: ${env.name} ${clearance.detail}`);
    return clearance.status;
  }

  /** Commit status, deployment and result entry of an environment the sync reached. */
  private async ended(
    env: GateEnvironment,
    state: 'success' | 'failed' | 'canceled',
    description: string,
    detail = description,
  ): Promise<void> {
    await this.report.status(env.name, state, description);
    await this.report.deployment(env.name, state);
    this.environments.push({ name: env.name, status: state, detail });
  }

  /**
   * Flux settled on another revision than this commit since the sync: a commit landed on the ref
   * after the trigger and before Flux fetched. If its pipeline passed and nothing more is asked of
   * it here (or its own gate gave it), its own gate deploys and reports it, and this one is
   * superseded. Otherwise a commit runs that was not tested, or not approved: say so loudly.
   */
  private async appliedElsewhere(env: GateEnvironment, verdict: Extract<FluxVerdict, { state: 'elsewhere' }>): Promise<GateStatus> {
    const applied = commitOf(verdict.revision);
    const ref = refOf(verdict.revision) ?? this.ref;
    // That commit's own gate may have put its statuses in the pipeline already: its jobs decide.
    const pipeline = applied === undefined ? undefined : await verdictOf(this.options.project, applied, { ref, gateStatusesIn: 'any' });
    const uncleared = applied !== undefined && pipeline?.verdict === 'success' ? await this.unclearedFor(env, applied) : undefined;
    if (applied !== undefined && pipeline?.verdict === 'success' && uncleared === undefined) {
      log.info(`${env.name}: Flux applied ${verdict.revision}, whose pipeline passed: ${short(this.sha)} is superseded`);
      this.supersededBy = applied;
      await this.ended(env, 'canceled', `superseded by ${short(applied)}`);
      await this.closeRemaining('canceled', `superseded by ${short(applied)}`);
      return 'superseded';
    }
    const why =
      uncleared ??
      (pipeline === undefined
        ? 'a revision whose commit the gate cannot tell'
        : pipeline.verdict === 'none'
          ? `a commit with no pipeline on ${ref}`
          : `a commit whose pipeline on ${ref} has not passed (${pipeline.verdict})`);
    const did = verdict.ready ? 'applied' : 'tried to apply';
    const detail = `Flux ${did} ${verdict.revision} instead of ${short(this.sha)}: ${why}`;
    log.error(`${env.name}: ${detail}`);
    this.appliedInstead = verdict.revision;
    await this.ended(env, 'failed', detail);
    await this.report.failure(
      `Flux ${did} an ${uncleared === undefined ? 'untested' : 'unapproved'} commit to ${env.name}`,
      [
        `The gate asked Flux to sync ${this.sha}, which passed its pipeline. Before Flux fetched, \`${this.ref}\` moved on, and Flux fetched its head: \`${verdict.revision}\`, ${why}. ${env.name} now runs it${verdict.ready ? '' : ` partly (${verdict.message})`}.`,
        `Revert it on \`${this.ref}\` or ${uncleared === undefined ? 'make its pipeline pass' : 'have it approved on its own gate'}. To close this window, let the gate write the exact revision Flux deploys: \`sync: { branch: { name: 'env/${env.name}' } }\` (docs/gitops.md, §2).`,
      ].join('\n\n'),
    );
    await this.closeRemaining('canceled', `not deployed: ${env.name} runs ${verdict.revision}`);
    return 'failed';
  }

  /**
   * Why `sha`, a commit whose pipeline passed, may not be in `env` yet: `env` asks for an approval (always, or during
   * the deploy freeze on now) that its own gate has not given, as its commit status for `env` shows. Undefined when
   * it may: `env` asks nothing more now, or its gate cleared it (syncing or deployed).
   */
  private async unclearedFor(env: GateEnvironment, sha: string): Promise<string | undefined> {
    const freeze = await this.freezeStatus();
    // What clearance would ask of a commit no one approved yet: the same rule this gate's own clearance follows.
    const rule = approvalNeeded(env, this.freezeApproval, freeze.frozen, { outsideFreeze: new Set(), duringFreeze: new Set() });
    const asks =
      rule !== undefined
        ? rule === env.approval && env.approval.when !== 'freeze'
          ? 'an approval'
          : 'an approval during the deploy freeze'
        : freeze.frozen
          ? 'the deploy freeze to end'
          : undefined;
    if (asks === undefined) return undefined;
    const statuses = await gitlab.commitStatuses.list(this.options.project, sha, { name: `${STATUS_PREFIX}${env.name}` }, { all: true });
    const latest = statuses.reduce<(typeof statuses)[number] | undefined>(
      (last, status) => (last && last.id > status.id ? last : status),
      undefined,
    );
    if (latest?.status === 'running' || latest?.status === 'success') return undefined;
    const shown =
      latest === undefined
        ? 'it has no status there'
        : `its status there: ${latest.status}${latest.description ? `, ${latest.description}` : ''}`;
    return `a commit whose pipeline passed, but which ${env.name} needs ${asks} for, and its own gate has not cleared it (${shown})`;
  }

  private async fluxFailed(env: GateEnvironment, message: string): Promise<GateStatus> {
    log.info(`${env.name}: Flux did not apply ${short(this.sha)}: ${message}`);
    await this.ended(env, 'failed', message);
    const { namespace, name } = env.observe.kustomization;
    const events = await listEvents(namespace, { kind: 'Kustomization', name }, 10);
    const eventLines = events.map(
      (event) => `- \`${event.time ?? ''}\` ${event.type ?? ''} **${event.reason ?? ''}**: ${event.message ?? ''}`,
    );
    await this.report.failure(
      `Flux did not apply ${short(this.sha)} to ${env.name}`,
      [
        `Kustomization \`${namespace}/${name}\`: ${message}`,
        ...(eventLines.length > 0 ? [`Recent events:\n\n${eventLines.join('\n')}`] : []),
      ].join('\n\n'),
    );
    await this.closeRemaining('canceled', `not deployed: ${env.name} failed`);
    return 'failed';
  }

  /** The commit's pipeline, until green or not; every outcome but green ends the gate (its result). */
  async pipeline(): Promise<Extract<PipelineOutcome, { kind: 'success' }> | GateResult> {
    const { options, report, sha } = this;
    const envNames = options.environments.map((env) => env.name);
    const retryWindow = options.retryWindow ?? '1h';
    const outcome = await awaitPipeline({
      project: options.project,
      sha,
      ref: this.ref,
      watch: this.watch,
      wakeups: this.wakeups,
      timeoutMs: toMilliseconds(options.pipelineTimeout ?? '2h'),
      retryWindowMs: toMilliseconds(retryWindow),
      pollMs: toMilliseconds(options.pollInterval ?? '2m'),
      async onRed(red, verdict) {
        await report.follow(red.id);
        for (const env of envNames) await report.status(env, 'failed', `pipeline ${verdict}: not deployed`);
        await report.failure(
          `Pipeline ${verdict} for ${short(sha)}: nothing deployed`,
          `Pipeline [#${red.id}](${red.web_url}) ${verdict}, so no environment was synced. A retry that passes within ${String(retryWindow)} still deploys this commit.`,
        );
      },
      async onRetried(retried, { inPlace }) {
        // Retried in place, the pipeline runs again with the gate's statuses in it: they say it waits.
        // A new pipeline instead leaves the red one red, with its `failed` statuses (a `pending` put
        // there would hold it at running for good); later statuses go in the new one, once it is green.
        if (inPlace) for (const env of envNames) await report.status(env, 'pending', `pipeline #${retried.id} retried: waiting`);
        else await report.follow(retried.id);
      },
    });
    switch (outcome.kind) {
      case 'success':
        return outcome;
      case 'superseded':
        this.supersededBy = outcome.by;
        await this.closeRemaining('canceled', `superseded by ${short(outcome.by)}`);
        return this.result('superseded');
      case 'failed':
        await this.closeRemaining('failed', `pipeline ${outcome.verdict}: not deployed`);
        return this.result('pipeline_failed', { pipelineId: outcome.pipeline.id });
      case 'timeout': {
        if (outcome.pipeline) await report.follow(outcome.pipeline.id);
        const within = String(options.pipelineTimeout ?? '2h');
        const detail = outcome.pipeline
          ? `pipeline #${outcome.pipeline.id} did not pass within ${within}`
          : `no pipeline started within ${within}`;
        const unavailable = outcome.gitlabUnavailable ? " (GitLab was unavailable at the last try: see the run's log)" : '';
        await this.closeRemaining('failed', `${detail}: not deployed`);
        await report.failure(`No green pipeline for ${short(sha)}: nothing deployed`, `${detail}${unavailable}.`);
        return this.result('timed_out');
      }
    }
  }

  /** The whole gate: the pipeline, then each environment in order. */
  async run(): Promise<GateResult> {
    const passed = await this.pipeline();
    if (!('kind' in passed)) return passed;
    const pipelineId = passed.pipeline.id;
    const envNames = this.options.environments.map((env) => env.name);
    await this.report.follow(pipelineId);
    const missing = await missingKubernetes(this.options.environments);
    if (missing !== undefined) {
      log.error(`not deploying: ${missing}`);
      await this.closeRemaining('failed', "not deployed: this server has no 'kubernetes' capability (see the issue)");
      await this.report.failure(`The gate ${this.options.name} cannot observe Flux: nothing deployed`, missing);
      return this.result('failed', { pipelineId });
    }
    for (const env of envNames) await this.report.status(env, 'pending', `pipeline #${pipelineId} passed: waiting to sync`);
    const shared = await sharedSourceProblems(this.options.environments);
    if (shared.length > 0) {
      log.error(`not deploying: ${shared.join('; ')}`);
      await this.closeRemaining('failed', 'not deployed: environments share a Flux source (see the issue)');
      await this.report.failure(`Environments of ${this.options.name} share a Flux source: nothing deployed`, shared.join('\n\n'));
      return this.result('failed', { pipelineId });
    }
    for (const env of this.options.environments) {
      const stopped = await this.deploy(env);
      if (stopped !== undefined) return this.result(stopped, { pipelineId });
    }
    await this.report.recovered(`Commit ${this.sha} is deployed to ${envNames.join(', ')}; closing.`);
    return this.result('deployed', { pipelineId });
  }

  /**
   * A run cancelled or failing half-way closes what it opened — commit statuses, deployments —
   * before it ends (docs/engine.md: on cancellation `catch` and `finally` still make calls).
   */
  async abandon(error: unknown): Promise<void> {
    const { name, message } = error as Error;
    const cancelled = name === 'CancelledError';
    try {
      await this.report.closeOpen(cancelled ? 'canceled' : 'failed', `${message}: not deployed`);
    } catch (closing) {
      log.error(`could not close the gate's commit statuses and deployments: ${(closing as Error).message}`);
    }
    if (cancelled) return;
    // docs/gitops.md, §3 step 6: every failure opens the gate's issue (or adds to it), an unexpected one too.
    try {
      await this.report.failure(
        `The gate failed on ${short(this.sha)}: ${name}`,
        `${message}\n\nThe run's log (\`autoflow logs\`) has the details.`,
      );
    } catch (reporting) {
      log.error(`could not report the failure on the gate's issue: ${(reporting as Error).message}`);
    }
  }
}

async function runGate(options: GitopsGateOptions, event: EventOf<PushPayload>): Promise<GateResult> {
  const data = event.data;
  const sha = data?.checkout_sha ?? data?.after ?? '';
  const tag = options.tagPattern !== undefined;
  if (!data || /^0*$/.test(sha)) return { status: 'ignored', sha, environments: [] };
  const ref = data.ref.replace(/^refs\/(heads|tags)\//, '');
  const { runId } = runInfo();
  const link =
    options.autoflowUrl === undefined ? undefined : `${options.autoflowUrl.replace(/\/+$/, '')}/runs/${encodeURIComponent(runId)}`;
  const report = createReporter({
    gate: options.name,
    project: options.project,
    sha,
    ref,
    tag,
    link,
    labels: options.issueLabels ?? ['gitops::failed'],
  });
  const since = event.time === undefined ? now().getTime() : Date.parse(event.time);
  const watch = tag
    ? tagWatch(options.project, options.tagPattern ?? '*', sha, since)
    : branchWatch(options.project, options.branch ?? 'main', sha);
  const gate = new Gate(options, sha, ref, report, watch, event);
  try {
    return await gate.run();
  } catch (error) {
    await gate.abandon(error);
    throw error;
  }
}
