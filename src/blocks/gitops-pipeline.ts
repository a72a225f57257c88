import type { CallOptions } from '../core/model.js';
import { now, sleep, waitFor, type EventOf } from '../sdk/durable.js';
import { gitlab } from '../sdk/gitlab.js';
import type { Job, Pipeline } from '../sdk/gitlab-types.js';
import { log } from '../sdk/log.js';
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
  /** The newer commit, when one took the ref; `woke` is what the last race resolved with; `call` the options of a read it makes. */
  newer(woke?: { key: string; value: unknown }, call?: CallOptions): Promise<string | undefined>;
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
    async newer(_woke, call) {
      const head = await gitlab.request<{ commit: { id: string } }>(
        'GET',
        `/projects/${encodeURIComponent(project)}/repository/branches/${encodeURIComponent(branch)}`,
        undefined,
        call,
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

export type PipelineVerdict = 'success' | RedVerdict | 'blocked' | 'running' | 'none';
/** A pipeline that will not turn green by itself: only a retry (within the retry window) can. */
export type RedVerdict = 'failed' | 'canceled' | 'skipped';

/**
 * What a GitLab pipeline status means for the gate. Green is `success` and nothing else: GitLab
 * already counts jobs that may fail, and manual jobs that may be skipped (`allow_failure`), as
 * passed. `manual` is a pipeline blocked at a manual job (not green yet); `canceling`, the
 * `waiting_*` states and any status GitLab adds later are still on their way.
 */
export function verdictOfStatus(status: string): Exclude<PipelineVerdict, 'none'> {
  if (status === 'success' || status === 'failed' || status === 'canceled' || status === 'skipped') return status;
  return status === 'manual' ? 'blocked' : 'running';
}

/** A job as `Gitlab::Ci::Status::Composite` sees it: allowed failures pass with warnings, allowed manual jobs are ignored. */
function compositeKind(job: Pick<Job, 'status' | 'allow_failure'>): string {
  if (job.allow_failure && (job.status === 'failed' || job.status === 'canceled')) return 'warning';
  if (job.allow_failure && job.status === 'manual') return 'ignored';
  return job.status;
}

const UNFINISHED = ['created', 'preparing', 'pending', 'running', 'waiting_for_resource', 'waiting_for_callback', 'scheduled', 'canceling'];

/**
 * The status GitLab composes from a pipeline's jobs (`Gitlab::Ci::Status::Composite`), to the
 * precision the gate needs: which verdict it leads to. Unknown job statuses end as `failed`, as
 * in GitLab.
 */
export function compositeStatus(jobs: ReadonlyArray<Pick<Job, 'status' | 'allow_failure'>>): string {
  const kinds = new Set(jobs.map(compositeKind));
  const only = (...names: string[]): boolean => kinds.size > 0 && [...kinds].every((kind) => names.includes(kind));
  if (kinds.size === 0 || only('skipped', 'ignored')) return 'skipped';
  if (only('success', 'skipped', 'warning', 'ignored')) return 'success';
  if (only('canceled', 'success', 'skipped', 'warning', 'ignored')) return 'canceled';
  if (UNFINISHED.some((status) => kinds.has(status))) return 'running';
  return kinds.has('manual') ? 'manual' : 'failed';
}

/**
 * The verdict on a commit's CI: its newest pipeline on `ref` — the watched branch or tag; a green
 * pipeline of the same commit on another branch says nothing about this one — and not the
 * `external` pipelines that commit statuses create. GitLab's status decides, unless a gate's own
 * commit statuses may sit in the pipeline (`gateStatusesIn`: its id, or `any`) and it is not
 * `success`: a gate's `pending`/`running` status holds a green pipeline at running, its `failed`
 * holds a retried one at failed (GitLab does not retry external statuses). There the jobs decide,
 * composed as GitLab does; `/jobs` lists builds only, so no commit status is among them.
 */
export async function verdictOf(
  project: string,
  sha: string,
  { ref, gateStatusesIn, call }: { ref?: string | undefined; gateStatusesIn?: number | 'any' | undefined; call?: CallOptions } = {},
): Promise<{ verdict: Exclude<PipelineVerdict, 'none'>; pipeline: Pipeline } | { verdict: 'none'; pipeline?: undefined }> {
  const listed = await gitlab.pipelines.list(project, { sha, ...(ref === undefined ? {} : { ref }) }, { perPage: 50, ...call });
  const pipeline = listed.items.filter((candidate) => candidate.source !== 'external').sort((a, b) => b.id - a.id)[0];
  if (!pipeline) return { verdict: 'none' };
  const statusDecides = pipeline.status === 'success' || (gateStatusesIn !== 'any' && gateStatusesIn !== pipeline.id);
  if (statusDecides) return { verdict: verdictOfStatus(pipeline.status), pipeline };
  const jobs = await gitlab.jobs.list({ project, pipelineId: pipeline.id }, undefined, { all: true, ...call });
  return { verdict: verdictOfStatus(compositeStatus(jobs)), pipeline };
}

/**
 * Retries of one GitLab read made while waiting: about a minute, then the read waits for the next
 * wake-up (`readWhileWaiting`). The engine's default (10 attempts, ≈13.5 min) would end a gate that
 * waits hours at the first longer outage.
 */
const WAITING_READ: CallOptions = { retry: { maxAttempts: 5, initialInterval: 2_000, maxInterval: 30_000 } };

/**
 * A read the gate makes while it waits, with `WAITING_READ` retries. When GitLab is still
 * unavailable after them, the failure goes to the run's log and the wait goes on (`undefined`):
 * the next wake-up reads again, so an outage costs latency, not the gate. Other failures (403,
 * 404…) would not heal by waiting and fail the run.
 */
export async function readWhileWaiting<T>(what: string, read: (call: CallOptions) => Promise<T>): Promise<T | undefined> {
  const outcome = await attemptWhileWaiting(what, read, 'at the next wake-up');
  return outcome.read ? outcome.value : undefined;
}

/** How long a read the gate cannot go on without waits after GitLab was still unavailable (`readThroughOutage`). */
const OUTAGE_PAUSE = '1m';

/**
 * A read the gate cannot go on without (the deploy freezes and the ref's head, right before a sync), with
 * `WAITING_READ` retries. GitLab still unavailable after them: logged, and read again a minute later, for as long
 * as the outage lasts; the gate waits to deploy anyway, and an approval given just before must not be lost to it.
 */
export async function readThroughOutage<T>(what: string, read: (call: CallOptions) => Promise<T>): Promise<T> {
  for (;;) {
    const outcome = await attemptWhileWaiting(what, read, `in ${OUTAGE_PAUSE}`);
    if (outcome.read) return outcome.value;
    await sleep(OUTAGE_PAUSE);
  }
}

async function attemptWhileWaiting<T>(
  what: string,
  read: (call: CallOptions) => Promise<T>,
  again: string,
): Promise<{ read: true; value: T } | { read: false }> {
  try {
    return { read: true, value: await read(WAITING_READ) };
  } catch (error) {
    if ((error as Error).name !== 'GitLabUnavailableError') throw error;
    log.warn(`${what} failed, trying again ${again}: ${(error as Error).message}`);
    return { read: false };
  }
}

export type PipelineOutcome =
  | { kind: 'success'; pipeline: Pipeline }
  | { kind: 'failed'; pipeline: Pipeline; verdict: RedVerdict }
  /** `gitlabUnavailable`: the last read failed (the run's log says why). */
  | { kind: 'timeout'; pipeline?: Pipeline; gitlabUnavailable?: true }
  | { kind: 'superseded'; by: string };

export interface PipelineWaitOptions {
  project: string;
  sha: string;
  /**
   * The watched branch or tag: only its pipelines count. Give it: without it, a green pipeline of
   * the same commit on any other branch passes. @default every ref
   */
  ref?: string;
  watch: RefWatch;
  /** Shared with the rest of the workflow, so that its parked waits are reused. @default a new one */
  wakeups?: Wakeups;
  timeoutMs: number;
  retryWindowMs: number;
  pollMs: number;
  /** Called once when the pipeline fails, is cancelled or skipped (the gate reports it), before the retry window. */
  onRed(pipeline: Pipeline, verdict: RedVerdict): Promise<void>;
  /**
   * Called when a red pipeline runs again within the retry window. `inPlace`: GitLab retried the
   * red pipeline itself (same id; the gate's statuses are in it). Otherwise a new pipeline of the
   * commit replaced it (`replaced`, which stays red with whatever `onRed` put in it).
   */
  onRetried(pipeline: Pipeline, how: { inPlace: boolean; replaced: Pipeline }): Promise<void>;
}

const isRed = (verdict: PipelineVerdict): verdict is RedVerdict => verdict === 'failed' || verdict === 'canceled' || verdict === 'skipped';

/**
 * Waits for the commit's pipeline on `ref` to pass, until `timeoutMs`; a red one may still turn
 * green within `retryWindowMs`; a newer commit on the ref ends the wait. Every decision is logged.
 */
export async function awaitPipeline(options: PipelineWaitOptions): Promise<PipelineOutcome> {
  const { project, sha, ref, watch } = options;
  const wakeups = options.wakeups ?? new Wakeups();
  const deadline = now().getTime() + options.timeoutMs;
  const short = sha.slice(0, 8);
  const on = ref ?? 'any ref';
  let redSince: number | undefined;
  /** The red pipeline `onRed` was told of, which holds the gate's `failed` statuses. */
  let red: Pipeline | undefined;
  let last: Awaited<ReturnType<typeof verdictOf>> | undefined;
  const match = {
    'object_attributes.sha': sha,
    ...(ref === undefined ? {} : { 'object_attributes.ref': ref }),
    'project.path_with_namespace': project,
  };
  for (;;) {
    const read = await readWhileWaiting(`reading the pipeline of ${short} on ${on}`, (call) =>
      verdictOf(project, sha, { ref, gateStatusesIn: red?.id, call }),
    );
    if (read && read.verdict !== last?.verdict) logVerdict(read, on, short);
    last = read ?? last;
    const at = now().getTime();
    if (read?.verdict === 'success') return { kind: 'success', pipeline: read.pipeline };
    if (read?.pipeline && isRed(read.verdict)) {
      if (redSince === undefined) {
        redSince = at;
        red = read.pipeline;
        await options.onRed(read.pipeline, read.verdict);
      }
      if (at >= redSince + options.retryWindowMs) return { kind: 'failed', pipeline: read.pipeline, verdict: read.verdict };
    } else if (read?.pipeline && redSince !== undefined && red !== undefined) {
      redSince = undefined;
      // "Retry" re-runs the red pipeline's jobs; "Run pipeline" (or a new push of the sha) makes a new one.
      const inPlace = read.pipeline.id === red.id;
      log.info(
        inPlace
          ? `pipeline #${read.pipeline.id} of ${short} was retried within the retry window: waiting for it again`
          : `pipeline #${red.id} of ${short} was replaced by a new pipeline #${read.pipeline.id} within the retry window: waiting for that one`,
      );
      await options.onRetried(read.pipeline, { inPlace, replaced: red });
    }
    const until = redSince === undefined ? deadline : redSince + options.retryWindowMs;
    if (redSince === undefined && at >= deadline) {
      log.info(`no green pipeline for ${short} on ${on} within the pipeline timeout`);
      return {
        kind: 'timeout',
        ...(last?.pipeline ? { pipeline: last.pipeline } : {}),
        ...(read ? {} : { gitlabUnavailable: true as const }),
      };
    }
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
    const newer = await readWhileWaiting(`reading the head of ${on}`, (call) => watch.newer(woke, call));
    if (newer !== undefined) {
      log.info(`${on} moved on to ${newer.slice(0, 8)}: ${short} is superseded before its pipeline finished`);
      return { kind: 'superseded', by: newer };
    }
  }
}

function logVerdict(read: Awaited<ReturnType<typeof verdictOf>>, ref: string, short: string): void {
  if (read.verdict === 'none') {
    log.info(`no pipeline for ${short} on ${ref} yet`);
    return;
  }
  const which = `pipeline #${read.pipeline.id} of ${short} on ${ref}`;
  const said: Record<Exclude<PipelineVerdict, 'none'>, string> = {
    success: 'passed',
    failed: 'failed',
    canceled: 'was canceled',
    skipped: 'was skipped: nothing ran, so nothing passed',
    blocked: 'waits at a manual job: not green until someone runs it',
    running: `is ${read.pipeline.status}`,
  };
  log.info(`${which} ${said[read.verdict]}`);
}
