import {
  CancelledError,
  SIGNAL_EVENT_PREFIX,
  emit,
  gitlab,
  gitlabError,
  log,
  now,
  race,
  runInfo,
  signal,
  sleep,
  waitFor,
  workflow,
} from 'autoflow';
import {
  awaitPipeline,
  baselineGaps,
  checkHealth,
  diagnosticsPrompt,
  fluxGitTarget,
  incidentAdvice,
  prometheusMetric,
  readBaselines,
  type Baselines,
  type DeployedVersion,
  type DeploymentTarget,
  type Diagnostics,
  type Finding,
  type Health,
  type MetricCheck,
  type MetricSource,
} from 'autoflow/blocks';

/**
 * The staged rollout of the first seed's most sophisticated case: on a merge to main → wait for the
 * build pipeline → create a release → pre-production, soaked for a day under watch → staging, a
 * day → production as a canary at 10 %, then +10 % every hour while the metrics stay healthy.
 *
 * Health is a Prometheus query per metric with a hard threshold (a breach: roll back) and a z-score
 * against the stage's baseline (an anomaly: pause, notify on the merge request, wait for
 * `autoflow signal <run> resume` or `rollback`). A breach, a deploy that fails, or the operator's
 * `rollback` at any moment opens an incident issue that is updated as the rollback proceeds, with
 * Kubernetes events, pod logs and — when an OpenAI-compatible endpoint is configured (secret
 * OPENAI_API_KEY) — its advice.
 *
 * One rollout per service at a time: a newer release supersedes an older rollout, which stops and
 * puts its canary back. Cancelling a run (`autoflow cancel`) puts the stage in progress back too.
 *
 * Adapt the settings below; targets and metric sources are interfaces from 'autoflow/blocks' —
 * plug in your own (see docs/gitops.md).
 */
const APP = 'acme/shop';
const MANIFESTS = 'acme/shop-deploy';
const PROMETHEUS = 'http://prometheus.monitoring.svc:9090';
const LLM = 'http://llm.internal:8000/v1';
const AUTOFLOW = 'https://autoflow.example.com';

const HOUR_MS = 3_600_000;
const CHECK_EVERY_MS = 10 * 60_000;
const PAUSE_LIMIT = '4h';
/** Emitted by a rollout once its release exists: older rollouts of the same service stop for it. */
const TAKEOVER_EVENT = 'com.acme.rollout.taking_over';

/** An environment and the traffic weights it takes in turn, each watched for `watchMs` before the next. */
interface Stage {
  env: string;
  plan: string;
  steps: Array<{ weight: number; watchMs: number }>;
}

const STAGES: Stage[] = [
  { env: 'preprod', plan: 'all traffic, soaked for a day under watch', steps: [{ weight: 100, watchMs: 24 * HOUR_MS }] },
  { env: 'staging', plan: 'all traffic, soaked for a day under watch', steps: [{ weight: 100, watchMs: 24 * HOUR_MS }] },
  {
    env: 'production',
    plan: 'a canary at 10 %, +10 % every hour while healthy',
    steps: [10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((weight) => ({ weight, watchMs: weight < 100 ? HOUR_MS : 0 })),
  },
];

function target(env: string): DeploymentTarget {
  return fluxGitTarget({
    name: env,
    project: MANIFESTS,
    file: `environments/${env}/release.yaml`,
    source: { kind: 'GitRepository', namespace: 'flux-system', name: 'shop-deploy' },
    kustomization: { namespace: 'flux-system', name: `shop-${env}` },
    pods: { namespace: `shop-${env}`, labelSelector: 'app=shop' },
  });
}

function checks(env: string): MetricCheck[] {
  const errors: MetricSource = prometheusMetric({
    name: 'error ratio',
    url: PROMETHEUS,
    query: `sum(rate(http_requests_total{app="shop",env="${env}",code=~"5.."}[5m])) / sum(rate(http_requests_total{app="shop",env="${env}"}[5m]))`,
  });
  const latency: MetricSource = prometheusMetric({
    name: 'p95 latency (s)',
    url: PROMETHEUS,
    query: `histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{app="shop",env="${env}"}[5m])))`,
  });
  return [
    { metric: errors, max: 0.05, zScoreMax: 4 },
    { metric: latency, max: 1.5, zScoreMax: 4 },
  ];
}

interface MergeHook {
  /** When the merge happened (the webhook's time). */
  time: string;
  data: {
    object_attributes: { iid: number; title: string; merge_commit_sha: string | null; target_branch: string };
    user?: { username: string };
  };
}

/** The data of a TAKEOVER_EVENT: which release, merged when. */
interface Takeover {
  mr: number;
  version: string;
  mergedAt: number;
}

/** What can stop a rollout at any moment besides its own health checks. */
type StopRequest = { kind: 'rollback' } | { kind: 'superseded'; by: Takeover };

/** Why a step cannot go on: roll back with an incident, or hand over to a newer release. */
type Setback = { kind: 'unhealthy'; findings: Finding[] } | { kind: 'superseded'; by: Takeover };

/**
 * A weight of the release deployed (or being deployed) on a stage — 0 before its first step — and
 * what the stage ran before: what a stop puts back.
 */
interface Deployment {
  where: DeploymentTarget;
  previous: DeployedVersion | undefined;
  weight: number;
}

/** What putting a stage back achieved: `ok` is false when the stage may still run this release. */
interface PutBack {
  ok: boolean;
  text: string;
}

/** A release of this name exists already, for another commit: this rollout must not claim it. */
class ReleaseTakenError extends Error {
  override readonly name = 'ReleaseTakenError';
  constructor(
    readonly version: string,
    readonly commit: string | undefined,
  ) {
    super(`Release ${version} exists already for commit ${commit ?? '(none)'}: delete or rename it, then retry the run`);
  }
}

const describeDeployed = ({ version, weight }: DeployedVersion): string => (weight === 100 ? version : `${version} at ${weight} %`);

const findingsText = (findings: Finding[]): string => findings.map((f) => `- **${f.metric}**: ${f.detail}`).join('\n');

const operatorFinding = (detail: string): Finding => ({ metric: 'operator', value: null, kind: 'breach', detail });

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * Creates the release, or finds it made by this run already: the engine retries a call whose
 * answer was lost, and the retry of a POST that did happen gets 409.
 */
async function createRelease(version: string, sha: string, description: string): Promise<void> {
  const releases = `/projects/${encodeURIComponent(APP)}/releases`;
  try {
    await gitlab.request('POST', releases, { tag_name: version, ref: sha, name: version, description });
  } catch (error) {
    if (gitlabError(error)?.status !== 409) throw error;
    const existing = await gitlab.request<{ commit: { id: string } | null }>('GET', `${releases}/${encodeURIComponent(version)}`);
    if (existing.commit?.id !== sha) throw new ReleaseTakenError(version, existing.commit?.id);
  }
}

/** Says loudly that a stage runs a version on part of its traffic only: a stop puts that back as it is. */
const unfinished = (env: string, previous: DeployedVersion): string =>
  `⚠️ ${env} runs ${describeDeployed(previous)}, a rollout that did not finish: stopping this one puts that back, not ${previous.version} on all traffic.`;

/** The first release of this service that was merged after ours and starts rolling out. */
async function newerRelease(ours: Omit<Takeover, 'version'>): Promise<Takeover> {
  for (;;) {
    const event = await waitFor<Takeover>(TAKEOVER_EVENT, { match: { subject: APP } });
    const other = event?.data;
    // Our own announcement and older releases' come here too. Webhook times have whole seconds: the MR number breaks a tie.
    if (other && (other.mergedAt > ours.mergedAt || (other.mergedAt === ours.mergedAt && other.mr > ours.mr))) return other;
  }
}

/**
 * A `resume` sent after `since`. The engine keeps a signal sent before anyone waits for it, so a
 * resume sent early (by mistake, or twice for an earlier pause) is waiting here: take and drop it.
 */
async function resumeSentAfter(since: number): Promise<void> {
  for (;;) {
    const resume = await waitFor(`${SIGNAL_EVENT_PREFIX}resume`);
    if (resume?.time !== undefined && Date.parse(resume.time) >= since) return;
  }
}

/**
 * Listens from the run's start to its end for the operator's `rollback` signal and for a newer
 * release, so that neither is missed whatever the rollout is doing: `first` settles with the first
 * request, and `received` keeps it for the checks between steps.
 */
class StopRequests {
  readonly first: Promise<StopRequest>;
  received: StopRequest | undefined;

  constructor(ours: Omit<Takeover, 'version'>) {
    this.first = race({ rollback: signal('rollback'), newer: newerRelease(ours) }).then((request): StopRequest =>
      request.key === 'rollback' ? { kind: 'rollback' } : { kind: 'superseded', by: request.value },
    );
    // A cancel rejects these waits too; whatever the run awaits at that moment handles it.
    this.first.then(
      (request) => {
        this.received = request;
      },
      () => undefined,
    );
  }
}

/** A stop request as a setback: the operator's rollback joins what was found so far. */
function setbackOf(request: StopRequest, findings: Finding[]): Setback {
  return request.kind === 'superseded' ? request : { kind: 'unhealthy', findings: [...findings, operatorFinding('rollback requested')] };
}

/** A release on its way through the stages; each method is one decision of the rollout. */
class Rollout {
  /** What this rollout has deployed on the stage it is on: what a cancel puts back. */
  private inProgress: Deployment | undefined;

  constructor(
    private readonly version: string,
    private readonly mr: { iid: number; author: string | undefined },
    private readonly stops: StopRequests,
    private readonly runLink: string,
  ) {}

  private notify(body: string) {
    return gitlab.notes.create({ project: APP, mergeRequestIid: this.mr.iid, body });
  }

  async run() {
    try {
      for (const stage of STAGES) {
        const stopped = await this.rollOutStage(stage);
        if (stopped) return stopped;
      }
    } catch (error) {
      // Cancelled (`autoflow cancel`), or failed where no one expected: no stage stays half-deployed,
      // and the merge request is told either way (a failure before a stage's first deploy too).
      const why = error instanceof CancelledError ? error.message : `The rollout failed: ${messageOf(error)}`;
      const detail = this.inProgress
        ? (await this.putBack(this.inProgress.where, this.inProgress.previous)).text
        : 'No stage was being changed at that moment.';
      await this.notify(`⏹ ${why}. ${detail} ${this.runLink}`);
      throw error;
    }
    await this.notify(`🚀 ${this.version} runs on all of production.`);
    return { status: 'released', version: this.version };
  }

  /** Takes a stage step by step; ends the rollout (and returns its result) at the first setback. */
  private async rollOutStage(stage: Stage) {
    const where = target(stage.env);
    const previous = await where.deployed();
    const baselines = await readBaselines(checks(stage.env));
    await this.notify(
      `${this.version} goes to ${stage.env}: ${stage.plan}.${previous && previous.weight < 100 ? ` ${unfinished(stage.env, previous)}` : ''}`,
    );
    // Without a baseline no look can find an anomaly: going on with the hard limits alone is a person's call.
    const gaps = baselineGaps(checks(stage.env), baselines);
    if (gaps.length > 0) {
      log.warn(`${stage.env}: ${gaps.map((g) => `${g.metric}: ${g.detail}`).join('; ')}`);
      const untouched: Deployment = { where, previous, weight: 0 };
      const setback = await this.pause(stage.env, gaps, 'no baseline to compare with, before deploying');
      if (setback?.kind === 'superseded') return this.handOver(untouched, setback.by);
      if (setback) return this.rollBack(untouched, setback.findings);
    }
    for (const { weight, watchMs } of stage.steps) {
      const deployment: Deployment = { where, previous, weight };
      this.inProgress = deployment;
      const setback = await this.takeStep(deployment, baselines, watchMs);
      if (setback?.kind === 'superseded') return this.handOver(deployment, setback.by);
      if (setback) return this.rollBack(deployment, setback.findings);
    }
    this.inProgress = undefined;
    return undefined;
  }

  /** Deploys one step and watches it, unless a stop request came first. */
  private async takeStep({ where, weight }: Deployment, baselines: Baselines, watchMs: number): Promise<Setback | undefined> {
    // A request that came while the last step was being deployed is honoured before the next.
    if (this.stops.received) return setbackOf(this.stops.received, []);
    try {
      await where.deploy(this.version, weight);
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      // Flux reported the apply failed, or it was not applied in time: as bad as a breach.
      return {
        kind: 'unhealthy',
        findings: [{ metric: 'deploy', value: null, kind: 'breach', detail: `${weight} %: ${messageOf(error)}` }],
      };
    }
    log.info(`${where.name} at ${weight}%`);
    return this.underWatch(where.name, baselines, watchMs);
  }

  /** Watches a stage for `durationMs`; an anomaly pauses it and asks on the merge request. */
  private async underWatch(env: string, baselines: Baselines, durationMs: number): Promise<Setback | undefined> {
    const end = now().getTime() + durationMs;
    while (now().getTime() < end) {
      const look = await this.watch(env, baselines, end);
      if ('kind' in look) return setbackOf(look, []);
      if (look.state === 'healthy') return undefined;
      if (look.state === 'breach') return { kind: 'unhealthy', findings: look.findings };
      const answer = await this.pause(env, look.findings);
      if (answer) return answer;
    }
    return undefined;
  }

  /** Looks at the metrics every CHECK_EVERY_MS until `end`: the first unhealthy look, the last look, or a stop request. */
  private async watch(env: string, baselines: Baselines, end: number): Promise<Health | StopRequest> {
    for (;;) {
      const next = await race({ stop: this.stops.first, tick: sleep(Math.max(1, Math.min(CHECK_EVERY_MS, end - now().getTime()))) });
      if (next.key === 'stop') return next.value;
      const health = await checkHealth(checks(env), baselines);
      if (health.state !== 'healthy' || now().getTime() >= end) return health;
    }
  }

  /** Pauses on an anomaly (or a missing baseline) until someone resumes (undefined) or it must stop. */
  private async pause(env: string, findings: Finding[], why = 'unusual metrics'): Promise<Setback | undefined> {
    const pausedAt = now().getTime();
    await this.notify(
      `${this.mr.author ? `@${this.mr.author} ` : ''}⏸ **Paused** ${this.version} on ${env}: ${why}\n\n${findingsText(findings)}\n\n` +
        `Resume with \`autoflow signal ${runInfo().runId} resume\` (sent after this note), or roll back with \`… rollback\`; ` +
        `without an answer in ${PAUSE_LIMIT} it rolls back.`,
    );
    log.warn(`paused on ${env}: ${findings.map((f) => f.detail).join('; ')}`);
    const answer = await race({ resume: resumeSentAfter(pausedAt), stop: this.stops.first, timeout: sleep(PAUSE_LIMIT) });
    if (answer.key === 'stop') return setbackOf(answer.value, findings);
    if (answer.key === 'timeout') return { kind: 'unhealthy', findings: [...findings, operatorFinding(`no answer within ${PAUSE_LIMIT}`)] };
    await this.notify(`▶ Resumed ${this.version} on ${env}.`);
    return undefined;
  }

  /**
   * Puts a stage back on the version it ran before, unless it no longer runs ours: a newer rollout
   * or a person changed it since, and their change must stay.
   */
  private async putBack(where: DeploymentTarget, previous: DeployedVersion | undefined): Promise<PutBack> {
    try {
      const running = await where.deployed();
      if (running?.version !== this.version)
        return { ok: true, text: `${where.name} runs ${running ? describeDeployed(running) : 'an unknown version'}: left as it is.` };
      if (previous === undefined) return { ok: false, text: `No earlier version is recorded for ${where.name}: roll it back by hand.` };
      await where.rollback(previous);
      // A partial weight is put back as it was, not sent to all traffic: it was never proven there.
      if (previous.weight < 100) {
        log.warn(`${where.name} put back on ${describeDeployed(previous)}, a rollout that did not finish`);
        return {
          ok: true,
          text: `${where.name} runs ${describeDeployed(previous)} again, as before this rollout. ⚠️ That rollout did not finish: finish it or roll it back by hand.`,
        };
      }
      return { ok: true, text: `${where.name} runs ${previous.version} again.` };
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      const to = previous ? ` on ${describeDeployed(previous)}` : '';
      return { ok: false, text: `Putting ${where.name} back${to} failed (${messageOf(error)}): roll it back by hand.` };
    }
  }

  /** A newer release takes over: this rollout stops, leaving no canary behind. */
  private async handOver({ where, previous, weight }: Deployment, by: Takeover) {
    // A stage at full traffic gets the newer release when it arrives; a canary must not wait days for it.
    const detail =
      weight < 100 ? (await this.putBack(where, previous)).text : `Where ${this.version} runs on all traffic, ${by.version} replaces it.`;
    // Only now: a cancel while the canary was being put back must find it still in progress, and put it back.
    this.inProgress = undefined;
    await this.notify(`⏭ ${this.version} is superseded by ${by.version} (!${by.mr}): this rollout stops. ${detail} ${this.runLink}`);
    return { status: 'superseded', version: this.version, by: by.version };
  }

  /** A breach, a failed deploy or the operator's word: incident issue, the stage put back, diagnostics, advice. */
  private async rollBack({ where, previous }: Deployment, findings: Finding[]) {
    const incident = await gitlab.issues.create(APP, {
      title: `Incident: ${this.version} was stopped on ${where.name}`,
      labels: 'incident,rollout',
      description: `The rollout of ${this.version} (!${this.mr.iid}) stopped on **${where.name}**:\n\n${findingsText(findings)}\n\nRun: ${this.runLink}`,
    });
    const update = (body: string) => gitlab.notes.create({ project: APP, issueIid: incident.iid, body });
    if (previous !== undefined) await update(`⏪ Rolling ${where.name} back to ${describeDeployed(previous)}…`);
    const putBack = await this.putBack(where, previous);
    // Only now: a cancel while the stage was being put back must find it still in progress, and put it back.
    this.inProgress = undefined;
    await update(`${putBack.ok ? '✅' : '⚠️'} ${putBack.text}`);
    // The outcome first: what follows only explains it, and may fail or be cancelled.
    await this.notify(
      putBack.ok
        ? `⛔ ${this.version} was rolled back on ${where.name}: see #${incident.iid}.`
        : `⚠️ ${this.version} was stopped on ${where.name}, but the rollback did not complete: ${putBack.text} See #${incident.iid}.`,
    );
    await this.diagnose(where, findings, update);
    await update(await this.healthAfter(where.name, putBack));
    return { status: putBack.ok ? 'rolled_back' : 'rollback_failed', version: this.version, stage: where.name, incident: incident.iid };
  }

  /** The incident's last word: the metrics after the rollback, or why they say nothing about it. */
  private async healthAfter(env: string, putBack: PutBack): Promise<string> {
    let after: Health;
    try {
      after = await checkHealth(checks(env), await readBaselines(checks(env)));
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      return `⚠️ The metrics after the rollback could not be read (${messageOf(error)}): check ${env} by hand.`;
    }
    const unhealthy = after.state === 'healthy' ? '' : `:\n\n${findingsText(after.findings)}`;
    if (!putBack.ok)
      return `⚠️ The rollback did not complete, so the metrics (${after.state}${unhealthy}) do not show that it worked: check what ${env} runs by hand.`;
    return after.state === 'healthy'
      ? '📈 Metrics are healthy again after the rollback.'
      : `⚠️ Still unhealthy after the rollback${unhealthy}`;
  }

  /** Kubernetes events and pod logs, then — when an endpoint is configured — an LLM's advice: each an update of the incident. */
  private async diagnose(where: DeploymentTarget, findings: Finding[], update: (body: string) => Promise<unknown>): Promise<void> {
    let diagnostics: Diagnostics;
    try {
      diagnostics = await where.diagnostics();
    } catch (error) {
      // A target of one's own may throw: diagnostics explain a failure, they must not become one.
      if (error instanceof CancelledError) throw error;
      diagnostics = { events: [], logs: [], unavailable: [messageOf(error)] };
    }
    const events = diagnostics.events.map(
      (e) =>
        `- \`${e.time ?? ''}\` ${e.type ?? ''} ${e.involvedObject.kind ?? ''}/${e.involvedObject.name ?? ''} **${e.reason ?? ''}**: ${e.message ?? ''}`,
    );
    const logs = diagnostics.logs.map((l) => `<details><summary>${l.pod}</summary>\n\n\`\`\`\n${l.text.slice(-3000)}\n\`\`\`\n</details>`);
    const unavailable = diagnostics.unavailable.map((what) => `- ${what}`);
    await update(
      `#### Diagnostics\n\n**Events**\n${events.join('\n') || '(none)'}\n\n**Pod logs**\n${logs.join('\n') || '(none)'}` +
        (unavailable.length > 0 ? `\n\n**Not available**\n${unavailable.join('\n')}` : ''),
    );
    const advice = await incidentAdvice(
      { url: LLM, apiKeySecret: 'OPENAI_API_KEY' },
      diagnosticsPrompt(`Release ${this.version} of ${APP} was stopped on ${where.name}:\n${findingsText(findings)}`, diagnostics),
    );
    if (advice) await update(`#### Advice (AI-generated, verify before acting)\n\n${advice}`);
  }
}

export default workflow({
  name: 'staged-rollout',
  description: 'Merge to main → build → release → pre-production 1d → staging 1d → production canary +10 %/h, rolled back on a breach',
  triggers: [
    {
      event: 'com.gitlab.events.merge_request_merged',
      filter: { 'project.path_with_namespace': APP, 'object_attributes.target_branch': 'main' },
    },
  ],
  permissions: {
    gitlab: { projects: [APP, MANIFESTS] },
    http: [PROMETHEUS, LLM],
    secrets: ['OPENAI_API_KEY'],
    kubernetes: { namespaces: ['flux-system', 'shop-*'], kinds: ['Kustomization', 'GitRepository', 'Event', 'Pod'] },
  },
  async run(event: MergeHook) {
    const mr = event.data.object_attributes;
    const sha = mr.merge_commit_sha;
    if (!sha) return { status: 'ignored' };
    const runLink = `${AUTOFLOW}/runs/${encodeURIComponent(runInfo().runId)}`;
    const notify = (body: string) => gitlab.notes.create({ project: APP, mergeRequestIid: mr.iid, body });
    const mergedAt = Date.parse(event.time);
    // Listened for from the start: a `rollback` or a newer release at any moment stops the rollout.
    const stops = new StopRequests({ mr: mr.iid, mergedAt });

    // 1. The build pipeline of the merge commit.
    const build = await race({
      stop: stops.first,
      done: awaitPipeline({
        project: APP,
        sha,
        ref: mr.target_branch,
        watch: { sources: () => ({}), newer: () => Promise.resolve(undefined) },
        timeoutMs: 2 * HOUR_MS,
        retryWindowMs: 30 * 60_000,
        pollMs: 2 * 60_000,
        onRed: async (pipeline) =>
          void (await notify(`Pipeline #${pipeline.id} failed: no release yet (a passing retry within 30 minutes continues). ${runLink}`)),
        onRetried: () => Promise.resolve(),
      }),
    });
    if (build.key === 'stop') {
      const superseded = build.value.kind === 'superseded';
      await notify(`⏹ No release: ${superseded ? 'a newer merge supersedes this one' : 'a rollback was requested'}. ${runLink}`);
      return { status: superseded ? 'superseded' : 'stopped' };
    }
    if (build.value.kind !== 'success') {
      await notify(`No release: the build pipeline did not pass (${build.value.kind}). ${runLink}`);
      return { status: 'build_failed' };
    }

    // 2. The release; older rollouts of the service stop for it.
    const day = now().toISOString().slice(0, 10).replace(/-/g, '.');
    const version = `v${day}-${sha.slice(0, 8)}`;
    await createRelease(version, sha, `!${mr.iid}: ${mr.title}\n\nRolled out by ${runLink}`);
    await emit(TAKEOVER_EVENT, { mr: mr.iid, version, mergedAt } satisfies Takeover, { subject: APP });
    await notify(`Release ${version} created; rolling out: pre-production → staging → production. ${runLink}`);

    // 3. Stage by stage.
    return new Rollout(version, { iid: mr.iid, author: event.data.user?.username }, stops, runLink).run();
  },
});
