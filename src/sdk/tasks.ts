/**
 * People in the loop. `tasks.form` and `tasks.approval` open a task in AutoFlow's web UI and wait
 * for it durably: a run parked for weeks on a form holds no memory, and the answer arrives as an
 * inbox event like any other. Group assignees are expanded through the `gitlab` capability, so the
 * definition needs read permission on those groups (and write permission on the `context` project
 * when reminders should be posted there).
 */
import { TASK_CANCEL_ENDS_RESULT_PATCH, TASK_GROUPS_WITHOUT_BOT_PATCH } from '../core/built-in-patches.js';
import { checkTaskSpec, groupPathOf, normaliseUsername, quorumProblem } from '../core/human-task-rules.js';
import {
  TASK_CLOSED_EVENT,
  taskEventSource,
  type ApprovalOutcome,
  type ApprovalSpec,
  type FormOutcome,
  type FormSpec,
  type HumanTaskKind,
  type HumanTaskOutcome,
  type HumanTaskStatus,
} from '../core/human-task.js';
import type { Json } from '../core/model.js';
import { callCapability } from './capabilities.js';
import { now, patched, waitFor } from './durable.js';
import { toMilliseconds } from './duration.js';
import { gitlab } from './gitlab.js';
import { currentRuntime } from './runtime.js';

export type {
  ApprovalDecision,
  ApprovalOutcome,
  ApprovalSpec,
  ChoiceOption,
  FormField,
  FormOutcome,
  FormSpec,
  TaskContext,
} from '../core/human-task.js';

/** An open task: post its `url` where people will see it, then await `result()`. */
export interface TaskHandle<TOutcome> {
  id: string;
  /** The task's page in AutoFlow's web UI. */
  url: string;
  /** Usernames who may act on it (groups expanded). */
  eligible: string[];
  /** Resolves once the task closes: answered, timed out, or cancelled. */
  result(): Promise<TOutcome>;
  /** Closes the task unanswered; `result()` then resolves `cancelled` (unless an answer came first). */
  cancel(): Promise<TOutcome>;
}

interface Opened {
  id: string;
  url: string;
  eligible: string[];
}

interface TaskState {
  status: HumanTaskStatus;
  outcome?: HumanTaskOutcome;
  pending: string[];
}

/**
 * Issues what `issue` issues as made by the author's call that `stack` was taken at, where its own
 * stack names no line of the author's: QuickJS keeps no stack across an await, and every step of a
 * task comes after one (runtime.ts, `issuingFrom`).
 */
type IssueFrom = <T>(issue: () => T) => T;

function issueFrom(stack: string): IssueFrom {
  return (issue) => currentRuntime().issuingFrom(stack, issue);
}

/**
 * Usernames behind the assignees: users as named, each group's active members (inherited too)
 * except the account AutoFlow acts as — a bot that is a member of the group answers no form.
 */
async function expandAssignees(entries: readonly string[], at: IssueFrom): Promise<string[]> {
  const users = new Set<string>();
  const named = new Set<string>();
  for (const entry of entries) {
    const group = groupPathOf(entry);
    if (group === undefined) {
      named.add(normaliseUsername(entry));
      users.add(normaliseUsername(entry));
      continue;
    }
    const members = await at(() => gitlab.members.listAll({ group }, undefined, { all: true }));
    for (const member of members)
      if (member.state === undefined || member.state === 'active') users.add(normaliseUsername(member.username));
  }
  // Only a group can have brought the bot in (more people than were named); a bot named on purpose stays.
  if (users.size > named.size && at(() => patched(TASK_GROUPS_WITHOUT_BOT_PATCH))) {
    const bot = normaliseUsername((await at(() => gitlab.users.current())).username);
    if (!named.has(bot)) users.delete(bot);
  }
  return [...users];
}

/** How long a task is waited for before its state is read again, whatever else happens. */
const STATE_CHECK_MS = 24 * 60 * 60 * 1000;

function reminderNote(title: string, url: string, pending: string[]): string {
  return `${pending.map((user) => `@${user}`).join(' ')} a reminder: **${title}** is waiting for you — ${url}`;
}

async function open<TOutcome extends HumanTaskOutcome>(kind: HumanTaskKind, spec: FormSpec | ApprovalSpec): Promise<TaskHandle<TOutcome>> {
  // Taken before the first await, while the author's call (tasks.form, say) is still on the stack.
  const opening = currentRuntime().stackHere();
  const problems = checkTaskSpec(kind, spec);
  if (problems.length > 0) throw new TypeError(`tasks.${kind}(): ${problems.join('; ')}`);
  const timeoutMs = spec.timeout === undefined ? undefined : toMilliseconds(spec.timeout, 'timeout');
  const remindMs = spec.remind === undefined ? undefined : toMilliseconds(spec.remind, 'remind');
  if (remindMs !== undefined && remindMs < 60_000) throw new TypeError(`tasks.${kind}(): remind must be at least one minute`);
  const deadline = timeoutMs === undefined ? undefined : now().getTime() + timeoutMs;
  const openAt = issueFrom(opening);
  const eligible = await expandAssignees(kind === 'form' ? (spec as FormSpec).assignees : (spec as ApprovalSpec).approvers, openAt);
  if (eligible.length === 0)
    throw new TypeError(
      `tasks.${kind}(): nobody can act on '${spec.title}': the assignees' groups have no active members other than the account AutoFlow acts as`,
    );
  const quorum = kind === 'approval' ? quorumProblem(spec as ApprovalSpec, eligible) : undefined;
  if (quorum !== undefined) {
    throw new TypeError(
      `tasks.approval(): '${spec.title}' could never be approved once its groups are expanded to their active members: ${quorum}`,
    );
  }
  const opened = await openAt(() =>
    callCapability<Opened>('tasks', 'create', {
      kind,
      spec: spec as unknown as Json,
      eligible,
      ...(deadline !== undefined && { dueAt: deadline }),
    }),
  );
  const openedAt = now().getTime();

  /**
   * Waits for the closing event, reminding at each interval, until the deadline. At least once a
   * day it also asks for the task's state: an answer whose event this run could not see (it came
   * in long before the wait, beyond the lookback) still ends the wait.
   */
  async function settle(at: IssueFrom): Promise<TOutcome> {
    // Reminders count from the opening, however long the workflow took to start waiting.
    let remindAt = remindMs === undefined ? undefined : openedAt + remindMs;
    for (;;) {
      const time = now().getTime();
      if (deadline !== undefined && time >= deadline) return at(() => callCapability<TOutcome>('tasks', 'expire', { id: opened.id }));
      const wakeAt = Math.min(deadline ?? Infinity, remindAt ?? Infinity, time + STATE_CHECK_MS);
      // A reminder already due (the workflow began to wait after its time) goes out now, without a wait.
      const closed =
        wakeAt > time
          ? await at(() =>
              waitFor<TOutcome>(TASK_CLOSED_EVENT, {
                // The source too: the answer is trusted (it names who gave it), so it must be the server's.
                match: { subject: opened.id, source: taskEventSource(opened.id) },
                timeout: wakeAt - time,
              }),
            )
          : null;
      if (closed) return closed.data as TOutcome;
      if (deadline !== undefined && now().getTime() >= deadline) continue;
      const reminding = remindAt !== undefined && now().getTime() >= remindAt;
      const state = await at(() => callCapability<TaskState>('tasks', reminding ? 'remind' : 'state', { id: opened.id }));
      if (state.outcome) return state.outcome as TOutcome;
      if (!reminding) continue;
      remindAt = now().getTime() + remindMs!;
      const { context } = spec;
      if (context && state.pending.length > 0) {
        const body = reminderNote(spec.title, opened.url, state.pending);
        const { project, issueIid, mergeRequestIid } = context;
        if (issueIid !== undefined) await at(() => gitlab.notes.create({ project, issueIid, body }));
        else if (mergeRequestIid !== undefined) await at(() => gitlab.notes.create({ project, mergeRequestIid, body }));
      }
    }
  }

  let result: Promise<TOutcome> | undefined;
  return {
    ...opened,
    // Its steps name the line that called `result()`, or, when the SDK called it (tasks.form), the line that opened the task.
    result: () => (result ??= settle(issueFrom(currentRuntime().stackHere(opening)))),
    // What the cancel closed the task with is what `result()` gives from then on, without waiting for anything.
    cancel: async () => {
      const at = issueFrom(currentRuntime().stackHere(opening));
      const outcome = await at(() => callCapability<TOutcome>('tasks', 'cancel', { id: opened.id }));
      // Runs recorded before this rule waited in `result()` after a cancel, and replay as they ran.
      if (result === undefined && at(() => patched(TASK_CANCEL_ENDS_RESULT_PATCH))) result = Promise.resolve(outcome);
      return outcome;
    },
  };
}

export const tasks = {
  /**
   * Opens a form for `assignees` and returns at once with its URL (to post on an issue, say).
   *
   * @example
   * const task = await tasks.openForm({ title: 'Retrospective', fields, assignees: ['alice'], timeout: '7d' });
   * await gitlab.issues.create(project, { title: 'Your retrospective', description: task.url });
   * const answer = await task.result();
   */
  openForm(spec: FormSpec): Promise<TaskHandle<FormOutcome>> {
    return open<FormOutcome>('form', spec);
  },

  /**
   * Opens a form and waits for it: `{ status: 'submitted', values, by, at }`, or
   * `{ status: 'timed_out' }` after `timeout`, or `{ status: 'cancelled' }`.
   */
  async form(spec: FormSpec): Promise<FormOutcome> {
    return (await tasks.openForm(spec)).result();
  },

  /** Opens an approval and returns at once with its URL. */
  openApproval(spec: ApprovalSpec): Promise<TaskHandle<ApprovalOutcome>> {
    return open<ApprovalOutcome>('approval', spec);
  },

  /**
   * Asks `approvers` and waits: `approved` once `required` (default 1) approve, `rejected` at the
   * first rejection, or `timed_out`; `decisions` lists who decided what, with comments.
   */
  async approval(spec: ApprovalSpec): Promise<ApprovalOutcome> {
    return (await tasks.openApproval(spec)).result();
  },
};
