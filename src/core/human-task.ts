/**
 * People in the loop: forms and approvals a run waits for. Plain data shared by the SDK (which
 * checks a definition before it leaves the sandbox), the `tasks` capability (which stores it), the
 * operations (which validate and record what people submit) and the web UI (which renders it).
 * The field list is the form's one schema: the UI renders from it and the server validates with it.
 */
import { storableJsonProblem } from './storable-json.js';
import type { CloudEvent, Json, JsonObject } from './model.js';

interface FieldBase {
  /** Key of the value in the submitted `values`: letters, digits, `_` and `-`. */
  name: string;
  label: string;
  /** Help text under the field (plain text). */
  help?: string;
  /** @default true */
  required?: boolean;
}

export type FormField =
  | (FieldBase & { type: 'text'; default?: string; minLength?: number; maxLength?: number; placeholder?: string })
  | (FieldBase & { type: 'textarea'; default?: string; minLength?: number; maxLength?: number; placeholder?: string })
  | (FieldBase & { type: 'number'; default?: number; min?: number; max?: number; integer?: boolean })
  | (FieldBase & { type: 'boolean'; default?: boolean })
  | (FieldBase & { type: 'choice'; options: ChoiceOption[]; default?: string })
  | (FieldBase & { type: 'multichoice'; options: ChoiceOption[]; default?: string[]; minSelected?: number; maxSelected?: number })
  /** A calendar date, `YYYY-MM-DD`. */
  | (FieldBase & { type: 'date'; default?: string; min?: string; max?: string });

export type FormFieldType = FormField['type'];

/** A choice as a bare string (value and label alike) or with its own label. */
export type ChoiceOption = string | { value: string; label: string };

/** The GitLab object a task is about: its page links to it, and reminders are posted there. */
export interface TaskContext {
  /** Project path (`acme/app`) or id. */
  project: string;
  issueIid?: number;
  mergeRequestIid?: number;
  /** Extra lines shown on the task page (plain text). */
  note?: string;
}

export interface FormSpec {
  title: string;
  /** Markdown, rendered safely on the task page. */
  description?: string;
  fields: FormField[];
  /**
   * Who may submit: GitLab usernames, and group paths written with a slash (`acme/team`) or as
   * `group:acme` — any member of the group, inherited membership included.
   */
  assignees: string[];
  /** Duration (`'7d'`) or ms; the task then resolves `{ status: 'timed_out' }`. */
  timeout?: string | number;
  /** Re-notify those who have not answered, every this long (duration or ms). */
  remind?: string | number;
  context?: TaskContext;
}

export interface ApprovalSpec {
  title: string;
  description?: string;
  /** GitLab usernames or group paths, as for form assignees. */
  approvers: string[];
  /** Approvals needed. @default 1 */
  required?: number;
  /** Whether the run's initiator (`initiator`) may approve. @default false */
  allowSelfApproval?: boolean;
  /** Username of whoever asked for the change (for example a merge request's author). */
  initiator?: string;
  timeout?: string | number;
  remind?: string | number;
  context?: TaskContext;
}

export type HumanTaskKind = 'form' | 'approval';
export type HumanTaskStatus = 'open' | 'submitted' | 'approved' | 'rejected' | 'timed_out' | 'cancelled';

export const OPEN_HUMAN_TASK: HumanTaskStatus = 'open';

export interface ApprovalDecision {
  by: string;
  decision: 'approve' | 'reject';
  comment?: string;
  /** ISO 8601 */
  at: string;
}

export type FormOutcome =
  { status: 'submitted'; values: JsonObject; by: string; at: string } | { status: 'timed_out' } | { status: 'cancelled' };

export interface ApprovalOutcome {
  status: 'approved' | 'rejected' | 'timed_out' | 'cancelled';
  decisions: ApprovalDecision[];
}

export type HumanTaskOutcome = FormOutcome | ApprovalOutcome;

/** A task as the store keeps it. */
export interface HumanTaskRecord {
  /** `tk_` + 16 hex chars, derived from the run and step that created it (idempotent creation). */
  id: string;
  runId: string;
  workflow: string;
  kind: HumanTaskKind;
  title: string;
  /** The FormSpec or ApprovalSpec as the workflow gave it (durations already resolved into `dueAt`). */
  spec: JsonObject;
  /** Usernames allowed to act (groups expanded when the task was created), lower case. */
  eligible: string[];
  status: HumanTaskStatus;
  /** Approval decisions so far (empty for forms). */
  decisions: ApprovalDecision[];
  /** Set once the task is closed. */
  outcome?: HumanTaskOutcome & Json;
  createdAt: number;
  /** When it times out (epoch ms). */
  dueAt?: number;
  closedAt?: number;
  /** Incremented by every change: updates are compare-and-set on it. */
  revision: number;
}

/** The source of a task's events: one no event from outside may have, so a run waiting on it trusts what it says. */
export function taskEventSource(id: string): string {
  return `autoflow:task/${id}`;
}

/** Type of the inbox event that tells the waiting run its task closed; `subject` is the task id. */
export const TASK_CLOSED_EVENT = 'autoflow.task.closed';

/**
 * The event that tells the waiting run its task closed, however it closed (answered, timed out, cancelled), with its
 * dedupe key: one such event per task.
 */
export function taskClosedEvent(id: string, outcome: HumanTaskOutcome, at: number): { event: CloudEvent; dedupeKey: string } {
  return {
    event: {
      specversion: '1.0',
      id: `task-closed:${id}`,
      source: taskEventSource(id),
      type: TASK_CLOSED_EVENT,
      subject: id,
      time: new Date(at).toISOString(),
      data: outcome as unknown as Json,
    },
    dedupeKey: `task:${id}:closed`,
  };
}

/**
 * Why a task's definition cannot be stored, by field (`title`, `fields.0.label`): text with U+0000 or a lone surrogate,
 * which PostgreSQL cannot hold (its title is a column of its own, and its events' data is checked as any event's),
 * or a number out of range. The same refusal on every store, so that a workflow does not work on one and not another.
 */
export function taskStorageProblems(spec: JsonObject, eligible: readonly string[]): string[] {
  const problems = Object.entries(spec).map(([field, value]) => storableJsonProblem(field, value));
  problems.push(storableJsonProblem('eligible', eligible));
  return problems.filter((problem) => problem !== undefined);
}
