import type { Json } from '../core/model.js';
import { callCapability } from '../sdk/capabilities.js';
import { now, runInfo, sleep, type EventOf } from '../sdk/durable.js';
import { toMilliseconds } from '../sdk/duration.js';
import { gitlab } from '../sdk/gitlab.js';
import { log } from '../sdk/log.js';
import { tasks } from '../sdk/tasks.js';
import type { WorkflowDefinition } from '../sdk/types.js';
import { workflow } from '../sdk/workflow.js';
import { fluxVerdict, getKustomization, listEvents, triggerSync, type FluxVerdict } from './flux.js';
import {
  checkGateOptions,
  gatePermissions,
  gateTriggers,
  type ApprovalRule,
  type GateEnvironment,
  type GitopsGateOptions,
} from './gitops-options.js';
import { awaitPipeline, branchWatch, tagWatch, type RefWatch } from './gitops-pipeline.js';
import { createReporter, type Reporter } from './gitops-report.js';
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
}

interface FreezeStatus {
  frozen: boolean;
  endsAt: string | null;
}

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
  /** The run's parked waits, shared by every phase. */
  readonly wakeups = new Wakeups();
  constructor(
    readonly options: GitopsGateOptions,
    readonly sha: string,
    readonly ref: string,
    readonly report: Reporter,
    readonly watch: RefWatch,
    readonly push: EventOf<PushPayload>,
  ) {}

  /** Marks every environment not reached yet. */
  async closeRemaining(state: 'failed' | 'canceled', description: string): Promise<void> {
    for (const env of this.options.environments) {
      if (this.environments.some((done) => done.name === env.name)) continue;
      await this.report.status(env.name, state, description);
      this.environments.push({ name: env.name, status: state === 'failed' ? 'failed' : 'canceled', detail: description });
    }
  }

  result(status: GateStatus, extra: Partial<GateResult> = {}): GateResult {
    return { status, sha: this.sha, environments: this.environments, ...extra };
  }

  /** Waits until `at`, unless a newer commit comes first (then its sha). */
  async sleepUntil(at: number): Promise<string | undefined> {
    while (now().getTime() < at) {
      const woke = await this.wakeups.next({ [`until:${at}`]: () => sleep.until(at), ...this.watch.sources() });
      if (woke.key === `until:${at}`) return undefined;
      const newer = await this.watch.newer(woke);
      if (newer !== undefined) return newer;
    }
    return undefined;
  }

  async freezeStatus(): Promise<FreezeStatus> {
    const periods = await gitlab.freezePeriods.list(this.options.project, undefined, { all: true });
    if (periods.length === 0) return { frozen: false, endsAt: null };
    return callCapability<FreezeStatus>('calendar', 'freezeStatus', { periods: periods as unknown as Json, at: now().toISOString() });
  }

  /** Approval (and deploy freeze) before syncing `env`: 'go', or why not. */
  async clearance(env: GateEnvironment): Promise<{ go: true } | { go: false; status: GateStatus; detail: string }> {
    for (;;) {
      const freeze = await this.freezeStatus();
      const rule: ApprovalRule | undefined =
        env.approval && (env.approval.when !== 'freeze' || freeze.frozen)
          ? env.approval
          : freeze.frozen && this.options.freezeApprovers
            ? { approvers: this.options.freezeApprovers }
            : undefined;
      if (!rule && freeze.frozen && freeze.endsAt) {
        await this.report.status(env.name, 'pending', `deploy freeze until ${freeze.endsAt}: waiting`);
        log.info(`${env.name}: deploy freeze until ${freeze.endsAt}, waiting for it to end`);
        const newer = await this.sleepUntil(Date.parse(freeze.endsAt));
        if (newer !== undefined) {
          this.supersededBy = newer;
          return { go: false, status: 'superseded', detail: `superseded by ${short(newer)}` };
        }
        continue;
      }
      if (!rule) return { go: true };
      return this.approval(env, rule, freeze);
    }
  }

  private async approval(env: GateEnvironment, rule: ApprovalRule, freeze: FreezeStatus) {
    const { project } = this.options;
    const task = await tasks.openApproval({
      title: `Deploy ${short(this.sha)} of ${project} to ${env.name}`,
      description: [
        `The pipeline of ${this.sha} (${this.ref}) passed. Approve to let Flux sync **${env.name}**.`,
        ...(freeze.frozen ? [`A GitLab deploy freeze is in force until ${freeze.endsAt ?? 'further notice'}.`] : []),
      ].join('\n\n'),
      approvers: rule.approvers,
      ...(rule.required === undefined ? {} : { required: rule.required }),
      ...(rule.allowSelfApproval === undefined ? {} : { allowSelfApproval: rule.allowSelfApproval }),
      ...(this.push.data?.user_username ? { initiator: this.push.data.user_username } : {}),
      timeout: rule.timeout ?? '1d',
      context: { project },
    });
    await this.report.status(env.name, 'pending', freeze.frozen ? 'deploy freeze: waiting for approval' : 'waiting for approval', task.url);
    log.info(`${env.name}: waiting for approval at ${task.url}`);
    for (;;) {
      const woke = await this.wakeups.next({ ...this.watch.sources() }, { decision: task.result() });
      if (woke.key === 'decision') {
        const outcome = woke.value as Awaited<ReturnType<typeof task.result>>;
        if (outcome.status === 'approved') return { go: true as const };
        const by = outcome.decisions.find((decision) => decision.decision === 'reject')?.by;
        const detail = outcome.status === 'rejected' ? `rejected${by ? ` by @${by}` : ''}` : `approval ${outcome.status.replace('_', ' ')}`;
        return { go: false as const, status: 'rejected' as const, detail };
      }
      const newer = await this.watch.newer(woke);
      if (newer !== undefined) {
        await task.cancel();
        this.supersededBy = newer;
        return { go: false as const, status: 'superseded' as const, detail: `superseded by ${short(newer)}` };
      }
    }
  }

  /** Polls the Kustomization until it is Ready at this commit, fails on it, or `timeout` passes. */
  async observe(env: GateEnvironment): Promise<FluxVerdict | { state: 'timeout'; message: string } | { state: 'superseded'; by: string }> {
    const { namespace, name } = env.observe.kustomization;
    const deadline = now().getTime() + toMilliseconds(env.observe.timeout ?? '15m');
    const interval = toMilliseconds(env.observe.interval ?? '15s');
    for (;;) {
      const verdict = fluxVerdict(await getKustomization(namespace, name), this.sha);
      if (verdict.state !== 'progressing') return verdict;
      if (now().getTime() >= deadline)
        return {
          state: 'timeout',
          message: `not Ready at ${short(this.sha)} within ${String(env.observe.timeout ?? '15m')} (${verdict.message})`,
        };
      const left = deadline - now().getTime();
      const poll = left < interval ? `until:${deadline}` : 'observe';
      const woke = await this.wakeups.next({
        [poll]: () => (left < interval ? sleep.until(deadline) : sleep(interval)),
        ...this.watch.sources(),
      });
      if (woke.key === poll) continue;
      const newer = await this.watch.newer(woke);
      if (newer !== undefined) return { state: 'superseded', by: newer };
    }
  }

  async deploy(env: GateEnvironment): Promise<GateStatus | undefined> {
    const clearance = await this.clearance(env);
    if (!clearance.go) {
      await this.report.status(env.name, clearance.status === 'superseded' ? 'canceled' : 'failed', clearance.detail);
      this.environments.push({
        name: env.name,
        status: clearance.status === 'superseded' ? 'canceled' : 'failed',
        detail: clearance.detail,
      });
      await this.closeRemaining('canceled', `not deployed: ${env.name} ${clearance.detail}`);
      return clearance.status;
    }
    // The last look before the sync: Flux deploys the head of what it watches, so once a newer
    // commit holds the ref, syncing would deploy that commit — before its own gate allowed it.
    const newer = await this.watch.newer();
    if (newer !== undefined) {
      this.supersededBy = newer;
      await this.closeRemaining('canceled', `superseded by ${short(newer)}`);
      return 'superseded';
    }
    await this.report.status(env.name, 'running', `syncing ${env.name}`);
    await this.report.deployment(env.name, 'running');
    const how = await triggerSync(env.sync, {
      project: this.options.project,
      sha: this.sha,
      ref: this.ref,
      tag: this.options.tagPattern !== undefined,
      push: (this.push.data ?? null) as Json,
    });
    log.info(`${env.name}: ${how}`);
    const verdict = await this.observe(env);
    if (verdict.state === 'ready') {
      await this.report.status(env.name, 'success', `Ready at ${verdict.revision}`);
      await this.report.deployment(env.name, 'success');
      this.environments.push({ name: env.name, status: 'success', detail: verdict.message });
      return undefined;
    }
    if (verdict.state === 'superseded') {
      this.supersededBy = verdict.by;
      await this.report.status(env.name, 'canceled', `superseded by ${short(verdict.by)}`);
      await this.report.deployment(env.name, 'canceled');
      this.environments.push({ name: env.name, status: 'canceled', detail: `superseded by ${short(verdict.by)}` });
      await this.closeRemaining('canceled', `superseded by ${short(verdict.by)}`);
      return 'superseded';
    }
    const message = verdict.state === 'failed' ? `${verdict.reason}: ${verdict.message}` : verdict.message;
    await this.report.status(env.name, 'failed', message);
    await this.report.deployment(env.name, 'failed');
    this.environments.push({ name: env.name, status: 'failed', detail: message });
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
  const envNames = options.environments.map((env) => env.name);

  const retryWindow = options.retryWindow ?? '1h';
  const pipeline = await awaitPipeline({
    project: options.project,
    sha,
    watch,
    wakeups: gate.wakeups,
    timeoutMs: toMilliseconds(options.pipelineTimeout ?? '2h'),
    retryWindowMs: toMilliseconds(retryWindow),
    pollMs: toMilliseconds(options.pollInterval ?? '2m'),
    async onRed(red, verdict) {
      report.attach(red.id);
      for (const env of envNames) await report.status(env, 'failed', `pipeline ${verdict}: not deployed`);
      await report.failure(
        `Pipeline ${verdict} for ${short(sha)}: nothing deployed`,
        `Pipeline [#${red.id}](${red.web_url}) ${verdict}, so no environment was synced. A retry that passes within ${String(retryWindow)} still deploys this commit.`,
      );
    },
    async onRetried(retried) {
      for (const env of envNames) await report.status(env, 'pending', `pipeline #${retried.id} retried: waiting`);
    },
  });
  switch (pipeline.kind) {
    case 'superseded':
      await gate.closeRemaining('canceled', `superseded by ${short(pipeline.by)}`);
      log.info(`superseded by ${pipeline.by} before the pipeline finished`);
      return gate.result('superseded', { supersededBy: pipeline.by });
    case 'timeout': {
      if (pipeline.pipeline) report.attach(pipeline.pipeline.id);
      const detail = pipeline.pipeline
        ? `pipeline #${pipeline.pipeline.id} did not pass within ${String(options.pipelineTimeout ?? '2h')}`
        : `no pipeline started within ${String(options.pipelineTimeout ?? '2h')}`;
      await gate.closeRemaining('failed', `${detail}: not deployed`);
      await report.failure(`No green pipeline for ${short(sha)}: nothing deployed`, `${detail}.`);
      return gate.result('timed_out');
    }
    case 'failed':
      await gate.closeRemaining('failed', `pipeline ${pipeline.verdict}: not deployed`);
      return gate.result('pipeline_failed', { pipelineId: pipeline.pipeline.id });
    case 'success':
      break;
  }
  report.attach(pipeline.pipeline.id);
  for (const env of envNames) await report.status(env, 'pending', `pipeline #${pipeline.pipeline.id} passed: waiting to sync`);
  for (const env of options.environments) {
    const stopped = await gate.deploy(env);
    if (stopped === 'superseded') {
      return gate.result('superseded', {
        pipelineId: pipeline.pipeline.id,
        ...(gate.supersededBy ? { supersededBy: gate.supersededBy } : {}),
      });
    }
    if (stopped !== undefined) return gate.result(stopped, { pipelineId: pipeline.pipeline.id });
  }
  await report.recovered(`Commit ${sha} is deployed to ${envNames.join(', ')}; closing.`);
  return gate.result('deployed', { pipelineId: pipeline.pipeline.id });
}
