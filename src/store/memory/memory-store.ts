/**
 * The Store in plain maps, for tests of the engine core: same semantics as the SQL stores (it
 * passes the same conformance suite), no durability. Values are deep-copied on the way in and out
 * so that a caller mutating what it passed or received cannot change stored state — in a SQL
 * store it could not either, and a test should not pass only because of such aliasing.
 */
import { NotFoundError, StoreError } from '../../core/errors.js';
import { groupFullError } from '../../core/concurrency.js';
import type {
  CallRecord,
  CloudEvent,
  DeployedDefinition,
  ErrorInfo,
  HistoryEvent,
  LogRecord,
  NewRun,
  PendingResolution,
  Resolution,
  RunRecord,
  RunRetryRecord,
  RunStatus,
  StoredEvent,
  TimerRecord,
  WaitRecord,
} from '../../core/model.js';
import { SIGNAL_EVENT_PREFIX } from '../../core/model.js';
import type {
  BusyWorkflows,
  CallLease,
  ClaimedCall,
  EventRouting,
  RouteResult,
  RunFilter,
  RunLease,
  RunPage,
  RunRetry,
  Store,
  TaskCommit,
  TaskCommitResult,
} from '../../core/ports.js';
import { retriedRecord } from '../../core/run-retry.js';
import {
  carriedSignalKey,
  childExistsResolution,
  committedRecord,
  continuedAs,
  MAX_LOGS_PER_TASK,
  newRunRecord,
  taskTime,
} from '../../core/task.js';
import { decodeRunPosition, DEFAULT_LOG_PAGE, pageOf, rowLimit, runOrderOf, runPageLimit } from '../pagination.js';
import {
  cancelledInProgress,
  checkRunRetry,
  checkTaskCommit,
  freesSlot,
  isSameChild,
  isTerminal,
  queueBehind,
  queueStatsOf,
  retriedStatus,
  retryNeedsTask,
  retryPointError,
  SLOT_HOLDING_STATUSES,
  supersededByNewest,
  type GroupMember,
  supersededCancel,
  takeInTurn,
  type ReadyCount,
} from '../rules.js';
import { ByRun } from './by-run.js';
import { HumanTaskTable } from './human-tasks.js';
import { SubscriberLeaseTable } from './subscriber-leases.js';
import { toRoutingSummaries } from '../routing-summary.js';

interface RunRow {
  record: RunRecord;
  /** Set while the run needs a workflow task. */
  readyAt?: number;
  leaseOwner?: string;
  leaseUntil?: number;
  /** When the run was first asked to cancel: it takes one `cancel`. */
  cancelRequestedAt?: number;
}

interface CallRow {
  call: CallRecord;
  leaseOwner?: string;
  leaseUntil?: number;
}

interface EventRow {
  event: CloudEvent;
  dedupeKey: string;
  seq: number;
  receivedAt: number;
  routed: boolean;
}

const copy = <T>(value: T): T => structuredClone(value);

/** When a call can be claimed: its next attempt time, or the end of its lease if later. */
const dueAt = (row: CallRow): number => Math.max(row.call.nextAt, row.leaseUntil ?? -Infinity);

/** The lease on a call's row, while a node holds one. */
const leaseOf = (row: CallRow): CallLease | undefined =>
  row.leaseOwner === undefined || row.leaseUntil === undefined ? undefined : { owner: row.leaseOwner, until: row.leaseUntil };

const stored = (row: EventRow): StoredEvent => ({ ...copy(row.event), seq: row.seq, receivedAt: row.receivedAt });

/** The Store's methods as the memory store implements them: synchronously. */
type SyncStore = {
  [K in Exclude<keyof Store, 'kind'>]: Store[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never;
};

/** Each method's result (or throw) as a promise, as the Store port has it. */
function promised(methods: SyncStore): Store {
  const store: Record<string, unknown> = { kind: 'memory' };
  for (const [name, method] of Object.entries(methods) as Array<[string, (...args: unknown[]) => unknown]>) {
    store[name] = (...args: unknown[]) => new Promise((resolve) => resolve(method(...args)));
  }
  return store as unknown as Store;
}

export function createMemoryStore(): Store {
  const definitions = new Map<string, DeployedDefinition>();
  const activeVersions = new Map<string, string>();
  /** Workflow name → when its active version became active (ActiveDefinition.activatedAt). */
  const activatedAt = new Map<string, number>();
  /** By seq, in seq order (a Map keeps insertion order). */
  const events = new Map<number, EventRow>();
  let lastEventSeq = 0;
  const seqByDedupeKey = new Map<string, number>();
  const runs = new Map<string, RunRow>();
  const history = new Map<string, HistoryEvent[]>();
  const retries = new Map<string, RunRetryRecord[]>();
  const pending = new Map<string, PendingResolution[]>();
  let lastPendingId = 0;
  const calls = new ByRun<CallRow>();
  const timers = new ByRun<TimerRecord>();
  const waits = new ByRun<WaitRecord>();
  /** The stored waits whose lookback is done (Store.markWaitsLookedBack): by identity, so that a deleted wait takes its mark along. */
  const lookedBack = new WeakSet<WaitRecord>();
  const consumed = new Map<string, Set<number>>();
  const logs = new ByRun<LogRecord>();
  const scheduleTicks = new Map<string, number>();
  const apiTokens = new Map<string, { name: string; createdAt: number }>();
  const revokedSessions = new Map<string, number>();
  const humanTasks = new HumanTaskTable();
  const subscriberLeases = new SubscriberLeaseTable(scheduleTicks);

  function insertEvent(event: CloudEvent, dedupeKey: string, receivedAt: number): { seq: number; duplicate: boolean } {
    const existing = seqByDedupeKey.get(dedupeKey);
    if (existing !== undefined) return { seq: existing, duplicate: true };
    const seq = ++lastEventSeq;
    events.set(seq, { event: copy(event), dedupeKey, seq, receivedAt, routed: false });
    seqByDedupeKey.set(dedupeKey, seq);
    return { seq, duplicate: false };
  }

  function insertRun(run: NewRun, lease?: RunLease, keepsSlot = false): boolean {
    if (runs.has(run.id)) return false;
    const row: RunRow = { record: newRunRecord(copy(run)), readyAt: run.createdAt };
    const { concurrency } = run;
    if (concurrency?.cancelInProgress && !keepsSlot) {
      const cancel = cancelledInProgress(run.id);
      const members = groupMembers(concurrency.group, [...SLOT_HOLDING_STATUSES, 'queued']);
      for (const id of supersededByNewest(members, concurrency.limit)) addPendingUnlessTerminal(id, cancel, run.createdAt);
    }
    const waiting = concurrency && !keepsSlot ? oldestQueued(concurrency.group) : undefined;
    const queued = concurrency !== undefined && queueBehind(slotsTaken(concurrency.group, run.id), concurrency.limit, waiting);
    if (queued) {
      // It waits, neither ready nor leased, and with `queue: 'latest'` alone (see SqliteStore's insertRun).
      if (concurrency.queue === 'latest') {
        const cancel = supersededCancel(run.id);
        for (const { record } of runs.values()) {
          if (record.concurrency?.group === concurrency.group && record.status === 'queued')
            addPendingUnlessTerminal(record.id, cancel, run.createdAt);
        }
      }
      row.record.status = 'queued';
      delete row.readyAt;
    } else if (lease) Object.assign(row, { leaseOwner: lease.owner, leaseUntil: lease.until });
    runs.set(run.id, row);
    if (run.triggerEventSeq !== undefined) consumed.set(run.id, new Set([run.triggerEventSeq]));
    return true;
  }

  /** The runs of `group` in `statuses`, oldest first (of one millisecond, the first stored: the Map's order). */
  function groupMembers(group: string, statuses: readonly RunStatus[]): Array<GroupMember & { workflow: string }> {
    return [...runs.values()]
      .filter(({ record }) => record.concurrency?.group === group && statuses.includes(record.status))
      .sort((a, b) => a.record.createdAt - b.record.createdAt)
      .map(({ record, cancelRequestedAt }) => ({
        id: record.id,
        workflow: record.workflow,
        status: record.status,
        cancelling: cancelRequestedAt !== undefined,
      }));
  }

  /** Runs of a concurrency group other than `exceptId` that hold one of its slots. */
  function slotsTaken(group: string, exceptId: string): number {
    let taken = 0;
    for (const { record } of runs.values()) {
      if (record.concurrency?.group === group && record.id !== exceptId && SLOT_HOLDING_STATUSES.includes(record.status)) taken++;
    }
    return taken;
  }

  /** A queued run given a slot (or a cancel) at `at`: running, and ready from then (see SqliteStore's startQueued). */
  function startQueued(row: RunRow, at: number): void {
    row.record.status = 'running';
    row.readyAt = at;
  }

  /** The oldest queued run of `group`: of runs created in the same millisecond, the first stored (the Map's order). */
  function oldestQueued(group: string): RunRow | undefined {
    let oldest: RunRow | undefined;
    for (const row of runs.values()) {
      const { record } = row;
      if (record.concurrency?.group !== group || record.status !== 'queued') continue;
      if (!oldest || record.createdAt < oldest.record.createdAt) oldest = row;
    }
    return oldest;
  }

  /** A slot of `group` came free at `at`: its queued runs start as SqliteStore's startNextQueued starts them. */
  function startNextQueued(group: string, at: number): void {
    for (let next = oldestQueued(group); next; next = oldestQueued(group)) {
      if (slotsTaken(group, next.record.id) >= next.record.concurrency!.limit) return;
      startQueued(next, at);
    }
  }

  function makeReady(row: RunRow, at: number): void {
    row.readyAt = Math.min(row.readyAt ?? at, at);
  }

  function appendPending(row: RunRow, resolution: Resolution, at: number, attempts?: number): void {
    const entry: PendingResolution = { id: ++lastPendingId, resolution: copy(resolution), at };
    if (attempts !== undefined) entry.attempts = attempts;
    const list = pending.get(row.record.id);
    if (list) list.push(entry);
    else pending.set(row.record.id, [entry]);
    makeReady(row, at);
  }

  function addPendingUnlessTerminal(runId: string, resolution: Resolution, at: number): boolean {
    const row = runs.get(runId);
    if (!row || isTerminal(row.record.status)) return false;
    if (resolution.kind === 'cancel') {
      // A second request would only repeat the first one in the run's history.
      if (row.cancelRequestedAt !== undefined) return false;
      row.cancelRequestedAt = at;
      // Its group's slot is not needed to end a run that ran no code (see SqliteStore's addPendingUnlessTerminal).
      if (row.record.status === 'queued') startQueued(row, at);
    }
    appendPending(row, resolution, at);
    return true;
  }

  /**
   * A cancelled run's cancel reaches a child only when it is its own child (the list comes from the workflow's
   * sandbox), and reaches the run its chain goes on in when it continued as new: every link keeps the parent.
   */
  function cancelChild(parentId: string, child: { runId: string; reason: string }, at: number): void {
    let record = runs.get(child.runId)?.record;
    while (record?.parentId === parentId && record.status === 'continued') record = runs.get(continuedAs(record) ?? '')?.record;
    if (record?.parentId !== parentId) return;
    addPendingUnlessTerminal(record.id, { kind: 'cancel', reason: child.reason }, at);
  }

  /** Creates a task's child; when another run holds its id, the parent's start of it fails instead (TaskCommit.children). */
  function startChild(parent: RunRow, child: NewRun, at: number): void {
    if (insertRun(child) || isSameChild(runs.get(child.id)!.record, child)) return;
    const failure = childExistsResolution(child);
    if (failure) appendPending(parent, failure, at);
  }

  /** A task's (or a retry's) new rows must not collide with rows that exist, nor with each other (the SQL primary keys). */
  function checkNewKeys(runId: string, what: string, keys: number[], exists: (key: number) => boolean, write = 'commit'): void {
    const seen = new Set<number>();
    for (const key of keys) {
      if (seen.has(key) || exists(key)) {
        throw new StoreError(`${write} for run '${runId}' adds ${what} ${key}, which already exists (this is an engine bug)`, {
          details: { runId, what, key },
        });
      }
      seen.add(key);
    }
  }

  function endRun(runId: string, status: RunStatus): void {
    calls.deleteRun(runId);
    timers.deleteRun(runId);
    waits.deleteRun(runId);
    pending.delete(runId);
    // Kept by a failed run, which a retry brings back: it must not receive again what it received before.
    if (status !== 'failed') consumed.delete(runId);
  }

  function commitTask(commit: TaskCommit): TaskCommitResult {
    checkTaskCommit(commit);
    // A new run has no rows the checks below could find in the way: inserting it first keeps the
    // commit all or nothing.
    if (commit.create && !insertRun(commit.create.run, commit.create.lease)) return { ok: false, reason: 'exists' };
    const row = runs.get(commit.runId);
    if (!row) return { ok: false, reason: 'not_found' };
    const leasedToOther = row.leaseOwner !== undefined && row.leaseOwner !== commit.owner;
    if (row.record.historyLength !== commit.expectedHistoryLength || leasedToOther) return { ok: false, reason: 'fenced' };
    const { runId } = commit;
    // Every check before the first change: a commit applies completely or not at all.
    const resolved = new Set(commit.resolvedCalls);
    checkNewKeys(
      runId,
      'call',
      commit.calls.map((c) => c.step),
      (step) => calls.has(runId, step) && !resolved.has(step),
    );
    checkNewKeys(
      runId,
      'timer',
      commit.timers.map((t) => t.step),
      (step) => timers.has(runId, step),
    );
    checkNewKeys(
      runId,
      'wait',
      commit.waits.map((w) => w.step),
      (step) => waits.has(runId, step),
    );
    checkNewKeys(
      runId,
      'log line',
      commit.logs.map((l) => l.index),
      (index) => logs.has(runId, index),
    );

    const time = taskTime(commit, row.record.updatedAt);
    const consumedIds = new Set(commit.consumedPending);
    const remaining = (pending.get(runId) ?? []).filter((p) => !consumedIds.has(p.id));
    if (remaining.length) pending.set(runId, remaining);
    else pending.delete(runId);
    const runHistory = history.get(runId) ?? [];
    runHistory.push(...copy(commit.history));
    history.set(runId, runHistory);
    for (const step of commit.resolvedCalls) calls.delete(runId, step);
    for (const { leaseUntil, ...call } of commit.calls) {
      const callRow: CallRow = { call: copy(call) };
      if (leaseUntil !== undefined) Object.assign(callRow, { leaseOwner: commit.owner, leaseUntil });
      calls.set(runId, call.step, callRow);
    }
    for (const timer of commit.timers) timers.set(runId, timer.step, copy(timer));
    for (const wait of commit.waits) waits.set(runId, wait.step, copy(wait));
    for (const child of commit.children) startChild(row, child, time);
    for (const log of commit.logs) logs.set(runId, log.index, copy(log));
    const before = row.record.status;
    row.record = copy(committedRecord(row.record, commit));
    const { concurrency } = row.record;
    if (concurrency && freesSlot(before, row.record.status)) startNextQueued(concurrency.group, time);
    if (commit.carrySignals) carrySignals(runId, commit.carrySignals, time);
    if (commit.status && isTerminal(commit.status.status)) {
      endRun(runId, commit.status.status);
      humanTasks.cancelOpenOfRun(runId, time);
    }
    if (commit.successor) insertRun(commit.successor, undefined, true);
    if (commit.notifyParent) addPendingUnlessTerminal(commit.notifyParent.runId, commit.notifyParent.resolution, time);
    for (const child of commit.cancelChildren ?? []) cancelChild(runId, child, time);
    for (const { event, dedupeKey } of commit.events ?? []) insertEvent(event, dedupeKey, time);
    const next = pending.get(runId)?.[0];
    if (next) row.readyAt = next.at;
    else delete row.readyAt;
    return { ok: true, pending: copy(pending.get(runId) ?? []) };
  }

  /** See TaskCommit.carrySignals. */
  function carrySignals(runId: string, carry: NonNullable<TaskCommit['carrySignals']>, at: number): void {
    const ownSignal = (event: CloudEvent): boolean => event.subject === runId && event.type.startsWith(SIGNAL_EVENT_PREFIX);
    const signals = [...events.values()].filter((row) => ownSignal(row.event));
    const kept = carry.kept.flatMap((id) => signals.find((row) => row.event.source === id.source && row.event.id === id.id)?.event ?? []);
    const mailed = (pending.get(runId) ?? []).flatMap(({ resolution }) =>
      resolution.kind === 'wait' && resolution.event && ownSignal(resolution.event) ? [resolution.event] : [],
    );
    const received = consumed.get(runId);
    const undelivered = signals.filter((row) => !received?.has(row.seq)).map((row) => row.event);
    for (const event of [...kept, ...mailed, ...undelivered]) {
      const { seq, duplicate } = insertEvent({ ...event, subject: carry.to }, carriedSignalKey(carry.to, event), at);
      if (!duplicate) events.get(seq)!.routed = true;
    }
  }

  function retryRun(retry: RunRetry): boolean {
    checkRunRetry(retry);
    const { runId, keepHistoryLength: keep, at } = retry;
    const row = runs.get(runId);
    const failed = row?.record;
    const from = failed && retriedStatus(failed.status, retry);
    if (!row || !from || failed.historyLength !== retry.expectedHistoryLength || failed.updatedAt !== retry.expectedUpdatedAt) {
      return false;
    }
    // Events, not task rows, are kept here: any point within the history will do.
    if (keep > row.record.historyLength) throw retryPointError(retry);
    // A stuck run kept its slot.
    const concurrency = from === 'failed' ? failed.concurrency : undefined;
    const taken = concurrency ? slotsTaken(concurrency.group, runId) : 0;
    if (concurrency && taken >= concurrency.limit) throw groupFullError(runId, concurrency, taken);
    // Every check before the first change, as in commitTask. A failed run has no calls, timers or waits left.
    const opened: Array<[string, Array<{ step: number }>, { has(runId: string, step: number): boolean }]> = [
      ['call', retry.calls, calls],
      ['timer', retry.timers, timers],
      ['wait', retry.waits, waits],
    ];
    for (const [what, items, table] of opened) {
      checkNewKeys(
        runId,
        what,
        items.map((item) => item.step),
        (step) => table.has(runId, step),
        'retry',
      );
    }

    const retried: RunRetryRecord = { at, version: retry.version, keptHistoryLength: keep };
    if (retry.by !== undefined) retried.by = retry.by;
    if (failed.error !== undefined) retried.previousError = copy(failed.error);
    retries.set(runId, [...(retries.get(runId) ?? []), retried]);
    history.set(runId, (history.get(runId) ?? []).slice(0, keep));
    for (const log of logs.ofRun(runId)) if (log.index >= keep * MAX_LOGS_PER_TASK) logs.delete(runId, log.index);
    row.record = retriedRecord(row.record, retry);
    delete row.leaseOwner;
    delete row.leaseUntil;
    for (const item of retry.pending) appendPending(row, item.resolution, item.at, item.attempts);
    // Ready since the retry, not since the resolutions it gives back (as in the SQL stores).
    if (retryNeedsTask(retry, from)) row.readyAt = at;
    else delete row.readyAt;
    for (const call of retry.calls) calls.set(runId, call.step, { call: copy(call) });
    for (const timer of retry.timers) timers.set(runId, timer.step, copy(timer));
    for (const wait of retry.waits) waits.set(runId, wait.step, copy(wait));
    for (const child of retry.children ?? []) startChild(row, child, at);
    // A stuck run's forms stayed open: only a failure cancels them.
    if (from === 'failed') humanTasks.reopenCancelledOfRun(runId, retry.expectedUpdatedAt);
    return true;
  }

  function routeEvent(routing: EventRouting): RouteResult {
    const event = events.get(routing.eventSeq);
    if (!event) throw new NotFoundError('event', String(routing.eventSeq));
    const createdRunIds = routing.newRuns.filter((run) => insertRun(run, routing.lease)).map((run) => run.id);
    const deliveredRunIds: string[] = [];
    for (const { runId, step } of routing.deliveries) {
      const row = runs.get(runId);
      const seen = consumed.get(runId) ?? new Set<number>();
      // A lookback refuses an event the run received in an earlier routing; the waits it lists together all get it.
      const receivedBefore = !routing.markRouted && !deliveredRunIds.includes(runId) && seen.has(event.seq);
      if (!row || receivedBefore || !waits.delete(runId, step)) continue;
      if (timers.get(runId, step)?.kind === 'wait_timeout') timers.delete(runId, step);
      consumed.set(runId, seen.add(event.seq));
      appendPending(row, { kind: 'wait', step, event: event.event }, event.receivedAt);
      if (!deliveredRunIds.includes(runId)) deliveredRunIds.push(runId);
    }
    const markedRouted = routing.markRouted && !event.routed;
    if (routing.markRouted) event.routed = true;
    return { createdRunIds, deliveredRunIds, markedRouted };
  }

  function listRuns(filter: RunFilter): RunPage {
    const limit = runPageLimit(filter.limit);
    const order = runOrderOf(filter);
    const after = filter.cursor === undefined ? undefined : decodeRunPosition(filter.cursor, order);
    const timeOf = (run: RunRecord) => (order === 'updated' ? run.updatedAt : run.createdAt);
    const subject = filter.subject;
    const about =
      subject === undefined
        ? undefined
        : new Set(
            [...events.values()]
              .filter(({ event }) => event.subject === subject || event.subject?.startsWith(`${subject}#`))
              .map((row) => row.seq),
          );
    const page = [...runs.values()]
      .map((row) => row.record)
      .filter(
        (run) =>
          (filter.workflow === undefined || run.workflow === filter.workflow) &&
          (filter.status === undefined || run.status === filter.status) &&
          (filter.parentId === undefined || run.parentId === filter.parentId) &&
          (filter.version === undefined || run.version.startsWith(filter.version)) &&
          (filter.createdFrom === undefined || run.createdAt >= filter.createdFrom) &&
          (filter.createdBefore === undefined || run.createdAt < filter.createdBefore) &&
          (filter.updatedFrom === undefined || run.updatedAt >= filter.updatedFrom) &&
          (about === undefined || (run.triggerEventSeq !== undefined && about.has(run.triggerEventSeq))) &&
          (after === undefined || timeOf(run) < after.at || (timeOf(run) === after.at && run.id < after.id)),
      )
      .sort((a, b) => timeOf(b) - timeOf(a) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, limit + 1);
    const { items, nextCursor } = pageOf(page, limit, copy, order);
    return nextCursor === undefined ? { runs: items } : { runs: items, nextCursor };
  }

  function claimReadyRuns(owner: string, now: number, leaseUntil: number, limit: number, busy?: BusyWorkflows): string[] {
    const claimable = [...runs.values()]
      .filter((row) => row.readyAt !== undefined && row.record.status === 'running')
      .filter((row) => row.leaseOwner === undefined || (row.leaseUntil ?? 0) <= now || row.leaseOwner === owner)
      .map((row) => ({
        id: row.record.id,
        workflow: row.record.workflow,
        readyAt: row.readyAt!,
        cancelling: row.cancelRequestedAt !== undefined,
      }));
    const claimed = takeInTurn(claimable, rowLimit(limit), busy);
    for (const id of claimed) Object.assign(runs.get(id)!, { leaseOwner: owner, leaseUntil });
    return claimed;
  }

  /** Leases to `owner` the first `limit` calls that `select` picks, oldest due first (the order of the SQL stores). */
  function leaseCalls(select: (row: CallRow) => boolean, owner: string, leaseUntil: number, limit: number): ClaimedCall[] {
    const byKey = (a: CallRow, b: CallRow) =>
      a.call.runId < b.call.runId ? -1 : a.call.runId > b.call.runId ? 1 : a.call.step - b.call.step;
    const claimed = [...calls.all()]
      .filter(select)
      .sort((a, b) => dueAt(a) - dueAt(b) || byKey(a, b))
      .slice(0, rowLimit(limit));
    return claimed.map((row) => {
      const previousLease = leaseOf(row);
      // A lease that lapsed may have covered an attempt its node never recorded: it counts.
      if (previousLease) row.call.attempts++;
      Object.assign(row, { leaseOwner: owner, leaseUntil });
      return previousLease ? { ...copy(row.call), previousLease } : copy(row.call);
    });
  }

  function rescheduleCall(runId: string, step: number, attempts: number, nextAt: number, lastError: ErrorInfo, owner?: string): boolean {
    const row = calls.get(runId, step);
    if (!row || (owner !== undefined && row.leaseOwner !== owner)) return false;
    Object.assign(row.call, { attempts, nextAt, lastError: copy(lastError) });
    delete row.leaseOwner;
    delete row.leaseUntil;
    return true;
  }

  function renewLeases(
    owner: string,
    runIds: string[],
    runLeaseUntil: number,
    held: Array<{ runId: string; step: number }>,
    callLeaseUntil: number,
  ) {
    let renewedRuns = 0;
    for (const id of new Set(runIds)) {
      const row = runs.get(id);
      if (row?.leaseOwner !== owner) continue;
      row.leaseUntil = runLeaseUntil;
      renewedRuns++;
    }
    const lostCalls: Array<{ runId: string; step: number }> = [];
    for (const { runId, step } of held) {
      const row = calls.get(runId, step);
      if (row?.leaseOwner === owner) row.leaseUntil = callLeaseUntil;
      else lostCalls.push({ runId, step });
    }
    return { runs: renewedRuns, lostCalls };
  }

  function releaseLeases(owner: string, runIds: string[]): void {
    const held = [...runIds.map((id) => runs.get(id)), ...calls.all()];
    for (const row of held) {
      if (!row) continue;
      if (row.leaseOwner !== owner) continue;
      delete row.leaseOwner;
      delete row.leaseUntil;
    }
  }

  function queueStats() {
    const counts = new Map<string, ReadyCount>();
    for (const { readyAt, record } of runs.values()) {
      if (readyAt === undefined || record.status !== 'running') continue;
      const count = counts.get(record.workflow);
      if (!count) counts.set(record.workflow, { workflow: record.workflow, n: 1, oldest: readyAt });
      else {
        count.n++;
        count.oldest = Math.min(count.oldest, readyAt);
      }
    }
    return queueStatsOf([...counts.values()]);
  }

  function fireDueTimers(now: number, limit: number): string[] {
    const due = [...timers.all()]
      .filter((timer) => timer.fireAt <= now)
      .sort((a, b) => a.fireAt - b.fireAt || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : a.step - b.step))
      .slice(0, rowLimit(limit));
    const affected: string[] = [];
    for (const { runId, step, kind } of due) {
      timers.delete(runId, step);
      const row = runs.get(runId);
      if (!row) continue;
      if (kind === 'sleep') appendPending(row, { kind: 'timer', step }, now);
      else if (waits.delete(runId, step)) appendPending(row, { kind: 'wait', step, event: null }, now);
      else continue;
      if (!affected.includes(runId)) affected.push(runId);
    }
    return affected;
  }

  function nextDueAt(): number | undefined {
    let next = Infinity;
    for (const timer of timers.all()) next = Math.min(next, timer.fireAt);
    for (const row of calls.all()) next = Math.min(next, dueAt(row));
    return next === Infinity ? undefined : next;
  }

  return promised({
    migrate: () => ({ from: 0, to: 0 }),
    close: () => {},

    deployDefinition: (def) => {
      if (!definitions.has(def.version)) definitions.set(def.version, copy(def));
      // When it became active: a redeploy of the active version keeps it.
      if (activeVersions.get(def.name) !== def.version) activatedAt.set(def.name, def.deployedAt);
      activeVersions.set(def.name, def.version);
    },
    getDefinition: (version) => copy(definitions.get(version)),
    retireDefinition: (name) => activeVersions.delete(name),
    deleteUnusedDefinitions: (deployedBefore, limit) => {
      const used = new Set([...activeVersions.values(), ...[...runs.values()].map(({ record }) => record.version)]);
      const unused = [...definitions.values()]
        .filter((def) => def.deployedAt < deployedBefore && !used.has(def.version))
        .slice(0, rowLimit(limit));
      for (const { version } of unused) definitions.delete(version);
      return unused.length;
    },
    listActiveDefinitions: () =>
      [...activeVersions.keys()]
        .sort()
        .map((name) => ({ ...copy(definitions.get(activeVersions.get(name)!)!), activatedAt: activatedAt.get(name)! })),
    listDefinitionVersions: (name) =>
      [...definitions.values()]
        .filter((def) => def.name === name)
        .sort((a, b) => b.deployedAt - a.deployedAt || (a.version < b.version ? 1 : -1))
        .map((def) => ({ version: def.version, name, deployedAt: def.deployedAt, active: activeVersions.get(name) === def.version })),

    insertEvent: (event, dedupeKey, receivedAt) => insertEvent(event, dedupeKey, receivedAt),
    listUnroutedEvents: (limit) =>
      [...events.values()]
        .filter((e) => !e.routed)
        .slice(0, rowLimit(limit))
        .map(stored),
    listEventsAfter: (afterSeq, limit) =>
      [...events.values()]
        .filter((e) => e.seq > afterSeq)
        .slice(0, rowLimit(limit))
        .map(stored),
    listRecentEvents: (type, since, limit, after = { receivedAt: since, seq: 0 }) =>
      [...events.values()]
        .filter(
          (e) =>
            e.event.type === type &&
            e.receivedAt >= since &&
            (e.receivedAt > after.receivedAt || (e.receivedAt === after.receivedAt && e.seq > after.seq)),
        )
        .sort((a, b) => a.receivedAt - b.receivedAt || a.seq - b.seq)
        .slice(0, rowLimit(limit))
        .map(stored),
    listEvents: ({ limit, beforeSeq, type }) =>
      [...events.values()]
        .filter((e) => (beforeSeq === undefined || e.seq < beforeSeq) && (type === undefined || e.event.type === type))
        .reverse()
        .slice(0, rowLimit(limit))
        .map(stored),
    getEvent: (seq) => {
      const row = events.get(seq);
      return row && stored(row);
    },
    findEvent: (dedupeKey) => {
      const seq = seqByDedupeKey.get(dedupeKey);
      const row = seq === undefined ? undefined : events.get(seq);
      return row && stored(row);
    },
    deleteOldEvents: (receivedBefore, throughSeq, limit) => {
      let deleted = 0;
      for (const row of [...events.values()].slice(0, rowLimit(limit))) {
        if (row.receivedAt >= receivedBefore || row.seq > throughSeq) break;
        if (!row.routed) continue;
        events.delete(row.seq);
        seqByDedupeKey.delete(row.dedupeKey);
        deleted++;
      }
      return deleted;
    },

    listWaitShapes: (type) => {
      const shapes = new Set<string>();
      for (const wait of waits.all()) if (wait.eventType === type) shapes.add(JSON.stringify(wait.paths));
      return [...shapes].sort().map((shape) => JSON.parse(shape) as string[]);
    },
    findWaits: (type, key) => copy([...waits.all()].filter((w) => w.eventType === type && w.key === key)),
    listWaitsToLookBack: (registeredUntil, limit, after) => {
      const order = (a: WaitRecord, b: WaitRecord) =>
        a.registeredAt - b.registeredAt || (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0) || a.step - b.step;
      return copy(
        [...waits.all()]
          .filter((w) => !lookedBack.has(w) && w.registeredAt <= registeredUntil && (after === undefined || order(w, after) > 0))
          .sort(order)
          .slice(0, limit),
      );
    },
    markWaitsLookedBack: (done) => {
      for (const { runId, step } of done) {
        const wait = waits.get(runId, step);
        if (wait) lookedBack.add(wait);
      }
    },
    routeEvent: (routing) => routeEvent(routing),
    routeEvents: (routings) => {
      // All or none: the one way routing throws is an unknown event, so check every event first.
      const missing = routings.find((routing) => !events.has(routing.eventSeq));
      if (missing) throw new NotFoundError('event', String(missing.eventSeq));
      return routings.map(routeEvent);
    },

    createRun: (run, lease) => {
      const created = insertRun(run, lease);
      return { created, run: copy(runs.get(run.id)!.record) };
    },
    getRun: (id) => copy(runs.get(id)?.record),
    listRuns: (filter) => listRuns(filter),
    summarizeRouting: ({ seqs, runIds }) => {
      const wanted = new Set(seqs.slice(0, 100));
      const found: Array<{ seq: number; run_id: string; started: boolean }> = [];
      for (const id of new Set(runIds)) {
        const record = runs.get(id)?.record;
        if (record?.triggerEventSeq !== undefined && wanted.has(record.triggerEventSeq))
          found.push({ seq: record.triggerEventSeq, run_id: record.id, started: true });
      }
      for (const [runId, seen] of consumed) for (const seq of seen) if (wanted.has(seq)) found.push({ seq, run_id: runId, started: false });
      return toRoutingSummaries(found);
    },
    countGroupSlotsTaken: (group) => slotsTaken(group, ''),
    listGroupSlotHolders: (group, limit) => groupMembers(group, SLOT_HOLDING_STATUSES).slice(0, rowLimit(limit)),
    countRunsByStatus: () => {
      const counts: Partial<Record<RunStatus, number>> = {};
      for (const { record } of runs.values()) counts[record.status] = (counts[record.status] ?? 0) + 1;
      return counts;
    },
    deleteEndedRuns: (endedBefore, limit) => {
      const records = [...runs.values()].map(({ record }) => record);
      // Not while a run refers to it: a child, or the successor it continued as.
      const parents = new Set(records.map((run) => run.parentId));
      const referredTo = (run: RunRecord): boolean => parents.has(run.id) || runs.has(continuedAs(run) ?? '');
      const ended = records
        .filter((run) => isTerminal(run.status) && run.updatedAt < endedBefore && !referredTo(run))
        .slice(0, rowLimit(limit));
      // What ending the run left: the run, its history, retries and logs, its human tasks.
      for (const { id } of ended) {
        runs.delete(id);
        history.delete(id);
        consumed.delete(id);
        retries.delete(id);
        logs.deleteRun(id);
        humanTasks.deleteOfRun(id);
      }
      return ended.length;
    },
    retryRun: (retry) => retryRun(retry),
    listRunRetries: (runId) => copy(retries.get(runId) ?? []),
    addPending: (runId, resolution, at) => addPendingUnlessTerminal(runId, resolution, at),
    cancelRequestedAt: (runId) => runs.get(runId)?.cancelRequestedAt,

    claimReadyRuns: (owner, now, leaseUntil, limit, busy) => claimReadyRuns(owner, now, leaseUntil, limit, busy),
    releaseRun: (runId, owner) => {
      const row = runs.get(runId);
      if (row?.leaseOwner !== owner) return;
      delete row.leaseOwner;
      delete row.leaseUntil;
    },
    seizeRun: (runId, owner, leaseUntil, expected) => {
      const row = runs.get(runId);
      if (!row || !['queued', 'running', 'stuck'].includes(row.record.status) || row.record.historyLength !== expected) return false;
      Object.assign(row, { leaseOwner: owner, leaseUntil });
      return true;
    },
    renewLeases: (owner, runIds, runLeaseUntil, held, callLeaseUntil) => renewLeases(owner, runIds, runLeaseUntil, held, callLeaseUntil),
    releaseLeases: (owner, runIds) => releaseLeases(owner, runIds),
    queueStats: () => queueStats(),
    loadHistory: (runId, fromSeq = 0, limit) =>
      copy((history.get(runId) ?? []).slice(fromSeq, limit === undefined ? undefined : fromSeq + limit)),
    loadPending: (runId) => copy(pending.get(runId) ?? []),
    commitTask: (commit) => commitTask(commit),

    claimDueCalls: (owner, now, leaseUntil, limit) => leaseCalls((row) => dueAt(row) <= now, owner, leaseUntil, limit),
    reclaimOwnCalls: (owner, now, leaseUntil, limit) =>
      leaseCalls(
        (row) => dueAt(row) > now && dueAt(row) < leaseUntil && row.leaseOwner === owner && row.call.nextAt <= now,
        owner,
        leaseUntil,
        limit,
      ),
    resolveCall: (runId, step, resolution, attempts, at, owner) => {
      const row = runs.get(runId);
      if (!row || (owner !== undefined && calls.get(runId, step)?.leaseOwner !== owner) || !calls.delete(runId, step)) return false;
      appendPending(row, resolution, at, attempts);
      return true;
    },
    rescheduleCall: (runId, step, attempts, nextAt, lastError, owner) => rescheduleCall(runId, step, attempts, nextAt, lastError, owner),
    listCalls: (runId) =>
      calls.ofRun(runId).map((row) => {
        const lease = leaseOf(row);
        return lease ? { ...copy(row.call), lease } : copy(row.call);
      }),

    nextDueAt: () => nextDueAt(),
    fireDueTimers: (now, limit) => fireDueTimers(now, limit),

    listLogs: (runId, options = {}) => {
      const after = options.afterIndex ?? -1;
      const limit = rowLimit(options.limit ?? DEFAULT_LOG_PAGE);
      return copy(
        logs
          .ofRun(runId)
          .filter((log) => log.index > after)
          .slice(0, limit),
      );
    },

    getScheduleTick: (scheduleId) => scheduleTicks.get(scheduleId),
    advanceScheduleTick: (scheduleId, tick) => {
      const last = scheduleTicks.get(scheduleId);
      if (last !== undefined && tick <= last) return false;
      scheduleTicks.set(scheduleId, tick);
      return true;
    },
    acquireSubscriberLease: (key, owner, now, until) => subscriberLeases.acquire(key, owner, now, until),
    renewSubscriberLease: (key, token, until) => subscriberLeases.renew(key, token, until),
    releaseSubscriberLease: (key, token) => subscriberLeases.release(key, token),
    advanceSubscriberMark: (key, token, seq) => subscriberLeases.advance(key, token, seq),

    addFirstApiToken: (hash, name, createdAt) => {
      if (apiTokens.size > 0) return false;
      apiTokens.set(hash, { name, createdAt });
      return true;
    },
    hasApiToken: (hash) => apiTokens.has(hash),
    replaceApiTokens: (hash, name, createdAt) => {
      const replaced = apiTokens.size;
      apiTokens.clear();
      apiTokens.set(hash, { name, createdAt });
      return replaced;
    },
    revokeSession: (id, until, now) => {
      for (const [revoked, expiry] of revokedSessions) if (expiry <= now) revokedSessions.delete(revoked);
      revokedSessions.set(id, Math.max(until, revokedSessions.get(id) ?? 0));
    },
    isSessionRevoked: (id, now) => (revokedSessions.get(id) ?? 0) > now,
    createHumanTask: (task) => humanTasks.create(task),
    getHumanTask: (id) => humanTasks.get(id),
    listHumanTasks: (filter) => humanTasks.list(filter),
    updateHumanTask: ({ event, ...update }) =>
      humanTasks.update(update, () => {
        if (event) insertEvent(event.event, event.dedupeKey, event.receivedAt);
      }),
    countApiTokens: () => apiTokens.size,
  });
}
