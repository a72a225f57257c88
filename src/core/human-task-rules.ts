/**
 * The rules of forms and approvals, pure: who may act, what a submission or decision does to a
 * task, and what its outcome is when it closes for another reason. Operations apply the result to
 * the store with a compare-and-set, so two people deciding at once cannot both win a closed task.
 */
import { checkFormFields } from './forms.js';
import { stableHash } from './hash.js';
import type { ApprovalDecision, ApprovalSpec, HumanTaskKind, HumanTaskOutcome, HumanTaskRecord, HumanTaskStatus } from './human-task.js';
import type { JsonObject } from './model.js';
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

const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string' && item.trim() !== '');

/** Every problem with a form or approval definition; empty when it is valid. */
export function checkTaskSpec(kind: HumanTaskKind, spec: unknown): string[] {
  if (typeof spec !== 'object' || spec === null) return [`the ${kind} definition must be an object`];
  const fields = spec as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof fields['title'] !== 'string' || fields['title'].trim() === '') problems.push('title must be a non-empty string');
  else if (fields['title'].length > 300) problems.push('title must be at most 300 characters');
  if (fields['description'] !== undefined && typeof fields['description'] !== 'string') problems.push('description must be a string (markdown)');
  if (kind === 'form') {
    if (!isStringList(fields['assignees'])) problems.push('assignees must be a non-empty list of GitLab usernames or group paths');
    problems.push(...checkFormFields(fields['fields']));
  } else {
    if (!isStringList(fields['approvers'])) problems.push('approvers must be a non-empty list of GitLab usernames or group paths');
    const required = fields['required'];
    if (required !== undefined && (!Number.isInteger(required) || (required as number) < 1)) problems.push('required must be a whole number of at least 1');
  }
  return problems;
}

const lower = (username: string): string => username.toLowerCase();

export type Refusal =
  | { code: 'closed'; message: string }
  | { code: 'not_eligible'; message: string }
  | { code: 'already_decided'; message: string };

type Change = Omit<HumanTaskUpdate, 'event'>;
export type RuleResult = { ok: true; change: Change } | { ok: false; refusal: Refusal };

function refuseClosed(task: HumanTaskRecord): RuleResult | undefined {
  return task.status === 'open' ? undefined : { ok: false, refusal: { code: 'closed', message: `task ${task.id} is already ${task.status}` } };
}

function close(task: HumanTaskRecord, status: HumanTaskStatus, decisions: ApprovalDecision[], outcome: HumanTaskOutcome, at: number): Change {
  return { id: task.id, expectedRevision: task.revision, status, decisions, outcome, closedAt: at };
}

/** A form submission by `by` with values already validated against the form's fields. */
export function submitForm(task: HumanTaskRecord, by: string, values: JsonObject, at: number): RuleResult {
  const closed = refuseClosed(task);
  if (closed) return closed;
  if (task.kind !== 'form') return { ok: false, refusal: { code: 'closed', message: `task ${task.id} is an approval, not a form` } };
  if (!task.eligible.includes(lower(by))) {
    return { ok: false, refusal: { code: 'not_eligible', message: `${by} is not an assignee of task ${task.id}` } };
  }
  const outcome: HumanTaskOutcome = { status: 'submitted', values, by: lower(by), at: new Date(at).toISOString() };
  return { ok: true, change: close(task, 'submitted', [], outcome, at) };
}

/** An approver's decision: the first rejection closes the task, the `required`-th approval too. */
export function decideApproval(task: HumanTaskRecord, input: { by: string; decision: 'approve' | 'reject'; comment?: string }, at: number): RuleResult {
  const closed = refuseClosed(task);
  if (closed) return closed;
  if (task.kind !== 'approval') return { ok: false, refusal: { code: 'closed', message: `task ${task.id} is a form, not an approval` } };
  const spec = task.spec as unknown as ApprovalSpec;
  const by = lower(input.by);
  if (!task.eligible.includes(by)) return { ok: false, refusal: { code: 'not_eligible', message: `${input.by} is not an approver of task ${task.id}` } };
  if (input.decision === 'approve' && !spec.allowSelfApproval && spec.initiator !== undefined && lower(spec.initiator) === by) {
    return { ok: false, refusal: { code: 'not_eligible', message: `${input.by} asked for this change and may not approve it (allowSelfApproval is off)` } };
  }
  if (task.decisions.some((decision) => decision.by === by)) {
    return { ok: false, refusal: { code: 'already_decided', message: `${input.by} has already decided on task ${task.id}` } };
  }
  const comment = input.comment?.trim();
  const decision: ApprovalDecision = { by, decision: input.decision, ...(comment ? { comment } : {}), at: new Date(at).toISOString() };
  const decisions = [...task.decisions, decision];
  const approvals = decisions.filter((entry) => entry.decision === 'approve').length;
  if (input.decision === 'reject') return { ok: true, change: close(task, 'rejected', decisions, { status: 'rejected', decisions }, at) };
  if (approvals >= (spec.required ?? 1)) return { ok: true, change: close(task, 'approved', decisions, { status: 'approved', decisions }, at) };
  return { ok: true, change: { id: task.id, expectedRevision: task.revision, status: 'open', decisions } };
}

/** The outcome of a task closed by its deadline or by the workflow. */
export function closedOutcome(task: Pick<HumanTaskRecord, 'kind' | 'decisions'>, status: 'timed_out' | 'cancelled'): HumanTaskOutcome {
  if (task.kind === 'approval') return { status, decisions: task.decisions };
  return status === 'timed_out' ? { status } : { status };
}

/** Who still has to act: every eligible user for an open form, approvers yet to decide for an approval. */
export function pendingPeople(task: HumanTaskRecord): string[] {
  if (task.status !== 'open') return [];
  const decided = new Set(task.decisions.map((decision) => decision.by));
  return task.eligible.filter((user) => !decided.has(user));
}
