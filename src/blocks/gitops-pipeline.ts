import { now, sleep, waitFor, type EventOf } from '../sdk/durable.js';
import { gitlab } from '../sdk/gitlab.js';
import type { Job, Pipeline } from '../sdk/gitlab-types.js';
import { STATUS_PREFIX } from './gitops-report.js';
import { Wakeups } from './wakeups.js';

/**
 * Waiting for a commit's pipeline, and noticing that a newer commit took the watched ref.
 *
 * Webhooks wake the gate (`pipeline_*` for the sha, `push`/`tag_push` for the ref); every wake-up,
 * and a poll every `pollMs` in case a webhook is lost, reads the truth from the API. Events only
 * say *when* to look, never *what* is true — so a lost, duplicated or reordered webhook changes
 * nothing but latency.
 */

export interface RefWatch {
  /** Waits whose resolution may mean a newer commit (to race with whatever the gate waits for; see `Wakeups`). */
  sources(): Record<string, () => Promise<unknown>>;
  /** The newer commit, when one took the ref; `woke` is what the last race resolved with. */
  newer(woke?: { key: string; value: unknown }): Promise<string | undefined>;
}

const ZERO_SHA = /^0+$/;

function tagGlob(pattern: string): RegExp {
  return new RegExp(
    `^${pattern
      .replace(/[\\^$.|+()[\]{}]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

/** A branch is superseded when its head is no longer the commit: Flux would deploy the head, not us. */
export function branchWatch(project: string, branch: string, sha: string): RefWatch {
  return {
    sources: () => ({
      push: () => waitFor('com.gitlab.events.push', { match: { 'project.path_with_namespace': project, ref: `refs/heads/${branch}` } }),
    }),
    async newer() {
      const head = await gitlab.request<{ commit: { id: string } }>(
        'GET',
        `/projects/${encodeURIComponent(project)}/repository/branches/${encodeURIComponent(branch)}`,
      );
      return head.commit.id === sha ? undefined : head.commit.id;
    },
  };
}

interface TagPush {
  ref: string;
  checkout_sha: string | null;
  after: string;
}

/** A tag gate is superseded by a later push of another tag matching the pattern. */
export function tagWatch(project: string, pattern: string, sha: string, since: number): RefWatch {
  const matcher = tagGlob(pattern);
  let newer: string | undefined;
  return {
    sources: () => ({ tag: () => waitFor('com.gitlab.events.tag_push', { match: { 'project.path_with_namespace': project } }) }),
    newer(woke) {
      if (newer === undefined && woke?.key === 'tag' && woke.value) {
        const event = woke.value as EventOf<TagPush>;
        const data = event.data;
        const at = event.time === undefined ? Number.POSITIVE_INFINITY : Date.parse(event.time);
        const target = data?.checkout_sha ?? data?.after ?? '';
        if (data && matcher.test(data.ref.replace(/^refs\/tags\//, '')) && !ZERO_SHA.test(target) && target !== sha && at > since)
          newer = target;
      }
      return Promise.resolve(newer);
    },
  };
}

export type PipelineVerdict = 'success' | 'failed' | 'canceled' | 'running' | 'none';

/**
 * The verdict on a commit's CI, from its newest pipeline (not the `external` ones that commit
 * statuses create). Our own statuses are attached to that pipeline and move its status, so when the
 * pipeline is not plainly green the jobs decide, ours left out: GitLab's retry does not retry
 * external statuses, and a failed `autoflow/gitops` status must not block the retried pipeline.
 */
export async function verdictOf(project: string, sha: string): Promise<{ verdict: PipelineVerdict; pipeline?: Pipeline }> {
  const pipelines = (await gitlab.pipelines.list(project, { sha }, { perPage: 50 })).items.filter((p) => p.source !== 'external');
  const pipeline = pipelines.sort((a, b) => b.id - a.id)[0];
  if (!pipeline) return { verdict: 'none' };
  if (pipeline.status === 'success') return { verdict: 'success', pipeline };
  const jobs = (await gitlab.jobs.list({ project, pipelineId: pipeline.id }, undefined, { all: true })).filter(
    (job: Job) => !job.name.startsWith(STATUS_PREFIX),
  );
  if (jobs.length === 0) {
    const verdict =
      pipeline.status === 'failed' || pipeline.status === 'canceled'
        ? pipeline.status
        : pipeline.status === 'skipped'
          ? 'failed'
          : 'running';
    return { verdict, pipeline };
  }
  if (jobs.some((job) => ['created', 'pending', 'running', 'waiting_for_resource', 'preparing', 'scheduled'].includes(job.status))) {
    return { verdict: 'running', pipeline };
  }
  if (jobs.some((job) => job.status === 'failed' && !job.allow_failure)) return { verdict: 'failed', pipeline };
  if (jobs.some((job) => job.status === 'canceled')) return { verdict: 'canceled', pipeline };
  return { verdict: 'success', pipeline };
}

export type PipelineOutcome =
  | { kind: 'success'; pipeline: Pipeline }
  | { kind: 'failed'; pipeline: Pipeline; verdict: 'failed' | 'canceled' }
  | { kind: 'timeout'; pipeline?: Pipeline }
  | { kind: 'superseded'; by: string };

export interface PipelineWaitOptions {
  project: string;
  sha: string;
  watch: RefWatch;
  /** Shared with the rest of the workflow, so that its parked waits are reused. @default a new one */
  wakeups?: Wakeups;
  timeoutMs: number;
  retryWindowMs: number;
  pollMs: number;
  /** Called once when the pipeline fails or is cancelled (the gate reports it), before the retry window. */
  onRed(pipeline: Pipeline, verdict: 'failed' | 'canceled'): Promise<void>;
  /** Called when a red pipeline runs again within the retry window. */
  onRetried(pipeline: Pipeline): Promise<void>;
}

export async function awaitPipeline(options: PipelineWaitOptions): Promise<PipelineOutcome> {
  const { project, sha, watch } = options;
  const wakeups = options.wakeups ?? new Wakeups();
  const deadline = now().getTime() + options.timeoutMs;
  let redSince: number | undefined;
  const match = { 'object_attributes.sha': sha, 'project.path_with_namespace': project };
  for (;;) {
    const { verdict, pipeline } = await verdictOf(project, sha);
    const at = now().getTime();
    if (verdict === 'success' && pipeline) return { kind: 'success', pipeline };
    if ((verdict === 'failed' || verdict === 'canceled') && pipeline) {
      if (redSince === undefined) {
        redSince = at;
        await options.onRed(pipeline, verdict);
      }
      if (at >= redSince + options.retryWindowMs) return { kind: 'failed', pipeline, verdict };
    } else if (verdict === 'running' && redSince !== undefined && pipeline) {
      redSince = undefined;
      await options.onRetried(pipeline);
    }
    const until = redSince === undefined ? deadline : redSince + options.retryWindowMs;
    if (redSince === undefined && at >= deadline) return { kind: 'timeout', ...(pipeline ? { pipeline } : {}) };
    const woke = await wakeups.next({
      succeeded: () => waitFor('com.gitlab.events.pipeline_succeeded', { match }),
      failed: () => waitFor('com.gitlab.events.pipeline_failed', { match }),
      canceled: () => waitFor('com.gitlab.events.pipeline_canceled', { match }),
      // A retry moves a red pipeline back to pending/running: only worth waking for when red.
      ...(redSince === undefined
        ? {}
        : {
            pending: () => waitFor('com.gitlab.events.pipeline_pending', { match }),
            running: () => waitFor('com.gitlab.events.pipeline_running', { match }),
          }),
      ...watch.sources(),
      poll: () => sleep(options.pollMs),
      [`until:${until}`]: () => sleep.until(until),
    });
    const newer = await watch.newer(woke);
    if (newer !== undefined) return { kind: 'superseded', by: newer };
  }
}
