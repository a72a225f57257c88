import type { Command, HistoryEvent, HistoryPayload, Json, Resolution } from './model.js';
import type { SecretSource } from './ports.js';
import { redactJson } from './secrets.js';

/**
 * The fields of a history record that hold what a run was given, computed or received, where a secret's value may
 * be. The others (the record's type, workflow and version, ids, steps, times, call sites, capability and method names)
 * are the engine's own and are recorded as written: a secret whose value also occurs in them would otherwise change
 * what the record is (`run_started` stored as `run_st{{secret:X}}rted`), and the run could not be read back.
 */
const DATA_FIELDS: ReadonlySet<string> = new Set([
  'input',
  'value',
  'error',
  'event',
  'reason',
  'by',
  'args',
  'eventType',
  'match',
  'result',
]);

/** A history record with secret values in its data fields replaced by references (secrets.ts); the same record when none held one. */
export function redactHistoryPayload<T extends HistoryPayload>(payload: T, secrets: SecretSource, readable: readonly string[] = []): T {
  let redacted: Record<string, unknown> | undefined;
  for (const [field, value] of Object.entries(payload)) {
    if (!DATA_FIELDS.has(field)) continue;
    const after = redactJson(value as Json, secrets, readable);
    if (after !== value) (redacted ??= { ...payload })[field] = after;
  }
  return (redacted ?? payload) as T;
}

/**
 * `resolution` as its history record gives it back on replay, which is what a live task must deliver too: a call's
 * answer is stored as it came (sealed where it entered the engine), the rest — an event or a signal, a child's end, a
 * cancel's reason — with secret values redacted (`redactHistoryPayload`). Delivered as it came instead, code that
 * branches on such text (an input field or a signal equal to a secret's value) would replay another branch.
 */
export function asRecorded(resolution: Resolution, secrets: SecretSource, readable: readonly string[]): Resolution {
  if (resolution.kind === 'call') return resolution;
  const recorded = redactHistoryPayload(resolutionToHistory(resolution, undefined), secrets, readable);
  return historyToResolution(recorded) ?? resolution;
}

/** The history record of a resolution consumed by a workflow task. */
export function resolutionToHistory(resolution: Resolution, attempts: number | undefined): HistoryPayload {
  switch (resolution.kind) {
    case 'call':
      return resolution.ok
        ? { type: 'call_completed', step: resolution.step, value: resolution.value, attempts: attempts ?? 1 }
        : { type: 'call_failed', step: resolution.step, error: resolution.error, attempts: attempts ?? 1 };
    case 'timer':
      return { type: 'timer_fired', step: resolution.step };
    case 'wait':
      return resolution.event
        ? { type: 'wait_satisfied', step: resolution.step, event: resolution.event }
        : { type: 'wait_timed_out', step: resolution.step };
    case 'child':
      return resolution.ok
        ? { type: 'child_completed', step: resolution.step, value: resolution.value }
        : { type: 'child_failed', step: resolution.step, error: resolution.error, ...(resolution.notStarted && { notStarted: true }) };
    case 'cancel':
      return {
        type: 'cancel_requested',
        ...(resolution.reason !== undefined && { reason: resolution.reason }),
        ...(resolution.by !== undefined && { by: resolution.by }),
      };
  }
}

/** The resolution a history record stands for, or undefined when the record is not one. */
export function historyToResolution(event: HistoryPayload): Resolution | undefined {
  switch (event.type) {
    case 'call_completed':
      return { kind: 'call', step: event.step, ok: true, value: event.value };
    case 'call_failed':
      return { kind: 'call', step: event.step, ok: false, error: event.error };
    case 'timer_fired':
      return { kind: 'timer', step: event.step };
    case 'wait_satisfied':
      return { kind: 'wait', step: event.step, event: event.event };
    case 'wait_timed_out':
      return { kind: 'wait', step: event.step, event: null };
    case 'child_completed':
      return { kind: 'child', step: event.step, ok: true, value: event.value };
    case 'child_failed':
      return { kind: 'child', step: event.step, ok: false, error: event.error, ...(event.notStarted && { notStarted: true }) };
    case 'cancel_requested':
      return {
        kind: 'cancel',
        ...(event.reason !== undefined && { reason: event.reason }),
        ...(event.by !== undefined && { by: event.by }),
      };
    default:
      return undefined;
  }
}

/** A durable command as history records it; logs are not history. */
export function commandToHistory(command: Command, newRunId?: string): HistoryPayload | undefined {
  switch (command.kind) {
    case 'call':
      return withSite(
        { type: 'call_scheduled', step: command.step, capability: command.capability, method: command.method, args: command.args },
        command.site,
      );
    case 'timer':
      return withSite(
        { type: 'timer_started', step: command.step, fireAt: command.fireAt, ...(command.timeout && { timeout: true as const }) },
        command.site,
      );
    case 'wait': {
      const payload: HistoryPayload = { type: 'wait_started', step: command.step, eventType: command.eventType, match: command.match };
      if (command.timeoutAt !== undefined) payload.timeoutAt = command.timeoutAt;
      return withSite(payload, command.site);
    }
    case 'child':
      return withSite({ type: 'child_started', step: command.step, childId: command.childId, workflow: command.workflow }, command.site);
    case 'patch':
      return withSite({ type: 'patch_marker', patchId: command.patchId }, command.site);
    case 'complete':
      return { type: 'run_completed', result: command.result };
    case 'fail':
      return { type: 'run_failed', error: command.error };
    case 'cancelled':
      return { type: 'run_cancelled' };
    case 'continueAsNew':
      return { type: 'run_continued', newRunId: newRunId ?? '' };
    // Neither is history: a cancel request is visible in the child's history (`cancel_requested`, with the reason).
    case 'log':
    case 'cancelChild':
      return undefined;
  }
}

function withSite<T extends HistoryPayload & { site?: string }>(payload: T, site: string | undefined): T {
  if (site !== undefined) payload.site = site;
  return payload;
}

const COMMAND_TYPES = new Set<HistoryEvent['type']>([
  'call_scheduled',
  'timer_started',
  'wait_started',
  'child_started',
  'patch_marker',
  'run_completed',
  'run_failed',
  'run_cancelled',
  'run_continued',
]);

export function isCommandRecord(event: HistoryEvent): boolean {
  return COMMAND_TYPES.has(event.type);
}

/** A one-line description of a command record, for nondeterminism reports and the CLI. */
export function describeRecord(event: HistoryPayload): string {
  switch (event.type) {
    case 'call_scheduled':
      return `call ${event.capability}.${event.method}`;
    case 'timer_started':
      return `${event.timeout ? "the run's timeout (workflow({ timeout }))," : 'timer'} until ${new Date(event.fireAt).toISOString()}`;
    case 'wait_started':
      return `wait for ${event.eventType}`;
    case 'child_started':
      return `child workflow ${event.workflow}`;
    case 'patch_marker':
      return `patched('${event.patchId}')`;
    case 'run_completed':
      return 'completion of the run';
    case 'run_failed':
      return 'failure of the run';
    case 'run_cancelled':
      return 'cancellation of the run';
    case 'run_continued':
      return 'continue-as-new';
    default:
      return event.type;
  }
}

/**
 * The child run each step of a history started, by its `child_started` record: the records of how a child ended
 * (`child_completed`, `child_failed`) have only the step, and a reader wants the run.
 */
export function childRunsByStep(history: readonly HistoryEvent[]): (step: number) => string | undefined {
  const ids = new Map<number, string>();
  for (const event of history) if (event.type === 'child_started') ids.set(event.step, event.childId);
  return (step) => ids.get(step);
}
