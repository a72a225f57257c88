/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { raw } from 'hono/html';
import type { TaskView } from '../../app/operations.js';
import { isBlockedInitiator, MAX_DECISION_COMMENT, normaliseUsername } from '../../core/human-task-rules.js';
import type { ApprovalSpec, FormField, FormSpec, TaskContext } from '../../core/human-task.js';
import type { Json } from '../../core/model.js';
import type { Session } from '../auth/session.js';
import { Field, SubmittedValues, UnsavedAnswer, fieldTarget, type PostedValues } from '../form.js';
import type { InboxCount } from '../inbox.js';
import { renderMarkdown } from '../markdown.js';
import { runsPager, type PageLink } from '../runs-pager.js';
import { Layout, Notice, PagerNav, RunLink, StatusBadge, Time, formatTime } from './layout.js';

export interface AllowedActions {
  submit: boolean;
  approve: boolean;
  reject: boolean;
  /** This user's decision, when they made one (the request may still wait for others). */
  decided?: TaskView['decisions'][number];
  /** They asked for the change and self-approval is off: they may reject, not approve. */
  initiator: boolean;
}

/** Whether a task takes answers: open, and its deadline not passed (an overdue one waits only for its run to close it). */
function takesAnswers(task: TaskView): boolean {
  return task.status === 'open' && task.overdue !== true;
}

/** What `username` may still do on a task: the same rules the operations enforce, said before a click. */
export function allowedActions(task: TaskView, username: string): AllowedActions {
  const open = takesAnswers(task) && task.eligible.includes(username);
  if (task.kind === 'form') return { submit: open, approve: false, reject: false, initiator: false };
  const spec = task.spec as unknown as ApprovalSpec;
  const decided = task.decisions.find((decision) => decision.by === username);
  const initiator = isBlockedInitiator(spec, username);
  return { submit: false, approve: open && !decided && !initiator, reject: open && !decided, initiator, ...(decided ? { decided } : {}) };
}

/** Whether a task waits for something from `username` (the inbox lists only those). */
export function waitsFor(task: TaskView, username: string): boolean {
  const allowed = allowedActions(task, username);
  return allowed.submit || allowed.approve || allowed.reject;
}

/**
 * Why a post found the task closed or already answered by this user, saying who and when: the
 * operations' message names only the task id. Undefined when the task gives no reason.
 */
export function refusalText(task: TaskView, username: string): string | undefined {
  const outcome = task.outcome as { status?: string; by?: string; at?: string } | undefined;
  const closed = formatTime(task.closedAt);
  if (task.kind === 'form') {
    if (outcome?.status === 'submitted') {
      const who = outcome.by === username ? 'you had already submitted this form' : `@${outcome.by} had already submitted this form`;
      return `Your answer was not saved: ${who} at ${formatTime(outcome.at)}. The recorded answer is below.`;
    }
  } else {
    const mine = task.decisions.find((decision) => decision.by === username);
    if (task.status === 'open' && mine) return `Not recorded: you had already decided (${mine.decision}) at ${formatTime(mine.at)}.`;
    const last = task.decisions.at(-1);
    if ((task.status === 'approved' || task.status === 'rejected') && last) {
      return `Not recorded: the request was already ${task.status} at ${closed}, last by @${last.by === username ? `${last.by} (you)` : last.by}.`;
    }
  }
  if (task.overdue) return `Not saved: the deadline passed at ${formatTime(task.dueAt)}, and the task takes no more answers.`;
  if (task.status === 'timed_out') return `Not saved: the task timed out at ${closed}.`;
  if (task.status === 'cancelled') return `Not saved: the task was cancelled at ${closed}.`;
  return undefined;
}

/** What a task is about, written the way GitLab references it: `demo/app#42`, `demo/app!7`. */
function contextLabel(context: TaskContext): string {
  const reference =
    context.issueIid !== undefined ? `#${context.issueIid}` : context.mergeRequestIid !== undefined ? `!${context.mergeRequestIid}` : '';
  return `${context.project}${reference}`;
}

/** The context label of a task whose spec has one. */
function aboutOf(task: TaskView): string | undefined {
  const context = (task.spec as { context?: TaskContext } | null)?.context;
  return context && contextLabel(context);
}

/** "58 tasks wait for you", or a lower bound when there were more open tasks than were counted. */
export function inboxCountText(count: InboxCount): string {
  const tasks = `${count.count} task${count.count === 1 ? '' : 's'}`;
  const verb = count.count === 1 && !count.more ? 'waits' : 'wait';
  return `${count.more ? 'At least ' : ''}${tasks} ${verb} for you`;
}

function inboxLink(link: PageLink): string {
  const search = new URLSearchParams();
  if (link.cursor) search.set('cursor', link.cursor);
  if (link.back) search.set('back', link.back);
  const query = search.toString();
  return query ? `/tasks?${query}` : '/tasks';
}

export interface InboxPageProps {
  session: Session;
  /** This page's tasks that wait for the user, newest first. */
  open: TaskView[];
  count: InboxCount;
  /** Where this page starts, and the way back (see runs-pager.ts); empty on the first page. */
  query: PageLink;
  /** Where the older tasks start. */
  nextCursor?: string | undefined;
  closed: TaskView[];
}

/**
 * The inbox, a page at a time, newest first: the older tasks are behind the "older" link. Tasks often share a title
 * (every run of a workflow asks the same thing), so each entry also shows its run and, when the spec gives one, what
 * it is about.
 */
export function inboxPage(props: InboxPageProps) {
  const pager = runsPager(props.query, props.nextCursor);
  const later = props.query.cursor !== undefined;
  const empty = props.nextCursor
    ? 'None of these tasks waits for you any more (you decided them already); older ones follow.'
    : later
      ? 'No older task waits for you.'
      : 'Nothing waits for you.';
  return (
    <Layout title="My tasks" session={props.session} section="tasks" live="/live">
      <h1>My tasks</h1>
      <div id="inbox" data-live-region>
        {(props.count.count > 0 || props.count.more) && (
          <p id="inbox-count">
            {inboxCountText(props.count)}, newest first{later ? '; these are older ones' : ''}.
          </p>
        )}
        {props.open.length === 0 ? (
          <p class="muted">{empty}</p>
        ) : (
          <table class="tasks stack">
            <thead>
              <tr>
                <th>Task</th>
                <th>Kind</th>
                <th>Workflow</th>
                <th>Run</th>
                <th>Since</th>
                <th>Due</th>
              </tr>
            </thead>
            <tbody>
              {props.open.map((task) => (
                <tr data-task={task.id}>
                  <td data-label="Task">
                    <a href={task.path}>{task.title}</a>
                    {aboutOf(task) && <div class="muted">about {aboutOf(task)}</div>}
                  </td>
                  <td data-label="Kind">{task.kind}</td>
                  <td data-label="Workflow">{task.workflow}</td>
                  <td data-label="Run">
                    <RunLink id={task.runId} />
                  </td>
                  <td data-label="Since">
                    <Time at={task.createdAt} />
                  </td>
                  <td data-label="Due">{task.dueAt ? <Time at={task.dueAt} /> : <span class="muted">no deadline</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {(pager.first || pager.next) && (
          <PagerNav
            label="Pages of my tasks"
            pager={pager}
            href={inboxLink}
            words={{ first: 'newest tasks', previous: 'newer tasks', next: 'older tasks' }}
          />
        )}
        {props.closed.length > 0 && (
          <>
            <h2>Recently closed</h2>
            <ul>
              {props.closed.map((task) => (
                <li>
                  <a href={task.path}>{task.title}</a> <StatusBadge status={task.status} />{' '}
                  <span class="muted">
                    {task.workflow} · run <RunLink id={task.runId} />
                    {aboutOf(task) && ` · about ${aboutOf(task)}`} · closed <Time at={task.closedAt} />
                  </span>
                </li>
              ))}
            </ul>
          </>
        )}
      </div>
    </Layout>
  );
}

function ContextLink(props: { context: TaskContext | undefined; gitlabWebUrl: string | undefined }) {
  const { context } = props;
  if (!context) return null;
  const path =
    context.issueIid !== undefined
      ? `/-/issues/${context.issueIid}`
      : context.mergeRequestIid !== undefined
        ? `/-/merge_requests/${context.mergeRequestIid}`
        : '';
  const href =
    props.gitlabWebUrl && /^[\w.-]+(\/[\w.-]+)+$/.test(context.project)
      ? `${props.gitlabWebUrl.replace(/\/+$/, '')}/${context.project}${path}`
      : undefined;
  const label = contextLabel(context);
  return (
    <p class="context">
      About: {href ? <a href={href}>{label}</a> : <span class="mono">{label}</span>}
      {context.note && <span class="muted"> — {context.note}</span>}
    </p>
  );
}

export interface TaskPageProps {
  session: Session;
  task: TaskView;
  gitlabWebUrl?: string | undefined;
  /** After an invalid post: what was entered, and the message per field. */
  values?: PostedValues;
  errors?: Record<string, string>;
  notice?: { kind: 'error' | 'ok' | 'info'; text: string } | undefined;
  /** Why the task's run ended, when the task closed with it (`run c2 was cancelled: rollout aborted`). */
  runEnded?: string | undefined;
}

export function taskPage(props: TaskPageProps) {
  const { task, session } = props;
  const spec = task.spec as unknown as (FormSpec | ApprovalSpec) & { description?: string; context?: TaskContext };
  const eligible = task.eligible.includes(session.username);
  const open = takesAnswers(task);
  const allowed = allowedActions(task, session.username);
  return (
    <Layout
      title={task.title}
      session={session}
      section="tasks"
      live={task.status === 'open' ? `/live?run=${encodeURIComponent(task.runId)}` : undefined}
    >
      <h1>{task.title}</h1>
      <p class="muted">
        {task.kind === 'form' ? 'Form' : 'Approval'} for run <a href={`/runs/${encodeURIComponent(task.runId)}`}>{task.runId}</a> of{' '}
        {task.workflow} · opened <Time at={task.createdAt} />
        {task.dueAt && (
          <>
            {' · due '}
            <Time at={task.dueAt} />
          </>
        )}
      </p>
      <ContextLink context={spec.context} gitlabWebUrl={props.gitlabWebUrl} />
      {props.notice && <Notice kind={props.notice.kind}>{props.notice.text}</Notice>}
      <div id="task-status" role="status" data-live-region>
        {task.overdue && (
          <Notice kind="info">
            The deadline passed at <Time at={task.dueAt} />: this task takes no more answers. It closes as timed out when its run next looks
            at it.
          </Notice>
        )}
        {task.status !== 'open' && (
          <Notice kind="info">
            This task is closed: <StatusBadge status={task.status} /> <Time at={task.closedAt} />
            {props.runEnded && ` — ${props.runEnded}`}
            {task.status === 'timed_out' && task.dueAt && (
              <>
                {' '}
                (it was due <Time at={task.dueAt} />)
              </>
            )}
          </Notice>
        )}
        {open && !eligible && (
          <Notice kind="info">
            You are not {task.kind === 'form' ? 'an assignee of this form' : 'an approver of this request'}; only{' '}
            {task.eligible.map((name) => `@${name}`).join(', ')} may {task.kind === 'form' ? 'submit it' : 'decide'}.
          </Notice>
        )}
        {open && allowed.decided && (
          <Notice kind="info">
            You decided already: {allowed.decided.decision} at <Time at={allowed.decided.at} />. The request waits for the other approvers.
          </Notice>
        )}
        {open && eligible && !allowed.decided && allowed.initiator && (
          <Notice kind="info">
            You asked for this change, so you may not approve it (self-approval is not allowed here); you may reject it.
          </Notice>
        )}
      </div>
      {spec.description && <div class="markdown">{raw(renderMarkdown(spec.description))}</div>}
      {task.kind === 'form' ? (
        <FormBody {...props} fields={(spec as FormSpec).fields ?? []} disabled={!open || !eligible} />
      ) : (
        <ApprovalBody {...props} allowed={allowed} />
      )}
    </Layout>
  );
}

function FormBody(props: TaskPageProps & { fields: FormField[]; disabled: boolean }) {
  const { task } = props;
  const outcome = task.outcome as { status?: string; values?: Record<string, Json>; by?: string; at?: string } | undefined;
  const errors = props.errors ?? {};
  const count = Object.keys(errors).length;
  const general = Object.entries(errors).filter(([name]) => !props.fields.some((field) => field.name === name));
  const firstInvalid = props.fields.find((field) => errors[field.name] !== undefined);
  // The outcome is a live region (empty while the task is open), the form is not: when a live
  // update finds the task closed, the form goes (data-live-optional) and the answer takes its place.
  return (
    <>
      <section id="task-outcome" data-live-region>
        {outcome?.status === 'submitted' && (
          <>
            <h2>
              Submitted by @{outcome.by} at <Time at={outcome.at} />
            </h2>
            <SubmittedValues fields={props.fields} values={outcome.values} />
          </>
        )}
      </section>
      {!takesAnswers(task) && props.values && <UnsavedAnswer fields={props.fields} values={props.values} />}
      {takesAnswers(task) && (
        <form id="task-form" class="task" method="post" action={task.path} novalidate data-live-optional>
          <input type="hidden" name="_csrf" value={props.session.csrf} />
          {count > 0 && (
            <div class="notice error error-summary" role="alert" aria-labelledby="error-summary-title">
              <p id="error-summary-title">
                The form has {count} problem{count === 1 ? '' : 's'}; nothing was submitted.
              </p>
              <ul>
                {props.fields
                  .filter((field) => errors[field.name] !== undefined)
                  .map((field) => (
                    <li>
                      <a href={`#${fieldTarget(field)}`}>
                        {field.label}: {errors[field.name]}
                      </a>
                    </li>
                  ))}
                {general.map(([name, message]) => (
                  <li>{name === 'form' ? message : `${name}: ${message}`}</li>
                ))}
              </ul>
            </div>
          )}
          <fieldset disabled={props.disabled}>
            {props.fields.map((field) => (
              <Field
                field={field}
                values={props.values}
                error={errors[field.name]}
                disabled={props.disabled}
                focus={field === firstInvalid}
              />
            ))}
            <button type="submit" class="primary">
              Submit
            </button>
          </fieldset>
        </form>
      )}
    </>
  );
}

function ApprovalBody(props: TaskPageProps & { allowed: AllowedActions }) {
  const { task, allowed } = props;
  const spec = task.spec as unknown as ApprovalSpec;
  return (
    <section>
      {task.status === 'open' && (
        <p>
          Needs {spec.required ?? 1} approval{(spec.required ?? 1) === 1 ? '' : 's'} from{' '}
          {task.eligible.map((name) => `@${name}`).join(', ')}
          {spec.initiator && !spec.allowSelfApproval && ` (not @${normaliseUsername(spec.initiator)}, who asked for it)`}.
        </p>
      )}
      <h2>Decisions</h2>
      <div id="decisions" data-live-region>
        {task.decisions.length === 0 ? (
          <p class="muted">No decision yet.</p>
        ) : (
          <ul class="decisions">
            {task.decisions.map((decision) => (
              <li>
                <StatusBadge status={decision.decision} /> @{decision.by} at <Time at={decision.at} />
                {decision.comment && <blockquote>{decision.comment}</blockquote>}
              </li>
            ))}
          </ul>
        )}
      </div>
      {(!takesAnswers(task) || allowed.decided) && typeof props.values?.comment === 'string' && (
        <section id="unsaved-answer">
          <h2>Your comment (not saved)</h2>
          <blockquote class="multiline">{props.values.comment}</blockquote>
        </section>
      )}
      {takesAnswers(task) && !allowed.decided && (
        <form id="decision-form" class="task" method="post" action={task.path} data-live-optional>
          <input type="hidden" name="_csrf" value={props.session.csrf} />
          <fieldset disabled={!allowed.reject}>
            <div class="field">
              <label class="title" for="comment">
                Comment
              </label>
              <textarea id="comment" name="comment" maxlength={MAX_DECISION_COMMENT}>
                {typeof props.values?.comment === 'string' ? props.values.comment : ''}
              </textarea>
            </div>
            <div class="actions">
              <button
                type="submit"
                name="decision"
                value="approve"
                class="primary"
                disabled={!allowed.approve}
                title={allowed.initiator ? 'you asked for this change' : undefined}
              >
                Approve
              </button>
              <button type="submit" name="decision" value="reject" class="danger">
                Reject
              </button>
            </div>
          </fieldset>
        </form>
      )}
    </section>
  );
}
