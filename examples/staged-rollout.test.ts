import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  createKubernetesCapability,
  createKubernetesStandIn,
  createPrometheusStandIn,
  createTestEnv,
  gitRepository,
  kustomization,
  listenLoopback,
  type KubernetesStandIn,
  type LoopbackServer,
  type PrometheusStandIn,
  type TestEnv,
} from 'autoflow/testing';

const APP = 'acme/shop';
const MANIFESTS = 'acme/shop-deploy';
const PREVIOUS = 'v2025.12.01-0badc0de';
const HOUR = 3_600_000;

interface MergeInput {
  data: { object_attributes: { iid: number } };
}

/** The release file of an environment as the manifests repository holds it now. */
function releaseOf(env: TestEnv, environment: string): { version?: string; weight?: number } {
  const project = env.gitlab.state.requireProject(MANIFESTS);
  const head = project.repository.commits.get(project.repository.branches.get('main') ?? '');
  const text = head?.tree.get(`environments/${environment}/release.yaml`) ?? '';
  return { version: /version: "?([^"\n]+)"?/.exec(text)?.[1], weight: Number(/weight: (\d+)/.exec(text)?.[1]) };
}

interface Scenario {
  /** Whether Flux fails to apply an environment's release (Ready=False, HealthCheckFailed). */
  deployFails?: (environment: string, release: { version?: string; weight?: number }) => boolean;
  /** Errors and latency of an environment at a time, given the release it runs. */
  errors?: (environment: string, at: number, release: { version?: string; weight?: number }) => number | undefined;
  latency?: (environment: string, at: number, release: { version?: string; weight?: number }) => number | undefined;
}

class Stand {
  private constructor(
    readonly env: TestEnv,
    readonly kube: KubernetesStandIn,
    readonly prometheus: PrometheusStandIn,
    readonly llm: LoopbackServer,
    readonly advice: Array<{ authorization: string | undefined; body: { messages: Array<{ content: string }> } }>,
    private readonly dir: string,
  ) {}

  static async create(scenario: Scenario): Promise<Stand> {
    const holder: { env?: TestEnv } = {};
    const clock = (): number => holder.env?.now() ?? Date.parse('2026-01-05T09:00:00Z');
    const kube = await createKubernetesStandIn({
      now: clock,
      reconcileMs: 30_000,
      outcome: (object) => {
        const environment = String(object.metadata.name).replace(/^shop-/, '');
        return holder.env && scenario.deployFails?.(environment, releaseOf(holder.env, environment))
          ? { ok: false, reason: 'HealthCheckFailed', message: 'Deployment/shop not ready' }
          : { ok: true };
      },
      revisionOf: () => {
        const sha = holder.env?.gitlab.state.requireProject(MANIFESTS).repository.branches.get('main');
        return sha === undefined ? undefined : `main@sha1:${sha}`;
      },
    });
    kube.add(
      gitRepository('flux-system', 'shop-deploy', {
        url: 'https://gitlab.example.com/acme/shop-deploy.git',
        branch: 'main',
        interval: '24h',
      }),
    );
    for (const name of ['preprod', 'staging', 'production']) {
      kube.add(
        kustomization('flux-system', `shop-${name}`, {
          source: { kind: 'GitRepository', name: 'shop-deploy' },
          path: `./environments/${name}`,
        }),
      );
    }
    kube.addPod({
      namespace: 'shop-production',
      name: 'shop-7d9f-abcde',
      labels: { app: 'shop' },
      logs: {
        shop: 'GET /checkout 200\nGET /checkout 500\npanic: runtime error: invalid memory address or nil pointer dereference\n\tat checkout.go:88',
      },
    });
    // Normal behaviour: small, smooth variations around a level (so the baseline has a spread).
    const wave = (at: number, period: number) => Math.sin(at / period);
    const prometheus = await createPrometheusStandIn({
      now: clock,
      resolve: (query) => {
        const environment = /env="([a-z]+)"/.exec(query)?.[1] ?? '';
        const isErrors = query.includes('http_requests_total');
        return (at) => {
          const release = holder.env ? releaseOf(holder.env, environment) : {};
          const custom = isErrors ? scenario.errors?.(environment, at, release) : scenario.latency?.(environment, at, release);
          return custom ?? (isErrors ? 0.01 + 0.001 * wave(at, 37 * 60_000) : 0.3 + 0.02 * wave(at, 53 * 60_000));
        };
      },
    });
    const advice: Stand['advice'] = [];
    const llm = await listenLoopback((request) => {
      advice.push({ authorization: request.headers.authorization, body: JSON.parse(request.body) as Stand['advice'][number]['body'] });
      return {
        status: 200,
        body: {
          id: 'chatcmpl-1',
          object: 'chat.completion',
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: 'A nil pointer in checkout.go:88 since this release: guard the missing cart.' },
              finish_reason: 'stop',
            },
          ],
        },
      };
    });
    // The example with the stand-ins' addresses instead of the cluster's.
    const dir = mkdtempSync(join(tmpdir(), 'staged-rollout-'));
    const source = readFileSync(new URL('./staged-rollout.ts', import.meta.url), 'utf8')
      .replace("'http://prometheus.monitoring.svc:9090'", JSON.stringify(prometheus.url))
      .replace("'http://llm.internal:8000/v1'", JSON.stringify(`${llm.url}/v1`));
    const file = join(dir, 'staged-rollout.ts');
    writeFileSync(file, source);
    const release = `# Written by AutoFlow: the release this environment runs.\nversion: "${PREVIOUS}"\nweight: 100\n`;
    const env = await createTestEnv({
      workflows: [file],
      gitlab: {
        users: ['autoflow-bot', 'dana', 'alice'],
        groups: [{ path: 'acme', members: { 'autoflow-bot': 'maintainer', dana: 'developer', alice: 'maintainer' } }],
        projects: [
          { path: APP, files: { 'src/checkout.ts': 'export const v = 1;\n' }, ci: [{ name: 'build', stage: 'build' }] },
          {
            path: MANIFESTS,
            files: Object.fromEntries(['preprod', 'staging', 'production'].map((name) => [`environments/${name}/release.yaml`, release])),
          },
        ],
      },
      secrets: { OPENAI_API_KEY: 'sk-test' },
      capabilities: [createKubernetesCapability({ server: kube.url, token: kube.token })],
    });
    holder.env = env;
    return new Stand(env, kube, prometheus, llm, advice, dir);
  }

  /** Dana's merge request is merged by Alice; its pipeline passes 12 minutes later. Returns the rollout's run. */
  async mergeAndBuild(
    change = { branch: 'faster-checkout', code: 'export const v = 2;\n' },
  ): Promise<{ runId: string; sha: string; mr: number }> {
    const { env } = this;
    const mr = await env.gitlab.actions.openMergeRequest('dana', APP, {
      sourceBranch: change.branch,
      title: 'Faster checkout',
      files: { 'src/checkout.ts': change.code },
    });
    await env.gitlab.actions.mergeMergeRequest('alice', APP, mr.iid);
    const sha = String(env.gitlab.mergeRequest(APP, mr.iid).merge_commit_sha);
    const { runs } = await env.operations.listRuns({ limit: 10 });
    const runId = runs.find(
      (run) => run.workflow === 'staged-rollout' && (run.input as unknown as MergeInput).data.object_attributes.iid === mr.iid,
    )?.id;
    assert.ok(runId, 'the merge started the rollout');
    const pipeline = [...env.gitlab.state.pipelines.values()].find((p) => p.sha === sha && p.source !== 'external');
    assert.ok(pipeline, 'the merge commit has a pipeline');
    await env.gitlab.actions.setPipelineStatus(APP, pipeline.id, 'running');
    await env.advance('12m');
    await env.gitlab.actions.setPipelineStatus(APP, pipeline.id, 'success');
    return { runId, sha, mr: mr.iid };
  }

  /** The messages of the manifests repository's commits to an environment's release file, oldest first. */
  deploys(environment: string): string[] {
    const project = this.env.gitlab.state.requireProject(MANIFESTS);
    return [...project.repository.commits.values()]
      .map((commit) => commit.message)
      .filter((message) => message.startsWith(`${environment}: `));
  }

  mrNotes(iid: number): string[] {
    return this.env.gitlab.notes(APP, { mergeRequest: iid }).map((note) => String(note.body));
  }

  async close(): Promise<void> {
    await this.env.close();
    await Promise.all([this.kube.close(), this.prometheus.close(), this.llm.close()]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe('staged-rollout', () => {
  test('a healthy release walks pre-production, staging and the production canary over two and a half days; an anomaly pauses it until resumed (by a resume sent after the pause)', async () => {
    const start = Date.parse('2026-01-05T09:00:00Z');
    // Staging's latency jumps for half an hour on its second day (below the threshold, far outside the baseline).
    const spike = { from: start + 24 * HOUR + 5 * HOUR, to: start + 24 * HOUR + 5.5 * HOUR };
    const stand = await Stand.create({
      latency: (environment, at) => (environment === 'staging' && at >= spike.from && at < spike.to ? 0.9 : undefined),
    });
    try {
      const { env } = stand;
      const { runId, sha, mr } = await stand.mergeAndBuild();
      // Sent long before any pause (by mistake, say): the engine keeps it, but it must not answer a later pause.
      await env.signal(runId, 'resume');
      const version = `v2026.01.05-${sha.slice(0, 8)}`;
      assert.ok(
        env.gitlab.state.releases.some((release) => release.tagName === version),
        'the release exists',
      );
      assert.deepEqual(releaseOf(env, 'preprod'), { version, weight: 100 });
      assert.deepEqual(releaseOf(env, 'staging'), { version: PREVIOUS, weight: 100 }, 'staging waits for the soak');

      await env.advance('1d1h');
      assert.deepEqual(releaseOf(env, 'staging'), { version, weight: 100 }, 'after a day in pre-production, staging');
      await env.advance('5h');
      const paused = stand.mrNotes(mr).find((body) => body.includes('Paused'));
      assert.ok(paused, stand.mrNotes(mr).join('\n---\n'));
      assert.match(paused, /@alice ⏸ \*\*Paused\*\* .* on staging/, 'who merged is asked');
      assert.match(paused, /p95 latency \(s\)\*\*: z-score \d+/);
      await env.advance('1h');
      assert.ok(!stand.mrNotes(mr).some((body) => body.includes('Resumed')), 'the early resume did not answer the pause');
      assert.equal(releaseOf(env, 'production').version, PREVIOUS, 'paused: nothing moves on');

      await env.signal(runId, 'resume');
      const run = await env.result(runId, '5d');
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      assert.deepEqual(run.result, { status: 'released', version });
      assert.deepEqual(releaseOf(env, 'production'), { version, weight: 100 });
      const logs = (await env.logs(runId)).filter((line) => line.startsWith('production at'));
      assert.deepEqual(
        logs,
        [10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((weight) => `production at ${weight}%`),
      );
      const days = (run.updatedAt - run.createdAt) / (24 * HOUR);
      assert.ok(days > 2 + 9 / 24 && days < 2.5, `two days of soak and nine canary hours (${days.toFixed(3)} days)`);
      assert.deepEqual(
        env.gitlab.issues(APP).filter((issue) => issue.labels.includes('incident')),
        [],
      );
      assert.ok(stand.mrNotes(mr).at(-1)?.includes('runs on all of production'));
      assert.equal(stand.advice.length, 0, 'no incident, no advice asked');
    } finally {
      await stand.close();
    }
  });

  test('a bad release breaches in the production canary: incident issue, rollback, diagnostics and advice, the incident kept up to date', async () => {
    // The new version fails requests once it takes 30 % of production's traffic.
    const stand = await Stand.create({
      errors: (environment, _at, release) =>
        environment === 'production' && release.version !== PREVIOUS && (release.weight ?? 0) >= 30 ? 0.18 : undefined,
    });
    try {
      const { env } = stand;
      const { runId, mr } = await stand.mergeAndBuild();
      const run = await env.result(runId, '5d');
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      const result = run.result as { status: string; stage: string; incident: number };
      assert.equal(result.status, 'rolled_back');
      assert.equal(result.stage, 'production');
      assert.deepEqual(releaseOf(env, 'production'), { version: PREVIOUS, weight: 100 }, 'production runs the previous release again');

      const incident = env.gitlab.issue(APP, result.incident);
      assert.deepEqual([...incident.labels].sort(), ['incident', 'rollout']);
      assert.match(String(incident.description), /error ratio\*\*: 0\.18 > 0\.05/);
      const notes = env.gitlab.notes(APP, { issue: result.incident }).map((note) => String(note.body));
      assert.equal(notes.length, 5, notes.join('\n---\n'));
      assert.match(notes[0] ?? '', new RegExp(`Rolling production back to ${PREVIOUS}`));
      assert.match(notes[1] ?? '', new RegExp(`production runs ${PREVIOUS} again`));
      assert.match(notes[2] ?? '', /Diagnostics[\s\S]*ReconciliationSucceeded[\s\S]*panic: runtime error/);
      assert.match(notes[3] ?? '', /Advice \(AI-generated[\s\S]*nil pointer in checkout.go:88/);
      assert.match(notes[4] ?? '', /healthy again after the rollback/);

      assert.equal(stand.advice.length, 1);
      assert.equal(stand.advice[0]?.authorization, 'Bearer sk-test');
      assert.match(stand.advice[0]?.body.messages[1]?.content ?? '', /panic: runtime error/);
      assert.ok(stand.mrNotes(mr).at(-1)?.includes(`see #${result.incident}`));
      // Flux applied the canary steps, then the rollback, in production.
      const production = stand.kube.reconciles.filter((r) => r.kind === 'Kustomization' && r.name === 'shop-production' && r.ok).length;
      assert.ok(production >= 4, `canary 10 %, 20 %, 30 % and the rollback were applied (${production})`);
    } finally {
      await stand.close();
    }
  });

  test('Flux fails to apply the 30 % step: handled like a breach — incident, production put back, the merge request told', async () => {
    const stand = await Stand.create({
      deployFails: (environment, release) => environment === 'production' && release.version !== PREVIOUS && (release.weight ?? 0) >= 30,
    });
    try {
      const { env } = stand;
      const { runId, mr } = await stand.mergeAndBuild();
      const run = await env.result(runId, '5d');
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      const result = run.result as { status: string; stage: string; incident: number };
      assert.deepEqual([result.status, result.stage], ['rolled_back', 'production']);
      assert.deepEqual(releaseOf(env, 'production'), { version: PREVIOUS, weight: 100 });

      const incident = env.gitlab.issue(APP, result.incident);
      assert.match(String(incident.description), /deploy\*\*: 30 %: production: Flux failed to apply .*HealthCheckFailed/);
      const notes = env.gitlab.notes(APP, { issue: result.incident }).map((note) => String(note.body));
      assert.match(notes[1] ?? '', new RegExp(`✅ production runs ${PREVIOUS} again`));
      assert.match(notes[2] ?? '', /Diagnostics[\s\S]*HealthCheckFailed/);
      assert.ok(stand.mrNotes(mr).at(-1)?.includes(`see #${result.incident}`));
    } finally {
      await stand.close();
    }
  });

  test('cancelled mid-canary: production is put back and the merge request says so', async () => {
    const stand = await Stand.create({});
    try {
      const { env } = stand;
      const { runId, mr } = await stand.mergeAndBuild();
      await env.advance('2d3h');
      assert.equal(releaseOf(env, 'production').weight, 30, 'in the canary');
      await env.cancel(runId, 'wrong release');
      await env.advance('5m');
      assert.equal((await env.run(runId)).status, 'cancelled');
      assert.deepEqual(releaseOf(env, 'production'), { version: PREVIOUS, weight: 100 });
      assert.match(
        stand.mrNotes(mr).at(-1) ?? '',
        new RegExp(`⏹ The run was cancelled: wrong release\\. production runs ${PREVIOUS} again`),
      );
    } finally {
      await stand.close();
    }
  });

  test('a rollback sent during a healthy canary step rolls production back at once', async () => {
    const stand = await Stand.create({});
    try {
      const { env } = stand;
      const { runId } = await stand.mergeAndBuild();
      await env.advance('2d2h');
      assert.equal(releaseOf(env, 'production').weight, 20, 'healthy, in the canary');
      await env.signal(runId, 'rollback');
      await env.advance('2m');
      assert.deepEqual(releaseOf(env, 'production'), { version: PREVIOUS, weight: 100 });
      const run = await env.result(runId, '1d');
      const result = run.result as { status: string; incident: number };
      assert.equal(result.status, 'rolled_back');
      assert.match(String(env.gitlab.issue(APP, result.incident).description), /operator\*\*: rollback requested/);
    } finally {
      await stand.close();
    }
  });

  test('a newer merge supersedes the older rollout: one rollout reaches production, never two taking turns', async () => {
    const stand = await Stand.create({});
    try {
      const { env } = stand;
      const older = await stand.mergeAndBuild();
      await env.advance('30m');
      const newer = await stand.mergeAndBuild({ branch: 'cheaper-checkout', code: 'export const v = 3;\n' });
      const newerVersion = `v2026.01.05-${newer.sha.slice(0, 8)}`;

      const olderRun = await env.result(older.runId, '1h');
      assert.deepEqual(olderRun.result, { status: 'superseded', version: `v2026.01.05-${older.sha.slice(0, 8)}`, by: newerVersion });
      assert.match(stand.mrNotes(older.mr).at(-1) ?? '', new RegExp(`superseded by ${newerVersion} \\(!${newer.mr}\\)`));
      const newerRun = await env.result(newer.runId, '5d');
      assert.deepEqual(newerRun.result, { status: 'released', version: newerVersion });
      assert.deepEqual(
        stand.deploys('production'),
        [10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((weight) => `production: ${newerVersion} at ${weight}%`),
      );
    } finally {
      await stand.close();
    }
  });

  test('superseded in the production canary, the older rollout puts production back before it stops', async () => {
    const stand = await Stand.create({});
    try {
      const { env } = stand;
      const older = await stand.mergeAndBuild();
      await env.advance('2d2h');
      assert.equal(releaseOf(env, 'production').weight, 20, 'the older release is in the canary');
      const newer = await stand.mergeAndBuild({ branch: 'cheaper-checkout', code: 'export const v = 3;\n' });
      await env.advance('2m');

      assert.equal((await env.run(older.runId)).status, 'completed');
      assert.deepEqual(releaseOf(env, 'production'), { version: PREVIOUS, weight: 100 }, 'no canary left behind');
      assert.match(stand.mrNotes(older.mr).at(-1) ?? '', new RegExp(`production runs ${PREVIOUS} again`));
      const newerRun = await env.result(newer.runId, '5d');
      assert.deepEqual(newerRun.result, { status: 'released', version: `v2026.01.07-${newer.sha.slice(0, 8)}` }, 'released two days later');
    } finally {
      await stand.close();
    }
  });
});
