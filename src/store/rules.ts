/**
 * Rules of the Store contract that do not depend on how rows are kept, shared by every
 * implementation so that they cannot drift apart.
 */
import { StoreError } from '../core/errors.js';
import type { NewRun, Resolution, RunStatus } from '../core/model.js';
import { TERMINAL_STATUSES } from '../core/model.js';
import type { BusyWorkflows, RunRetry, Store, TaskCommit } from '../core/ports.js';

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Runs of a concurrency group in these statuses hold one of its slots (a stuck run resumes once fixed). */
export const SLOT_HOLDING_STATUSES: readonly RunStatus[] = ['running', 'stuck'];

/**
 * Whether a run whose status goes from `before` to `after` frees a slot of its concurrency group, so that the oldest
 * queued run of the group starts in the same transaction. A run that continues as new does not: its successor, created
 * in the same commit, keeps the slot.
 */
export function freesSlot(before: RunStatus, after: RunStatus): boolean {
  return SLOT_HOLDING_STATUSES.includes(before) && isTerminal(after) && after !== 'continued';
}

/**
 * Whether a new run of a concurrency group waits, queued: when `taken` runs of the group hold its slots and its `limit`
 * allows no more, or when runs of the group wait already (`oldestWaiting`, the first of them) — first come, first
 * served, also when a deploy raised the limit of the newer runs.
 */
export function queueBehind(taken: number, limit: number, oldestWaiting: object | undefined): boolean {
  return taken >= limit || oldestWaiting !== undefined;
}

/** The cancel a run of `queue: 'latest'` gives the runs of its group queued before it, as it queues. */
export function supersededCancel(runId: string): Resolution {
  return { kind: 'cancel', reason: `superseded by run ${runId}, queued after it (concurrency queue: 'latest')` };
}

/** A run of a concurrency group that holds one of its slots or waits for one, as `cancelInProgress` weighs it. */
export interface GroupMember {
  id: string;
  status: RunStatus;
  /** Asked to cancel already: it is on its way out, and gives back any slot it holds once its cleanup has run. */
  cancelling: boolean;
}

/**
 * The runs a new run of `cancelInProgress` asks to cancel, so that the newest `limit` runs of its group are the ones
 * that run (`members`: the other runs of the group holding a slot or queued, oldest first). Of those not asked before,
 * the oldest go until the new run is among the newest `limit`: a running one runs its cleanup, a queued one ends without
 * its code. A stuck run stays (its code cannot run a cleanup; an operator ends it), and the next oldest goes instead.
 */
export function supersededByNewest(members: readonly GroupMember[], limit: number): string[] {
  const live = members.filter((member) => !member.cancelling);
  const excess = live.length + 1 - limit;
  return live
    .filter((member) => member.status !== 'stuck')
    .slice(0, Math.max(0, excess))
    .map((member) => member.id);
}

/** The cancel a run of `cancelInProgress` gives the older runs of its group it supersedes (supersededByNewest). */
export function cancelledInProgress(runId: string): Resolution {
  return { kind: 'cancel', reason: `superseded by run ${runId} of the same concurrency group (concurrency cancelInProgress)` };
}

/**
 * Whether a run that exists is the child a commit asks for: its parent's child of the same step. A task
 * committed again starts its children again and must find them its own; any other run holding the id
 * fails the child's start (TaskCommit.children).
 */
export function isSameChild(existing: { parentId?: string; parentStep?: number }, child: NewRun): boolean {
  return existing.parentId === child.parentId && existing.parentStep === child.parentStep;
}

/**
 * Checks what a commit says about itself before anything is written: its history must continue
 * the run's history without a gap, the rows it adds must belong to its run, and a run it creates
 * must be that run, with no history yet. A violation is an engine bug, reported as such.
 */
export function checkTaskCommit(commit: TaskCommit): void {
  if (commit.create && (commit.create.run.id !== commit.runId || commit.expectedHistoryLength !== 0)) {
    throw new StoreError(
      `commit for run '${commit.runId}' creates run '${commit.create.run.id}' at history length ${commit.expectedHistoryLength}: ` +
        'a commit may only create its own run, as its first task (this is an engine bug)',
      { details: { runId: commit.runId, createdRunId: commit.create.run.id } },
    );
  }
  const rows = [...commit.calls, ...commit.timers, ...commit.waits, ...commit.logs];
  const foreign = rows.find((row) => row.runId !== commit.runId);
  if (foreign) {
    throw new StoreError(
      `commit for run '${commit.runId}' adds a row of run '${foreign.runId}': a task may only add calls, ` +
        'timers, waits and logs of its own run (this is an engine bug)',
      { details: { runId: commit.runId, foreignRunId: foreign.runId } },
    );
  }
  commit.history.forEach((event, i) => {
    const expected = commit.expectedHistoryLength + i;
    if (event.seq !== expected) {
      throw new StoreError(
        `commit for run '${commit.runId}' has history event ${i} with seq ${event.seq}, expected ${expected}: ` +
          'history seqs must continue from expectedHistoryLength (this is an engine bug)',
        { details: { runId: commit.runId, index: i, seq: event.seq, expected } },
      );
    }
  });
}

/**
 * Checks what a retry says about itself before anything is written: the calls, timers and waits it
 * opens again must belong to its run, and its retry point must be a history position. A violation
 * is an engine bug, reported as such.
 */
export function checkRunRetry(retry: RunRetry): void {
  const keep = retry.keepHistoryLength;
  if (!Number.isInteger(keep) || keep < 0) throw retryPointError(retry);
  const foreign = [...retry.calls, ...retry.timers, ...retry.waits].find((row) => row.runId !== retry.runId);
  if (foreign) {
    throw new StoreError(
      `retry of run '${retry.runId}' adds a row of run '${foreign.runId}': a retry may only open calls, ` +
        'timers and waits of its own run (this is an engine bug)',
      { details: { runId: retry.runId, foreignRunId: foreign.runId } },
    );
  }
}

/**
 * Whether a retried run needs a workflow task at once: it has resolutions to receive, or starts
 * over, or it was stuck (what reached it meanwhile waits in its mailbox, and a claim rebuilds its
 * sandbox). Otherwise it becomes ready when what it opened again (a call, timer or wait) resolves.
 */
export function retryNeedsTask(retry: RunRetry, from: RetriedStatus): boolean {
  return from === 'stuck' || retry.pending.length > 0 || retry.keepHistoryLength === 0;
}

/** The statuses a retry takes a run from (see Store.retryRun). */
export type RetriedStatus = 'failed' | 'stuck';

/**
 * `status` when a run in it may take `retry`, else undefined. A stuck run goes on whole from where it stopped: its
 * calls, timers, waits and mailbox stayed as they were, so its retry keeps every event and opens nothing (else this
 * throws: an engine bug). A failed run's retry point is checked against its history rows by the store.
 */
export function retriedStatus(status: RunStatus, retry: RunRetry): RetriedStatus | undefined {
  if (status === 'failed') return status;
  if (status !== 'stuck') return undefined;
  const opens = retry.pending.length + retry.calls.length + retry.timers.length + retry.waits.length + (retry.children?.length ?? 0);
  if (retry.keepHistoryLength !== retry.expectedHistoryLength || opens > 0) {
    throw new StoreError(
      `retry of stuck run '${retry.runId}' cuts its history or opens work again: a stuck run goes on from where it stopped, ` +
        'with everything it had open (this is an engine bug)',
      { details: { runId: retry.runId, keepHistoryLength: retry.keepHistoryLength, expectedHistoryLength: retry.expectedHistoryLength } },
    );
  }
  return status;
}

/** A retry whose `keepHistoryLength` is not 0 nor the first seq of one of the run's workflow tasks. */
export function retryPointError(retry: RunRetry): StoreError {
  return new StoreError(
    `cannot retry run '${retry.runId}' from history seq ${retry.keepHistoryLength}: the retry point is not where a workflow ` +
      'task begins; retry from the first seq of a task (or 0, to start the run over)',
    { details: { runId: retry.runId, keepHistoryLength: retry.keepHistoryLength } },
  );
}

/** A run the ready queue may hand out, as the fair order (takeInTurn) sees it. */
export interface ReadyRun {
  id: string;
  workflow: string;
  readyAt: number;
  /** Its cancel was requested: it goes before every turn. */
  cancelling?: boolean;
}

/**
 * The ready queue's order: the workflows take turns, and each hands out its oldest ready run first. A run's turn is
 * its place among its own workflow's ready runs, after the runs of that workflow the claiming node is advancing
 * already (`busy`); runs go by turn, then by how long they have waited, then by id. A workflow with 20,000 runs
 * queued (a flood of webhooks, a workflow starting children without end) so gets the node's slots as they free up
 * only while no other workflow with fewer runs in progress has one ready, not every slot until its backlog is done.
 *
 * Runs whose cancel was requested go first, oldest first: a cancel that waited its turn behind a workflow that
 * starts children of itself moved down one generation while the workflow grew one, and never caught up.
 * Returns the ids of the first `limit` runs.
 */
export function takeInTurn(ready: ReadyRun[], limit: number, busy: BusyWorkflows = new Map()): string[] {
  const olderFirst = (a: ReadyRun, b: ReadyRun): number => a.readyAt - b.readyAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const placed = new Map<string, number>();
  return [...ready]
    .sort(olderFirst)
    .map((run) => {
      if (run.cancelling) return { run, turn: -1 };
      const turn = placed.get(run.workflow) ?? busy.get(run.workflow) ?? 0;
      placed.set(run.workflow, turn + 1);
      return { run, turn };
    })
    .sort((a, b) => a.turn - b.turn || olderFirst(a.run, b.run))
    .slice(0, limit)
    .map(({ run }) => run.id);
}

/**
 * takeInTurn for a store that reads each workflow's oldest ready runs a few at a time (`read(workflow, offset,
 * count)`, none of them cancelling): about `limit / workflows` of each, and more of a workflow only while every run
 * read of it is taken (its next one might be too). Reading `limit` runs of each of 50 workflows took a claim of 64
 * from 0.05 to 26 ms on SQLite. `cancelling`: the oldest cancelling runs, up to `limit`.
 */
export function takeInTurnReading(
  workflows: readonly string[],
  read: (workflow: string, offset: number, count: number) => ReadyRun[],
  cancelling: ReadyRun[],
  limit: number,
  busy: BusyWorkflows = new Map(),
): string[] {
  const batch = Math.max(1, Math.ceil(limit / Math.max(1, workflows.length)));
  const readOf = new Map(workflows.map((workflow) => [workflow, { runs: [] as ReadyRun[], exhausted: false }]));
  let toRead = [...workflows];
  for (;;) {
    for (const workflow of toRead) {
      const of = readOf.get(workflow)!;
      const more = read(workflow, of.runs.length, batch);
      of.runs.push(...more);
      of.exhausted = more.length < batch;
    }
    const taken = takeInTurn([...cancelling, ...[...readOf.values()].flatMap((of) => of.runs)], limit, busy);
    const takenIds = new Set(taken);
    toRead = [...readOf].filter(([, of]) => !of.exhausted && of.runs.every((run) => takenIds.has(run.id))).map(([workflow]) => workflow);
    if (toRead.length === 0) return taken;
  }
}

/** What Store.queueStats answers. */
export type QueueStats = Awaited<ReturnType<Store['queueStats']>>;

/** The ready runs of one workflow as each store counts them: how many, and the earliest `ready_at`. */
export interface ReadyCount {
  workflow: string;
  n: number;
  oldest: number;
}

/**
 * Store.queueStats from the ready runs counted by workflow, which every store reads (one statement on the SQL
 * stores, the readiness probe's): the totals are their sum and earliest, so they cannot disagree with the series by
 * workflow. Sorted here by code unit, as PostgreSQL's collation would not.
 *
 * Every workflow with ready runs is listed, not the 50 that waited longest: a run starts only on a deployed
 * definition, so the names are those of the workflows folder (and of retired workflows while their runs go on),
 * tens of series, not one per run. A cut would hide the workflow that just began to back up, the one an alert
 * wants, and would make the totals more than the series add up to. The statement reads every ready run either
 * way, as the count of the whole queue did.
 */
export function queueStatsOf(counts: readonly ReadyCount[]): QueueStats {
  const byWorkflow = counts
    .map(({ workflow, n, oldest }) => ({ workflow, readyRuns: n, oldestReadyAt: oldest }))
    .sort((a, b) => (a.workflow < b.workflow ? -1 : a.workflow > b.workflow ? 1 : 0));
  const readyRuns = byWorkflow.reduce((sum, queue) => sum + queue.readyRuns, 0);
  const oldestReadyAt = byWorkflow.length ? Math.min(...byWorkflow.map((queue) => queue.oldestReadyAt)) : undefined;
  return { readyRuns, oldestReadyAt, byWorkflow };
}
