import { gitlab, log, now, race, runInfo, signal, sleep, workflow } from 'autoflow';
import {
  awaitPipeline,
  checkHealth,
  diagnosticsPrompt,
  fluxGitTarget,
  incidentAdvice,
  prometheusMetric,
  readBaselines,
  watchHealth,
  type DeploymentTarget,
  type Finding,
  type Health,
  type MetricCheck,
  type MetricSource,
  type Baselines,
} from 'autoflow/blocks';

/**
 * The staged rollout of the first seed's most sophisticated case: on a merge to main → wait for the
 * build pipeline → create a release → pre-production, soaked for a day under watch → staging, a
 * day → production as a canary at 10 %, then +10 % every hour while the metrics stay healthy.
 *
 * Health is a Prometheus query per metric with a hard threshold (a breach: roll back) and a z-score
 * against the stage's baseline (an anomaly: pause, notify on the merge request, wait for
 * `autoflow signal <run> resume` or `rollback`). A breach opens an incident issue that is updated
 * as the rollback proceeds, with Kubernetes events, pod logs and — when an OpenAI-compatible
 * endpoint is configured (secret OPENAI_API_KEY) — its advice.
 *
 * Adapt the settings below; targets and metric sources are interfaces from 'autoflow/blocks' —
 * plug in your own (see docs/gitops.md).
 */
const APP = 'acme/shop';
const MANIFESTS = 'acme/shop-deploy';
const PROMETHEUS = 'http://prometheus.monitoring.svc:9090';
const LLM = 'http://llm.internal:8000/v1';
const AUTOFLOW = 'https://autoflow.example.com';

const SOAK = '1d';
const SOAK_MS = 24 * 3_600_000;
const CANARY_STEP_MS = 3_600_000;
const CHECK_EVERY = '10m';
const PAUSE_LIMIT = '4h';

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
  data: {
    object_attributes: { iid: number; title: string; merge_commit_sha: string | null; target_branch: string };
    user?: { username: string };
  };
}

type StageOutcome = { ok: true } | { ok: false; findings: Finding[] };

const findingsText = (findings: Finding[]): string => findings.map((f) => `- **${f.metric}**: ${f.detail}`).join('\n');

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

    // 1. The build pipeline of the merge commit.
    const build = await awaitPipeline({
      project: APP,
      sha,
      watch: { sources: () => ({}), newer: () => Promise.resolve(undefined) },
      timeoutMs: 2 * 3_600_000,
      retryWindowMs: 30 * 60_000,
      pollMs: 2 * 60_000,
      onRed: async (pipeline) =>
        void (await notify(`Pipeline #${pipeline.id} failed: no release yet (a passing retry within 30 minutes continues). ${runLink}`)),
      onRetried: () => Promise.resolve(),
    });
    if (build.kind !== 'success') {
      await notify(`No release: the build pipeline did not pass (${build.kind}). ${runLink}`);
      return { status: 'build_failed' };
    }

    // 2. The release.
    const day = now().toISOString().slice(0, 10).replace(/-/g, '.');
    const version = `v${day}-${sha.slice(0, 8)}`;
    await gitlab.request('POST', `/projects/${encodeURIComponent(APP)}/releases`, {
      tag_name: version,
      ref: sha,
      name: version,
      description: `!${mr.iid}: ${mr.title}\n\nRolled out by ${runLink}`,
    });
    await notify(`Release ${version} created; rolling out: pre-production → staging → production. ${runLink}`);

    /** Watches a stage; on an anomaly pauses and asks; a breach (or no answer) ends it. */
    async function underWatch(env: string, baselines: Baselines, durationMs: number): Promise<StageOutcome> {
      const end = now().getTime() + durationMs;
      for (;;) {
        const left = end - now().getTime();
        if (left <= 0) return { ok: true };
        const health: Health = await watchHealth(checks(env), baselines, { duration: left, interval: CHECK_EVERY });
        if (health.state === 'healthy') return { ok: true };
        if (health.state === 'breach') return { ok: false, findings: health.findings };
        const author = event.data.user?.username;
        await notify(
          `${author ? `@${author} ` : ''}⏸ **Paused** ${version} on ${env}: unusual metrics\n\n${findingsText(health.findings)}\n\n` +
            `Resume with \`autoflow signal ${runInfo().runId} resume\`, or roll back with \`… rollback\`; without an answer in ${PAUSE_LIMIT} it rolls back.`,
        );
        log.warn(`paused on ${env}: ${health.findings.map((f) => f.detail).join('; ')}`);
        const answer = await race({ resume: signal('resume'), rollback: signal('rollback'), timeout: sleep(PAUSE_LIMIT) });
        if (answer.key !== 'resume')
          return {
            ok: false,
            findings: [
              ...health.findings,
              {
                metric: 'operator',
                value: null,
                kind: 'breach',
                detail: answer.key === 'rollback' ? 'rollback requested' : `no answer within ${PAUSE_LIMIT}`,
              },
            ],
          };
        await notify(`▶ Resumed ${version} on ${env}.`);
      }
    }

    /** A breach: incident issue, rollback, diagnostics, advice — the incident updated at each step. */
    async function rollBack(where: DeploymentTarget, previous: string | undefined, findings: Finding[]) {
      const incident = await gitlab.issues.create(APP, {
        title: `Incident: ${version} breached its health checks on ${where.name}`,
        labels: 'incident,rollout',
        description: `The rollout of ${version} (!${mr.iid}) stopped on **${where.name}**:\n\n${findingsText(findings)}\n\nRun: ${runLink}`,
      });
      const update = (body: string) => gitlab.notes.create({ project: APP, issueIid: incident.iid, body });
      if (previous === undefined) {
        await update(`No earlier version is recorded for ${where.name}: roll back by hand.`);
      } else {
        await update(`⏪ Rolling ${where.name} back to ${previous}…`);
        await where.rollback(previous);
        await update(`✅ ${where.name} runs ${previous} again (Flux reports the rollback applied).`);
      }
      const diagnostics = await where.diagnostics();
      const events = diagnostics.events.map(
        (e) =>
          `- \`${e.time ?? ''}\` ${e.type ?? ''} ${e.involvedObject.kind ?? ''}/${e.involvedObject.name ?? ''} **${e.reason ?? ''}**: ${e.message ?? ''}`,
      );
      const logs = diagnostics.logs.map(
        (l) => `<details><summary>${l.pod}</summary>\n\n\`\`\`\n${l.text.slice(-3000)}\n\`\`\`\n</details>`,
      );
      await update(`#### Diagnostics\n\n**Events**\n${events.join('\n') || '(none)'}\n\n**Pod logs**\n${logs.join('\n') || '(none)'}`);
      const advice = await incidentAdvice(
        { url: LLM, apiKeySecret: 'OPENAI_API_KEY' },
        diagnosticsPrompt(`Release ${version} of ${APP} breached on ${where.name}:\n${findingsText(findings)}`, diagnostics),
      );
      if (advice) await update(`#### Advice (AI-generated, verify before acting)\n\n${advice}`);
      const after = await checkHealth(checks(where.name), await readBaselines(checks(where.name)));
      await update(
        after.state === 'healthy'
          ? '📈 Metrics are healthy again after the rollback.'
          : `⚠️ Still unhealthy after the rollback:\n\n${findingsText(after.findings)}`,
      );
      await notify(`⛔ ${version} was rolled back on ${where.name}: see #${incident.iid}.`);
      return { status: 'rolled_back', version, stage: where.name, incident: incident.iid };
    }

    // 3. Pre-production and staging: all traffic, soaked a day each.
    for (const env of ['preprod', 'staging']) {
      const stage = target(env);
      const previous = await stage.currentVersion();
      const baselines = await readBaselines(checks(env));
      await stage.deploy(version, 100);
      await notify(`${version} is on ${env}; soaking for ${SOAK} under watch.`);
      const soaked = await underWatch(env, baselines, SOAK_MS);
      if (!soaked.ok) return rollBack(stage, previous, soaked.findings);
    }

    // 4. Production: a canary at 10 %, then +10 % every hour while healthy.
    const production = target('production');
    const previous = await production.currentVersion();
    const baselines = await readBaselines(checks('production'));
    for (let weight = 10; weight <= 100; weight += 10) {
      await production.deploy(version, weight);
      log.info(`production at ${weight}%`);
      if (weight === 100) break;
      const step = await underWatch('production', baselines, CANARY_STEP_MS);
      if (!step.ok) return rollBack(production, previous, step.findings);
    }
    await notify(`🚀 ${version} runs on all of production.`);
    return { status: 'released', version };
  },
});
