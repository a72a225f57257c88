/**
 * The rules of forms and approvals, pure: who may act, what a submission or decision does to a
 * task, and what its outcome is when it closes for another reason. Operations apply the result to
 * the store with a compare-and-set, so two people deciding at once cannot both win a closed task.
 */
import { checkFormFields } from './forms.js';
import { stableHash } from './hash.js';
import {
  TASK_CLOSED_EVENT,
  type ApprovalDecision,
  type ApprovalSpec,
  type HumanTaskKind,
  type HumanTaskOutcome,
  type HumanTaskRecord,
  type HumanTaskStatus,
} from './human-task.js';
import type { HistoryEvent, Json, JsonObject } from './model.js';
import type { HumanTaskUpdate } from './ports.js';

/** The task a run's call at `step` creates: the same id on every attempt of that call. */
export function humanTaskId(runId: string, step: number): string {
  return `tk_${stableHash(`${runId}:${step}`)}`;
}

/** An entry of `assignees`/`approvers` that names a group rather than a user. */
export function groupPathOf(entry: string): string | undefined {
  if (entry.startsWith('group:')) return entry.slice('group:'.length);
  return entry.includes('/') ? entry : undefined;
}

/** The longest comment an approver may give with a decision, in characters: the page's box and the server agree. */
export const MAX_DECISION_COMMENT = 5000;

/**
 * A GitLab username as tasks compare them: `@Alice `, `alice` and `ALICE` are one person. Every
 * name a task is given (assignees, approvers, the initiator) and every acting user goes through it.
 */
export function normaliseUsername(name: string): string {
  return name.trim().replace(/^@/, '').trim().toLowerCase();
}

/** Whether `username` asked for the change and so may not approve it (self-approval is off). */
export function isBlockedInitiator(spec: Pick<ApprovalSpec, 'initiator' | 'allowSelfApproval'>, username: string): boolean {
  return !spec.allowSelfApproval && spec.initiator !== undefined && normaliseUsername(spec.initiator) === normaliseUsername(username);
}

/**
 * Why an approval could never be approved by `eligible` (usernames, groups expanded): fewer of
 * them may approve than it requires once the initiator is left out. Undefined when it can be.
 */
export function quorumProblem(
  spec: Pick<ApprovalSpec, 'required' | 'initiator' | 'allowSelfApproval'>,
  eligible: readonly string[],
): string | undefined {
  const required = spec.required ?? 1;
  const approvers = [...new Set(eligible.map(normaliseUsername))].filter((user) => !isBlockedInitiator(spec, user));
  if (approvers.length >= required) return undefined;
  const who = approvers.length === 0 ? 'nobody' : approvers.map((user) => `@${user}`).join(', ');
  const initiator =
    spec.initiator !== undefined && !spec.allowSelfApproval ? ` (not the initiator @${normaliseUsername(spec.initiator)})` : '';
  return `required is ${required} but only ${approvers.length} may approve: ${who}${initiator}; lower required, add approvers or set allowSelfApproval`;
}

const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string' && item.trim() !== '');

/** Every problem with a form or approval definition; empty when it is valid. */
export function checkTaskSpec(kind: HumanTaskKind, spec: unknown): string[] {
  if (typeof spec !== 'object' || spec === null) return [`the ${kind} definition must be an object`];
  const fields = spec as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof fields['title'] !== 'string' || fields['title'].trim() === '') problems.push('title must be a non-empty string');
  else if (fields['title'].length > 300) problems.push('title must be at most 300 characters');
  if (fields['description'] !== undefined && typeof fields['description'] !== 'string')
    problems.push('description must be a string (markdown)');
  if (kind === 'form') {
    if (!isStringList(fields['assignees'])) problems.push('assignees must be a non-empty list of GitLab usernames or group paths');
    problems.push(...checkFormFields(fields['fields']));
  } else {
    problems.push(...checkApprovers(fields));
  }
  return problems;
}

/** The approval's own keys, then — once they are sound — whether its quorum can be reached. */
function checkApprovers(fields: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (!isStringList(fields['approvers'])) problems.push('approvers must be a non-empty list of GitLab usernames or group paths');
  const required = fields['required'];
  if (required !== undefined && (!Number.isInteger(required) || (required as number) < 1))
    problems.push('required must be a whole number of at least 1');
  const initiator = fields['initiator'];
  if (initiator !== undefined && (typeof initiator !== 'string' || initiator.trim() === ''))
    problems.push('initiator must be a GitLab username');
  return problems.length > 0 ? problems : staticQuorumProblems(fields as unknown as ApprovalSpec);
}

/** The quorum check of an approval that names only users; with groups it waits for their members (`tasks.approval` checks then). */
function staticQuorumProblems(spec: ApprovalSpec): string[] {
  if (spec.approvers.some((entry) => groupPathOf(entry) !== undefined)) return [];
  const problem = quorumProblem(spec, spec.approvers);
  return problem === undefined ? [] : [problem];
}

export type Refusal =
  { code: 'closed'; message: string } | { code: 'not_eligible'; message: string } | { code: 'already_decided'; message: string };

type Change = Omit<HumanTaskUpdate, 'event'>;
export type RuleResult = { ok: true; change: Change } | { ok: false; refusal: Refusal };

/**
 * A task that takes no more answers: closed, or past its deadline. The run closes it as `timed_out` only when it
 * next looks (it may be busy, or the server down, at the deadline), so an answer given after it must not be taken.
 */
function refuseClosed(task: HumanTaskRecord, at: number): RuleResult | undefined {
  if (task.status !== 'open') return { ok: false, refusal: { code: 'closed', message: `task ${task.id} is already ${task.status}` } };
  if (task.dueAt !== undefined && at >= task.dueAt) {
    const due = new Date(task.dueAt).toISOString();
    return {
      ok: false,
      refusal: { code: 'closed', message: `task ${task.id} was due at ${due} and takes no more answers: it closes as timed out` },
    };
  }
  return undefined;
}

function close(
  task: HumanTaskRecord,
  status: HumanTaskStatus,
  decisions: ApprovalDecision[],
  outcome: HumanTaskOutcome,
  at: number,
): Change {
  return { id: task.id, expectedRevision: task.revision, status, decisions, outcome, closedAt: at };
}

/** A form submission by `by` with values already validated against the form's fields. */
export function submitForm(task: HumanTaskRecord, by: string, values: JsonObject, at: number): RuleResult {
  const closed = refuseClosed(task, at);
  if (closed) return closed;
  if (task.kind !== 'form') return { ok: false, refusal: { code: 'closed', message: `task ${task.id} is an approval, not a form` } };
  if (!task.eligible.includes(normaliseUsername(by))) {
    return { ok: false, refusal: { code: 'not_eligible', message: `${by} is not an assignee of task ${task.id}` } };
  }
  const outcome: HumanTaskOutcome = { status: 'submitted', values, by: normaliseUsername(by), at: new Date(at).toISOString() };
  return { ok: true, change: close(task, 'submitted', [], outcome, at) };
}

/** An approver's decision: the first rejection closes the task, the `required`-th approval too. */
export function decideApproval(
  task: HumanTaskRecord,
  input: { by: string; decision: 'approve' | 'reject'; comment?: string },
  at: number,
): RuleResult {
  const closed = refuseClosed(task, at);
  if (closed) return closed;
  if (task.kind !== 'approval') return { ok: false, refusal: { code: 'closed', message: `task ${task.id} is a form, not an approval` } };
  const spec = task.spec as unknown as ApprovalSpec;
  const by = normaliseUsername(input.by);
  if (!task.eligible.includes(by))
    return { ok: false, refusal: { code: 'not_eligible', message: `${input.by} is not an approver of task ${task.id}` } };
  if (input.decision === 'approve' && isBlockedInitiator(spec, by)) {
    return {
      ok: false,
      refusal: { code: 'not_eligible', message: `${input.by} asked for this change and may not approve it (allowSelfApproval is off)` },
    };
  }
  if (task.decisions.some((decision) => decision.by === by)) {
    return { ok: false, refusal: { code: 'already_decided', message: `${input.by} has already decided on task ${task.id}` } };
  }
  const comment = input.comment?.trim();
  const decision: ApprovalDecision = { by, decision: input.decision, ...(comment ? { comment } : {}), at: new Date(at).toISOString() };
  const decisions = [...task.decisions, decision];
  const approvals = decisions.filter((entry) => entry.decision === 'approve').length;
  if (input.decision === 'reject') return { ok: true, change: close(task, 'rejected', decisions, { status: 'rejected', decisions }, at) };
  if (approvals >= (spec.required ?? 1))
    return { ok: true, change: close(task, 'approved', decisions, { status: 'approved', decisions }, at) };
  return { ok: true, change: { id: task.id, expectedRevision: task.revision, status: 'open', decisions } };
}

/** The outcome of a task closed by its deadline or by the workflow. */
export function closedOutcome(task: Pick<HumanTaskRecord, 'kind' | 'decisions'>, status: 'timed_out' | 'cancelled'): HumanTaskOutcome {
  if (task.kind === 'approval') return { status, decisions: task.decisions };
  return status === 'timed_out' ? { status } : { status };
}

/**
 * Who still has to act: every eligible user for an open form, approvers yet to decide for an approval. The initiator,
 * who may reject their own change but not approve it, is not waited for (reminders would ask them for what they cannot give).
 */
export function pendingPeople(task: HumanTaskRecord): string[] {
  if (task.status !== 'open') return [];
  const decided = new Set(task.decisions.map((decision) => decision.by));
  const initiator = (user: string) => task.kind === 'approval' && isBlockedInitiator(task.spec, user);
  return task.eligible.filter((user) => !decided.has(user) && !initiator(user));
}

/**
 * Who closed a task, from its outcome (the data of its closing event): `submitted by @bob`,
 * `approved by @alice, @bob`, `rejected by @carol`, or just the status when nobody answered.
 */
export function describeOutcome(outcome: Json | undefined): string | undefined {
  if (typeof outcome !== 'object' || outcome === null || Array.isArray(outcome)) return undefined;
  const { status, by } = outcome;
  if (typeof status !== 'string') return undefined;
  if (status === 'submitted' && typeof by === 'string') return `submitted by @${by}`;
  const decision = status === 'approved' ? 'approve' : status === 'rejected' ? 'reject' : undefined;
  const decisions = Array.isArray(outcome['decisions']) ? (outcome['decisions'] as unknown as ApprovalDecision[]) : [];
  const deciders = decisions.filter((entry) => entry.decision === decision).map((entry) => `@${entry.by}`);
  return deciders.length > 0 ? `${status} by ${deciders.join(', ')}` : status.replace('_', ' ');
}

/** A run's wait as its history records it. */
export type WaitStarted = Extract<HistoryEvent, { type: 'wait_started' }>;

/**
 * The deadline each wait of a run's history stands for, as a function of the wait. A task's wait
 * also wakes to remind and, once a day, to read the task's state: its own timeout is no deadline.
 * The task's deadline (if any) is the `dueAt` its `tasks.create` call carried.
 */
export function waitDeadlines(history: readonly HistoryEvent[]): (wait: WaitStarted) => number | undefined {
  const dueAtByStep = new Map<number, number | undefined>();
  const dueAtByTask = new Map<string, number | undefined>();
  for (const event of history) {
    if (event.type === 'call_scheduled' && event.capability === 'tasks' && event.method === 'create') {
      const dueAt = (event.args as { dueAt?: unknown } | null)?.dueAt;
      dueAtByStep.set(event.step, typeof dueAt === 'number' ? dueAt : undefined);
    } else if (event.type === 'call_completed' && dueAtByStep.has(event.step)) {
      const id = (event.value as { id?: unknown } | null)?.id;
      if (typeof id === 'string') dueAtByTask.set(id, dueAtByStep.get(event.step));
    }
  }
  return (wait) => {
    const task = wait.eventType === TASK_CLOSED_EVENT ? wait.match['subject'] : undefined;
    // A task this run did not open through `tasks` is some other wait: its timeout is its own.
    return typeof task === 'string' && dueAtByTask.has(task) ? dueAtByTask.get(task) : wait.timeoutAt;
  };
}
