/**
 * The bodies of the SQLite store's writes. Each runs synchronously inside the transaction (and
 * savepoint) that group commit opened for it; none commits by itself.
 */
import { groupFullError } from '../../core/concurrency.js';
import { NotFoundError } from '../../core/errors.js';
import { TERMINAL_STATUSES, type CloudEvent, type NewRun, type Resolution, type RunStatus } from '../../core/model.js';
import type {
  BusyWorkflows,
  ClaimedCall,
  EventRouting,
  RouteResult,
  RunLease,
  RunRetry,
  TaskCommit,
  TaskCommitResult,
} from '../../core/ports.js';
import { carriedSignalKey, childExistsResolution, MAX_LOGS_PER_TASK, taskTime } from '../../core/task.js';
import { rowLimit } from '../pagination.js';
import {
  cancelledInProgress,
  checkRunRetry,
  checkTaskCommit,
  freesSlot,
  isTerminal,
  queueBehind,
  retriedStatus,
  retryNeedsTask,
  retryPointError,
  supersededByNewest,
  supersededCancel,
  takeInTurnReading,
} from '../rules.js';
import { json, newRunParams, toClaimedCall, toCloudEvent, toPending, type LeasedCallRow } from '../rows.js';
import type { Statements } from './statements.js';

export function insertEvent(s: Statements, event: CloudEvent, dedupeKey: string, receivedAt: number): { seq: number; duplicate: boolean } {
  const seq = s.insertEvent.get({ dedupeKey, type: event.type, body: JSON.stringify(event), receivedAt });
  if (seq !== undefined) return { seq, duplicate: false };
  return { seq: s.eventSeqByDedupeKey.get(dedupeKey)!, duplicate: true };
}

/**
 * Insert-or-ignore; a new run starts ready (leased, with `lease`) and never receives the event that started it. In a
 * concurrency group whose slots are all taken, or where runs wait already, it is queued instead: neither ready nor
 * leased, behind those (queueBehind) — unless it is a continue-as-new successor (`keepsSlot`), which keeps the slot
 * of the run it follows.
 */
export function insertRun(s: Statements, run: NewRun, lease?: RunLease, keepsSlot = false): boolean {
  const { changes } = s.insertRun.run({ ...newRunParams(run), leaseOwner: lease?.owner ?? null, leaseUntil: lease?.until ?? null });
  if (changes === 0) return false;
  if (run.triggerEventSeq !== undefined) s.insertConsumed.run(run.id, run.triggerEventSeq);
  const { concurrency } = run;
  if (!concurrency) return true;
  const { group } = concurrency;
  if (concurrency.cancelInProgress && !keepsSlot) {
    const members = s.groupMembers.all({ group, id: run.id }).map((row) => ({ ...row, cancelling: row.cancelling === 1 }));
    const cancel = cancelledInProgress(run.id);
    for (const id of supersededByNewest(members, concurrency.limit)) addPendingUnlessTerminal(s, id, cancel, run.createdAt);
  }
  const taken = s.groupSlotsTaken.get({ group, id: run.id })!;
  if (!queueBehind(taken, concurrency.limit, keepsSlot ? undefined : s.oldestQueued.get(group))) return true;
  if (concurrency.queue === 'latest') {
    const cancel = supersededCancel(run.id);
    for (const id of s.otherQueued.all({ group, id: run.id })) addPendingUnlessTerminal(s, id, cancel, run.createdAt);
  }
  s.queueRun.run(run.id);
  return true;
}

/**
 * A slot of `group` came free at `at`: its queued runs start, oldest first, while the group has fewer running runs than
 * the limit of the next (more than one when a deploy raised the limit).
 */
function startNextQueued(s: Statements, group: string, at: number): void {
  for (let next = s.oldestQueued.get(group); next; next = s.oldestQueued.get(group)) {
    if (s.groupSlotsTaken.get({ group, id: next.id })! >= next.limit) return;
    s.startQueued.run({ id: next.id, at });
  }
}

function appendPending(s: Statements, runId: string, resolution: Resolution, at: number, attempts?: number): void {
  s.insertPending.run({ runId, at, attempts: attempts ?? null, resolution: JSON.stringify(resolution) });
  s.makeReady.run({ id: runId, at });
}

export function addPendingUnlessTerminal(s: Statements, runId: string, resolution: Resolution, at: number): boolean {
  const run = s.getRunState.get(runId);
  if (!run || isTerminal(run.status as RunStatus)) return false;
  if (resolution.kind === 'cancel') {
    // A second request would only repeat the first one in the run's history.
    if (run.cancel_requested_at !== null) return false;
    s.markCancelRequested.run({ id: runId, at });
    // Its group's slot is not needed to end a run that ran no code: it is taken up at once, and ends without its code.
    if (run.status === 'queued') s.startQueued.run({ id: runId, at });
  }
  appendPending(s, runId, resolution, at);
  return true;
}

/**
 * A cancelled run's cancel, for a child still running. Only a run whose parent is `parentId` gets it: the list
 * comes from the workflow's sandbox, and a workflow must not reach runs that are not its own children. A child
 * that continued as new gets it in the run its chain goes on in.
 */
function cancelChild(s: Statements, parentId: string, child: { runId: string; reason: string }, at: number): void {
  const current = s.currentOfChildChain.get({ id: child.runId, parentId });
  if (current === undefined) return;
  addPendingUnlessTerminal(s, current, { kind: 'cancel', reason: child.reason }, at);
}

/** Creates a task's child; when another run holds its id, the parent's start of it fails instead (TaskCommit.children). */
function startChild(s: Statements, parentId: string, child: NewRun, at: number): void {
  if (insertRun(s, child)) return;
  const place = { id: child.id, parentId: child.parentId ?? null, parentStep: child.parentStep ?? null };
  if (s.isSameChild.get(place) !== undefined) return;
  const failure = childExistsResolution(child);
  if (failure) appendPending(s, parentId, failure, at);
}

/** The calls (leased to `owner` when they carry `leaseUntil`, else due at `nextAt`), timers and waits a task or a retry opens. */
function insertOutstanding(s: Statements, owner: string | null, work: Pick<TaskCommit, 'calls' | 'timers' | 'waits'>): void {
  for (const { leaseUntil, ...call } of work.calls) {
    s.insertCall.run({
      ...call,
      args: JSON.stringify(call.args),
      options: json(call.options),
      lastError: json(call.lastError),
      leaseOwner: leaseUntil === undefined ? null : owner,
      leaseUntil: leaseUntil ?? null,
    });
  }
  for (const timer of work.timers) s.insertTimer.run({ ...timer });
  for (const wait of work.waits) {
    s.insertWait.run({ ...wait, paths: JSON.stringify(wait.paths), timeoutAt: wait.timeoutAt ?? null });
  }
}

/** See TaskCommit.carrySignals; before the run's end deletes its pending and the record of what it received. */
function carrySignals(s: Statements, runId: string, { to, kept }: NonNullable<TaskCommit['carrySignals']>, at: number): void {
  for (const event of kept) s.carryKeptSignal.run({ runId, to, at, source: event.source, id: event.id, key: carriedSignalKey(to, event) });
  s.carryMailedSignals.run({ runId, to, at });
  s.carryUndeliveredSignals.run({ runId, to, at });
}

export function commitTask(s: Statements, commit: TaskCommit): TaskCommitResult {
  checkTaskCommit(commit);
  const { runId, owner } = commit;
  if (commit.create && !insertRun(s, commit.create.run, commit.create.lease)) return { ok: false, reason: 'exists' };
  const run = s.getRunState.get(runId);
  if (!run) return { ok: false, reason: 'not_found' };
  const leasedToOther = run.lease_owner !== null && run.lease_owner !== owner;
  if (run.history_length !== commit.expectedHistoryLength || leasedToOther) return { ok: false, reason: 'fenced' };

  const at = taskTime(commit, run.updated_at);
  for (const id of commit.consumedPending) s.deletePending.run(runId, id);
  const [first] = commit.history;
  if (first) s.insertHistory.run(runId, first.seq, JSON.stringify(commit.history));
  for (const step of commit.resolvedCalls) s.deleteCall.run(runId, step);
  insertOutstanding(s, owner, commit);
  for (const child of commit.children) startChild(s, runId, child, at);
  for (const log of commit.logs) s.insertLog.run({ ...log });
  if (commit.carrySignals) carrySignals(s, runId, commit.carrySignals, at);
  if (commit.status) {
    const { status, result, error } = commit.status;
    s.setStatus.run({ id: runId, status, result: json(result), error: json(error) });
    if (run.concurrency_group !== null && freesSlot(run.status as RunStatus, status)) startNextQueued(s, run.concurrency_group, at);
    if (isTerminal(status)) {
      s.deleteCallsOfRun.run(runId);
      s.deleteTimersOfRun.run(runId);
      s.deleteWaitsOfRun.run(runId);
      s.deletePendingOfRun.run(runId);
      // Kept by a failed run, which a retry brings back: it must not receive again what it received before.
      if (status !== 'failed') s.deleteConsumedOfRun.run(runId);
      s.cancelOpenHumanTasksOfRun.run({ runId, at });
    }
  }
  if (commit.successor) insertRun(s, commit.successor, undefined, true);
  if (commit.notifyParent) addPendingUnlessTerminal(s, commit.notifyParent.runId, commit.notifyParent.resolution, at);
  for (const child of commit.cancelChildren ?? []) cancelChild(s, runId, child, at);
  for (const { event, dedupeKey } of commit.events ?? []) insertEvent(s, event, dedupeKey, at);
  s.finishTask.run({ id: runId, added: commit.history.length, at });
  return { ok: true, pending: s.loadPending.all(runId).map(toPending) };
}

/**
 * See Store.retryRun. Nothing is written before both checks pass: the run is still failed (or stuck) at the
 * expected length, and a failed run's retry point is 0 or the seq of one of its history rows (a row holds one
 * workflow task since migration 005), so that no task is cut in two.
 */
export function retryRun(s: Statements, retry: RunRetry): boolean {
  checkRunRetry(retry);
  const { runId, keepHistoryLength: keep, at } = retry;
  const run = s.getRunState.get(runId);
  const from = run && retriedStatus(run.status as RunStatus, retry);
  if (!run || !from || run.history_length !== retry.expectedHistoryLength || run.updated_at !== retry.expectedUpdatedAt) {
    return false;
  }
  if (from === 'failed' && keep !== 0 && s.isHistoryRow.get(runId, keep) === undefined) throw retryPointError(retry);
  // A stuck run kept its slot.
  if (run.concurrency_group !== null && from === 'failed') {
    const concurrency = { group: run.concurrency_group, limit: run.concurrency_limit ?? 1 };
    const taken = s.groupSlotsTaken.get({ group: concurrency.group, id: runId })!;
    if (taken >= concurrency.limit) throw groupFullError(runId, concurrency, taken);
  }
  s.recordRetry.run({ id: runId, at, by: retry.by ?? null, version: retry.version, keptHistory: keep });
  s.deleteHistoryFrom.run(runId, keep);
  s.deleteLogsFrom.run(runId, keep * MAX_LOGS_PER_TASK);
  s.reopenRun.run({ id: runId, version: retry.version, historyLength: keep, at, ready: retryNeedsTask(retry, from) ? 1 : 0 });
  // Not appendPending: the run is ready since `at`, whenever its resolutions happened.
  for (const item of retry.pending) {
    s.insertPending.run({ runId, at: item.at, attempts: item.attempts ?? null, resolution: JSON.stringify(item.resolution) });
  }
  insertOutstanding(s, null, retry);
  for (const child of retry.children ?? []) startChild(s, runId, child, at);
  // A stuck run's forms stayed open: only a failure cancels them.
  if (from === 'failed') s.reopenCancelledHumanTasksOfRun.run({ runId, at: retry.expectedUpdatedAt });
  return true;
}

export function deleteOldEvents(s: Statements, receivedBefore: number, throughSeq: number, limit: number): number {
  let deleted = 0;
  for (const event of s.oldestEvents.all(rowLimit(limit))) {
    if (event.received_at >= receivedBefore || event.seq > throughSeq) break;
    if (event.routed) deleted += s.deleteEvent.run(event.seq).changes;
  }
  return deleted;
}

export function deleteUnusedDefinitions(s: Statements, deployedBefore: number, limit: number): number {
  let deleted = 0;
  for (const version of s.unusedDefinitions.all({ before: deployedBefore, limit: rowLimit(limit) })) {
    deleted += s.deleteDefinition.run(version).changes;
  }
  return deleted;
}

/** Up to `limit` runs that ended before `endedBefore` and that no run refers to: retention's candidates. */
export function endedRuns(s: Statements, endedBefore: number, limit: number): string[] {
  const ids: string[] = [];
  for (const status of TERMINAL_STATUSES) {
    ids.push(...s.endedRuns.all({ status, before: endedBefore, limit: rowLimit(limit) - ids.length }));
  }
  return ids;
}

/**
 * The first step of deleting run `id`: it is marked (from now on it reads as gone, a sweep that
 * stops here finishes it next time) and its human tasks go. False when it is no longer to be
 * deleted. Its history and logs go next in chunks (deleteRunRows), and the run last.
 */
export function startDeletingRun(s: Statements, id: string, endedBefore: number): boolean {
  if (s.markDeleting.run({ id, before: endedBefore }).changes === 0) return false;
  s.deleteHumanTasksOfRun.run(id);
  return true;
}

/** Deletes up to `rows` log lines and history rows of run `id`, the logs first; how many it deleted. */
export function deleteRunRows(s: Statements, id: string, rows: number): number {
  const logs = s.deleteLogsChunk.run({ id, rows }).changes;
  return logs < rows ? logs + s.deleteHistoryChunk.run({ id, rows: rows - logs }).changes : logs;
}

export function routeEvent(s: Statements, routing: EventRouting): RouteResult {
  const row = s.getEvent.get(routing.eventSeq);
  if (!row) throw new NotFoundError('event', String(routing.eventSeq));
  const event = toCloudEvent(row);
  const createdRunIds = routing.newRuns.filter((run) => insertRun(s, run, routing.lease)).map((run) => run.id);
  const deliveredRunIds: string[] = [];
  for (const { runId, step } of routing.deliveries) {
    // A lookback refuses an event the run received in an earlier routing; the waits it lists together all get it.
    const receivedBefore = !routing.markRouted && !deliveredRunIds.includes(runId) && s.isConsumed.get(runId, row.seq) !== undefined;
    if (receivedBefore || s.deleteWait.run(runId, step).changes === 0) continue;
    s.deleteWaitTimeout.run(runId, step);
    s.insertConsumed.run(runId, row.seq);
    appendPending(s, runId, { kind: 'wait', step, event }, row.received_at);
    if (!deliveredRunIds.includes(runId)) deliveredRunIds.push(runId);
  }
  const markedRouted = routing.markRouted && s.markRouted.run(row.seq).changes > 0;
  return { createdRunIds, deliveredRunIds, markedRouted };
}

export function resolveCall(
  s: Statements,
  runId: string,
  step: number,
  resolution: Resolution,
  attempts: number,
  at: number,
  owner: string | undefined,
): boolean {
  if (s.deleteCallFenced.run({ runId, step, owner: owner ?? null }).changes === 0) return false;
  appendPending(s, runId, resolution, at, attempts);
  return true;
}

export function claimReadyRuns(
  s: Statements,
  owner: string,
  now: number,
  leaseUntil: number,
  limit: number,
  busy?: BusyWorkflows,
): string[] {
  const wanted = rowLimit(limit);
  const ids = takeInTurnReading(
    s.readyWorkflows.all(),
    (workflow, offset, count) => s.claimableRunsOf.all({ workflow, owner, now, limit: count, offset }),
    s.cancellingRuns.all({ owner, now, limit: wanted }).map((run) => ({ ...run, cancelling: true })),
    wanted,
    busy,
  );
  for (const id of ids) s.leaseRun.run({ id, owner, leaseUntil });
  return ids;
}

/** Leases the calls found to `owner`; each comes back with its attempts as the lease counted them, and the lease it took over. */
function leaseCalls(s: Statements, calls: LeasedCallRow[], owner: string, leaseUntil: number): ClaimedCall[] {
  return calls.map((call) => toClaimedCall(call, s.leaseCall.get({ runId: call.run_id, step: call.step, owner, leaseUntil })!));
}

export function claimDueCalls(s: Statements, owner: string, now: number, leaseUntil: number, limit: number): ClaimedCall[] {
  return leaseCalls(s, s.dueCalls.all({ now, limit: rowLimit(limit) }), owner, leaseUntil);
}

export function reclaimOwnCalls(s: Statements, owner: string, now: number, leaseUntil: number, limit: number): ClaimedCall[] {
  return leaseCalls(s, s.ownLeasedCalls.all({ owner, now, leaseUntil, limit: rowLimit(limit) }), owner, leaseUntil);
}

export function fireDueTimers(s: Statements, now: number, limit: number): string[] {
  const affected: string[] = [];
  for (const { run_id: runId, step, kind } of s.dueTimers.all({ now, limit: rowLimit(limit) })) {
    s.deleteTimer.run(runId, step);
    if (kind === 'sleep') appendPending(s, runId, { kind: 'timer', step }, now);
    else if (s.deleteWait.run(runId, step).changes > 0) appendPending(s, runId, { kind: 'wait', step, event: null }, now);
    else continue;
    if (!affected.includes(runId)) affected.push(runId);
  }
  return affected;
}

/** Extends the leases still held by `owner`; see Store.renewLeases. */
export function renewLeases(
  s: Statements,
  owner: string,
  runIds: string[],
  runLeaseUntil: number,
  calls: Array<{ runId: string; step: number }>,
  callLeaseUntil: number,
): { runs: number; lostCalls: Array<{ runId: string; step: number }> } {
  let runs = 0;
  for (const id of new Set(runIds)) runs += s.renewRunLease.run({ id, owner, leaseUntil: runLeaseUntil }).changes;
  const lostCalls = calls
    .filter(({ runId, step }) => s.renewCallLease.run({ runId, step, owner, leaseUntil: callLeaseUntil }).changes === 0)
    .map(({ runId, step }) => ({ runId, step }));
  return { runs, lostCalls };
}

export function releaseLeases(s: Statements, owner: string, runIds: string[]): void {
  for (const id of new Set(runIds)) s.releaseRun.run({ id, owner });
  s.releaseCallLeases.run({ owner });
}
