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
  type StandInRequest,
  type StandInResponse,
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
  /** Answers in Prometheus's place (undefined: Prometheus answers), for what its stand-in cannot script. */
  prom?: (request: StandInRequest, env: TestEnv) => StandInResponse | undefined | Promise<StandInResponse | undefined>;
  /** Answers in the Kubernetes API's place (undefined: the API answers): refusals, failures, a request held. */
  kube?: (request: StandInRequest, env: TestEnv) => StandInResponse | undefined | Promise<StandInResponse | undefined>;
  /** Production's release file before the rollout. @default PREVIOUS on all traffic */
  production?: { version: string; weight: number };
}

const releaseFile = ({ version, weight }: { version: string; weight: number }): string =>
  `# Written by AutoFlow: the release this environment runs.\nversion: "${version}"\nweight: ${weight}\n`;

/** A server in front of `base` that lets `answer` reply first: the stand-ins with faults. */
async function interpose(
  base: string,
  answer: (request: StandInRequest) => StandInResponse | undefined | Promise<StandInResponse | undefined>,
): Promise<LoopbackServer> {
  return listenLoopback(async (request) => {
    const own = await answer(request);
    if (own) return own;
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(request.headers))
      if (typeof value === 'string' && key !== 'host' && key !== 'content-length') headers[key] = value;
    const response = await fetch(base + request.url.pathname + request.url.search, {
      method: request.method,
      headers,
      ...(request.method === 'GET' ? {} : { body: request.body }),
    });
    const text = await response.text();
    return { status: response.status, body: response.headers.get('content-type')?.includes('json') ? (JSON.parse(text) as unknown) : text };
  });
}

class Stand {
  private constructor(
    readonly env: TestEnv,
    readonly kube: KubernetesStandIn,
    readonly prometheus: PrometheusStandIn,
    readonly llm: LoopbackServer,
    readonly advice: Array<{ authorization: string | undefined; body: { messages: Array<{ content: string }> } }>,
    private readonly dir: string,
    private readonly proxies: LoopbackServer[],
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
    const env = (): TestEnv => {
      if (!holder.env) throw new Error('the test environment is not ready yet');
      return holder.env;
    };
    const { prom, kube: kubeAnswer } = scenario;
    const proxies = [
      ...(prom ? [await interpose(prometheus.url, (request) => prom(request, env()))] : []),
      ...(kubeAnswer ? [await interpose(kube.url, (request) => kubeAnswer(request, env()))] : []),
    ];
    const prometheusUrl = prom ? (proxies[0]?.url ?? '') : prometheus.url;
    const kubeUrl = kubeAnswer ? (proxies.at(-1)?.url ?? '') : kube.url;
    // The example with the stand-ins' addresses instead of the cluster's.
    const dir = mkdtempSync(join(tmpdir(), 'staged-rollout-'));
    const source = readFileSync(new URL('./staged-rollout.ts', import.meta.url), 'utf8')
      .replace("'http://prometheus.monitoring.svc:9090'", JSON.stringify(prometheusUrl))
      .replace("'http://llm.internal:8000/v1'", JSON.stringify(`${llm.url}/v1`));
    const file = join(dir, 'staged-rollout.ts');
    writeFileSync(file, source);
    const testEnv = await createTestEnv({
      workflows: [file],
      gitlab: {
        users: ['autoflow-bot', 'dana', 'alice'],
        groups: [{ path: 'acme', members: { 'autoflow-bot': 'maintainer', dana: 'developer', alice: 'maintainer' } }],
        projects: [
          { path: APP, files: { 'src/checkout.ts': 'export const v = 1;\n' }, ci: [{ name: 'build', stage: 'build' }] },
          {
            path: MANIFESTS,
            files: {
              'environments/preprod/release.yaml': releaseFile({ version: PREVIOUS, weight: 100 }),
              'environments/staging/release.yaml': releaseFile({ version: PREVIOUS, weight: 100 }),
              'environments/production/release.yaml': releaseFile(scenario.production ?? { version: PREVIOUS, weight: 100 }),
            },
          },
        ],
      },
      secrets: { OPENAI_API_KEY: 'sk-test-key' },
      capabilities: [createKubernetesCapability({ server: kubeUrl, token: kube.token })],
    });
    holder.env = testEnv;
    return new Stand(testEnv, kube, prometheus, llm, advice, dir, proxies);
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

  issueNotes(iid: number): string[] {
    return this.env.gitlab.notes(APP, { issue: iid }).map((note) => String(note.body));
  }

  async close(): Promise<void> {
    await this.env.close();
    await Promise.all([this.kube.close(), this.prometheus.close(), this.llm.close(), ...this.proxies.map((proxy) => proxy.close())]);
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
      assert.equal(stand.advice[0]?.authorization, 'Bearer sk-test-key');
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

/** The canary goes bad once it takes 30 % of production. */
const badFrom30: Scenario['errors'] = (environment, _at, release) =>
  environment === 'production' && release.version !== PREVIOUS && (release.weight ?? 0) >= 30 ? 0.18 : undefined;

const query = (request: StandInRequest): string => request.url.searchParams.get('query') ?? '';

/** Whether production runs something else than PREVIOUS now. */
const inCanary = (env: TestEnv): boolean => releaseOf(env, 'production').version !== PREVIOUS;

const kubeRefusal = (status: number, reason: string, message: string): StandInResponse => ({
  status,
  body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code: status },
});

describe('staged-rollout: what the audit of the canary found', () => {
  test('a query answering several series (one per pod) is refused, not judged by its first: the canary is put back and the merge request says to aggregate', async () => {
    const stand = await Stand.create({
      // In the canary, the error ratio `by (pod)`: one pod is fine, the other fails half its requests.
      prom: (request, env) => {
        if (request.url.pathname !== '/api/v1/query' || !query(request).includes('http_requests_total')) return undefined;
        if (!query(request).includes('env="production"') || !inCanary(env)) return undefined;
        const series = [0.01, 0.5].map((value, i) => ({ metric: { pod: `shop-${i}` }, value: [env.now() / 1000, String(value)] }));
        return { status: 200, body: { status: 'success', data: { resultType: 'vector', result: series } } };
      },
    });
    try {
      const { env } = stand;
      const { runId, mr } = await stand.mergeAndBuild();
      const run = await env.result(runId, '5d');
      assert.equal(run.status, 'failed');
      assert.deepEqual(releaseOf(env, 'production'), { version: PREVIOUS, weight: 100 }, 'the canary is put back');
      const last = stand.mrNotes(mr).at(-1) ?? '';
      assert.match(last, /⏹ The rollout failed: Prometheus: the query answered 2 series \(\{pod="shop-0"\}, \{pod="shop-1"\}\)/);
      assert.match(last, /aggregate it to one value/);
      assert.match(last, new RegExp(`production runs ${PREVIOUS} again`));
    } finally {
      await stand.close();
    }
  });

  test('a version a rollout left at 30 % is put back at 30 %, never sent to all of production as if it were known good', async () => {
    const unfinished = 'v2025.12.20-0ddba11e';
    const stand = await Stand.create({ production: { version: unfinished, weight: 30 }, errors: badFrom30 });
    try {
      const { env } = stand;
      const { runId, mr } = await stand.mergeAndBuild();
      const run = await env.result(runId, '5d');
      const result = run.result as { status: string; incident: number };
      assert.equal(result.status, 'rolled_back');
      assert.deepEqual(releaseOf(env, 'production'), { version: unfinished, weight: 30 }, 'as before this rollout');
      assert.match(
        stand.mrNotes(mr).find((body) => body.includes('goes to production')) ?? '',
        new RegExp(`⚠️ production runs ${unfinished} at 30 %, a rollout that did not finish`),
        'said before the canary starts',
      );
      const notes = stand.issueNotes(result.incident);
      assert.match(notes[0] ?? '', new RegExp(`Rolling production back to ${unfinished} at 30 %`));
      assert.match(
        notes[1] ?? '',
        new RegExp(`production runs ${unfinished} at 30 % again, as before this rollout. ⚠️ That rollout did not finish`),
      );
      assert.equal(stand.deploys('production').at(-1), `production: roll back to ${unfinished} at 30%`);
    } finally {
      await stand.close();
    }
  });

  test('cancelled while the breach rollback is under way: production is still put back and the merge request gets the ⏹', async () => {
    // The rollback's first look at the Kustomization is held until the run is cancelled.
    let held: (() => void) | undefined;
    let hold: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => (hold = resolve));
    const stand = await Stand.create({
      errors: badFrom30,
      kube: async (request, env) => {
        const rollingBack = env.gitlab.issues(APP).length > 0 && request.url.pathname.endsWith('/kustomizations/shop-production');
        if (!rollingBack || request.method !== 'GET' || held !== undefined) return undefined;
        const released = new Promise<void>((resolve) => (held = resolve));
        hold();
        await released;
        return undefined;
      },
    });
    try {
      const { env } = stand;
      const { runId, mr } = await stand.mergeAndBuild();
      const done = env.result(runId, '5d');
      await reached;
      assert.equal(releaseOf(env, 'production').weight, 30, 'the bad canary still runs');
      // Recorded while the request is held; `env.cancel` would also wait for the run to settle, which
      // it cannot while the held request keeps the rollback's next calls queued behind it.
      await env.operations.cancelRun(runId, 'operator cancels');
      held?.();
      const run = await done;
      assert.equal(run.status, 'cancelled');
      assert.deepEqual(releaseOf(env, 'production'), { version: PREVIOUS, weight: 100 });
      assert.match(
        stand.mrNotes(mr).at(-1) ?? '',
        new RegExp(`⏹ The run was cancelled: operator cancels\\. production runs ${PREVIOUS} again`),
      );
    } finally {
      await stand.close();
    }
  });

  test('a rollback whose reconcile request is refused (409) is reported as not done, on the merge request and in the incident', async () => {
    let canarySeen = false;
    const stand = await Stand.create({
      errors: badFrom30,
      kube: (request, env) => {
        if (inCanary(env)) canarySeen = true;
        return canarySeen && !inCanary(env) && request.method === 'PATCH'
          ? kubeRefusal(409, 'Conflict', 'the object has been modified')
          : undefined;
      },
    });
    try {
      const { env } = stand;
      const { runId, mr } = await stand.mergeAndBuild();
      const run = await env.result(runId, '5d');
      const result = run.result as { status: string; incident: number };
      assert.equal(result.status, 'rollback_failed');
      const last = stand.mrNotes(mr).at(-1) ?? '';
      assert.match(
        last,
        /⚠️ .* was stopped on production, but the rollback did not complete: Putting production back on .* failed \(.*409/,
      );
      assert.doesNotMatch(last, /was rolled back/);
      const notes = stand.issueNotes(result.incident);
      assert.ok(!notes.some((body) => body.includes('healthy again')), notes.join('\n---\n'));
      assert.match(
        notes.at(-1) ?? '',
        /⚠️ The rollback did not complete, so the metrics .* do not show that it worked: check what production runs by hand/,
      );
    } finally {
      await stand.close();
    }
  });

  test('diagnostics that cannot be read (no RBAC for pods) are noted in the incident; the rollback is reported all the same', async () => {
    const stand = await Stand.create({
      errors: badFrom30,
      kube: (request) =>
        request.url.pathname.endsWith('/pods')
          ? kubeRefusal(403, 'Forbidden', 'pods is forbidden: cannot list resource "pods"')
          : undefined,
    });
    try {
      const { env } = stand;
      const { runId, mr } = await stand.mergeAndBuild();
      const run = await env.result(runId, '5d');
      assert.equal(run.status, 'completed', JSON.stringify(run.error));
      const result = run.result as { status: string; incident: number };
      assert.equal(result.status, 'rolled_back');
      assert.deepEqual(releaseOf(env, 'production'), { version: PREVIOUS, weight: 100 });
      const diagnostics = stand.issueNotes(result.incident).find((body) => body.includes('Diagnostics')) ?? '';
      assert.match(diagnostics, /ReconciliationSucceeded/, 'what could be read is there');
      assert.match(diagnostics, /\*\*Not available\*\*\n- pods in shop-production: .*403.*pods is forbidden/);
      assert.match(stand.issueNotes(result.incident).at(-1) ?? '', /healthy again after the rollback/);
      assert.match(stand.mrNotes(mr).at(-1) ?? '', new RegExp(`⛔ .* was rolled back on production: see #${result.incident}`));
    } finally {
      await stand.close();
    }
  });

  test('the answer to the release POST is lost: the retry finds the release this run made and the rollout goes on', async () => {
    const stand = await Stand.create({});
    try {
      const { env } = stand;
      env.gitlab.faults.add({ kind: 'lose_response', method: 'POST', path: '/api/v4/projects/*/releases', times: 1 });
      const { runId, sha } = await stand.mergeAndBuild();
      await env.advance('5m');
      const version = `v2026.01.05-${sha.slice(0, 8)}`;
      assert.equal((await env.run(runId)).status, 'running', JSON.stringify((await env.run(runId)).error));
      assert.deepEqual(
        env.gitlab.state.releases.map((release) => release.tagName),
        [version],
      );
      assert.deepEqual(releaseOf(env, 'preprod'), { version, weight: 100 });
    } finally {
      await stand.close();
    }
  });

  test('no baseline for production: the rollout pauses before the canary and asks, instead of watching without anomaly detection', async () => {
    const stand = await Stand.create({
      prom: (request) =>
        request.url.pathname === '/api/v1/query_range' && query(request).includes('env="production"')
          ? { status: 200, body: { status: 'success', data: { resultType: 'matrix', result: [] } } }
          : undefined,
    });
    try {
      const { env } = stand;
      const { runId, mr } = await stand.mergeAndBuild();
      await env.advance('2d1h');
      const paused = stand.mrNotes(mr).at(-1) ?? '';
      assert.match(paused, /⏸ \*\*Paused\*\* .* on production: no baseline to compare with, before deploying/);
      assert.match(
        paused,
        /error ratio\*\*: no baseline \(0 samples, 3 needed\): anomaly detection is off, only its hard limits \(max 0\.05\) would judge it/,
      );
      assert.ok((await env.logs(runId)).some((line) => line.includes('production: error ratio: no baseline')));
      assert.deepEqual(releaseOf(env, 'production'), { version: PREVIOUS, weight: 100 }, 'nothing deployed while paused');

      await env.signal(runId, 'resume');
      const run = await env.result(runId, '1d');
      assert.equal((run.result as { status: string }).status, 'released', 'a person chose to go on with the hard limits');
    } finally {
      await stand.close();
    }
  });

  test('a failure before the first deploy of a stage (the baseline query refused) still comments ⏹ on the merge request', async () => {
    const stand = await Stand.create({
      prom: (request) =>
        request.url.pathname === '/api/v1/query_range' && query(request).includes('env="production"')
          ? { status: 200, body: { status: 'error', errorType: 'execution', error: 'many-to-many matching not allowed' } }
          : undefined,
    });
    try {
      const { env } = stand;
      const { runId, mr } = await stand.mergeAndBuild();
      const run = await env.result(runId, '5d');
      assert.equal(run.status, 'failed');
      assert.deepEqual(releaseOf(env, 'production'), { version: PREVIOUS, weight: 100 });
      assert.match(
        stand.mrNotes(mr).at(-1) ?? '',
        /⏹ The rollout failed: Prometheus: many-to-many matching not allowed .*\. No stage was being changed at that moment\./,
      );
    } finally {
      await stand.close();
    }
  });
});
