/**
 * The operations on forms and approvals: list and read them, and record what people submit. A
 * submission is validated with the form's own field list, applied with a compare-and-set on the
 * task's revision, and — when it closes the task — stored together with the inbox event that
 * resumes the waiting run, so that an answered "OK" is never lost.
 */
import type { Engine } from '../core/engine.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../core/errors.js';
import { validateFormValues } from '../core/forms.js';
import { decideApproval, MAX_DECISION_COMMENT, normaliseUsername, submitForm, type RuleResult } from '../core/human-task-rules.js';
import { taskClosedEvent, type FormSpec, type HumanTaskRecord } from '../core/human-task.js';
import type { Clock, Store } from '../core/ports.js';
import { textProblem } from '../core/storable-json.js';
import type { Operations } from './operations.js';
import { toTaskView } from './views.js';

type TaskOperations = Pick<Operations, 'listTasks' | 'getTask' | 'submitTask' | 'decideTask'>;

const USERNAME = /^[A-Za-z0-9_.][A-Za-z0-9_.-]{0,254}$/;
/** Compare-and-set attempts before two people deciding at once is reported as a conflict. */
const ATTEMPTS = 5;

/**
 * The fields of a form's answer whose text no store keeps (U+0000, a lone surrogate), each with why: refused as the
 * form's other mistakes are, on every store, where PostgreSQL refused the whole answer naming no field.
 */
function unstorableValues(values: Readonly<Record<string, unknown>>): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const [field, value] of Object.entries(values)) {
    const problem = [value]
      .flat()
      .map((item) => (typeof item === 'string' ? textProblem(item) : undefined))
      .find((found) => found !== undefined);
    if (problem !== undefined) errors[field] = `contains ${problem}`;
  }
  return errors;
}

export function createTaskOperations(deps: { engine: Engine; store: Store; clock: Clock }): TaskOperations {
  const { engine, store, clock } = deps;

  async function requireTask(id: string): Promise<HumanTaskRecord> {
    const task = await store.getHumanTask(id);
    if (!task) throw new NotFoundError('task', id);
    return task;
  }

  function requireUser(by: string): void {
    if (typeof by !== 'string' || !USERNAME.test(by)) throw new ValidationError('the acting user is not a valid GitLab username');
  }

  /** Applies a rule to the latest revision, again if someone else changed the task in between. */
  async function apply(id: string, rule: (task: HumanTaskRecord) => RuleResult): Promise<HumanTaskRecord> {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const task = await requireTask(id);
      const result = rule(task);
      if (!result.ok) {
        const { code, message } = result.refusal;
        if (code === 'not_eligible') throw new ForbiddenError(message, { task: id });
        throw new ConflictError(message, { task: id, status: task.status });
      }
      const { change } = result;
      const closes = change.status !== 'open';
      const at = change.closedAt ?? clock.now();
      const applied = await store.updateHumanTask({
        ...change,
        ...(closes && change.outcome !== undefined && { event: { ...taskClosedEvent(id, change.outcome, at), receivedAt: at } }),
      });
      if (applied) {
        if (closes) engine.notify();
        return requireTask(id);
      }
    }
    throw new ConflictError(`task ${id} is changing too often to record this now; try again`, { task: id });
  }

  return {
    async listTasks(query) {
      const page = await store.listHumanTasks({
        ...(query.assignee !== undefined && { eligible: normaliseUsername(query.assignee) }),
        ...(query.runId !== undefined && { runId: query.runId }),
        ...(query.status !== undefined && { status: query.status }),
        ...(query.cursor !== undefined && { cursor: query.cursor }),
        ...(query.limit !== undefined && { limit: query.limit }),
      });
      const now = clock.now();
      return {
        tasks: page.tasks.map((task) => toTaskView(task, now)),
        ...(page.nextCursor !== undefined && { nextCursor: page.nextCursor }),
      };
    },

    async getTask(id) {
      return toTaskView(await requireTask(id), clock.now());
    },

    async submitTask(id, submission) {
      requireUser(submission.by);
      const task = await apply(id, (current) => {
        // Who may act is checked before the values: a stranger learns nothing about the form.
        const refused = submitForm(current, submission.by, {}, clock.now());
        if (!refused.ok) return refused;
        const checked = validateFormValues((current.spec as unknown as FormSpec).fields, submission.values);
        const errors = checked.ok ? unstorableValues(checked.values) : checked.errors;
        if (!checked.ok || Object.keys(errors).length > 0) {
          const issues = Object.entries(errors).map(([field, message]) => `${field} ${message}`);
          throw new ValidationError('the form has invalid values', issues, errors);
        }
        return submitForm(current, submission.by, checked.values, clock.now());
      });
      return toTaskView(task, clock.now());
    },

    async decideTask(id, input) {
      requireUser(input.by);
      if (input.decision !== 'approve' && input.decision !== 'reject') throw new ValidationError("decision must be 'approve' or 'reject'");
      if (input.comment !== undefined && (typeof input.comment !== 'string' || input.comment.length > MAX_DECISION_COMMENT)) {
        throw new ValidationError(`comment must be text of at most ${MAX_DECISION_COMMENT} characters`);
      }
      const unstorableComment = input.comment === undefined ? undefined : textProblem(input.comment);
      if (unstorableComment !== undefined) throw new ValidationError(`comment contains ${unstorableComment}`);
      const task = await apply(id, (current) => decideApproval(current, input, clock.now()));
      return toTaskView(task, clock.now());
    },
  };
}
