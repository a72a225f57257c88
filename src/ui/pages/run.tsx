/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import { concurrencyNotes, holderNote } from '../../app/concurrency-text.js';
import type { CallView, RetryView, RunView, TaskView } from '../../app/operations.js';
import { BUILT_IN_PATCH_NOTE, isBuiltInPatch } from '../../core/built-in-patches.js';
import { causeChainOf } from '../../core/errors.js';
import { childRunsByStep } from '../../core/history.js';
import { describeOutcome, waitDeadlines, type WaitStarted } from '../../core/human-task-rules.js';
import { TASK_CLOSED_EVENT } from '../../core/human-task.js';
import { isRetriable, receivesSignals, type HistoryEvent, type LogRecord } from '../../core/model.js';
import type { Session } from '../auth/session.js';
import { Timeline, formatDuration } from '../timeline.js';
import { Json, Layout, Notice, StatusBadge, Time, formatTime, shownText } from './layout.js';

/** How a wait reads: a task's wait names its task and its deadline, not the daily re-check it also wakes for. */
function describeWait(event: WaitStarted, deadlineOf: (wait: WaitStarted) => number | undefined): string {
  const deadline = deadlineOf(event);
  const until = deadline === undefined ? '' : ` until ${formatTime(deadline)}`;
  const task = event.eventType === TASK_CLOSED_EVENT ? event.match['subject'] : undefined;
  if (typeof task === 'string') return `wait #${event.step} for an answer to task ${task}${until || ' (no deadline)'}`;
  return `wait #${event.step} for ${event.eventType} ${JSON.stringify(event.match)}${until}`;
}

/** How a satisfied wait reads; a task's says who answered it. */
function describeSatisfied(event: Extract<HistoryEvent, { type: 'wait_satisfied' }>): string {
  const answered = event.event.type === TASK_CLOSED_EVENT ? describeOutcome(event.event.data) : undefined;
  if (answered) return `wait #${event.step}: task ${event.event.subject ?? ''} ${answered}`;
  return `wait #${event.step} got ${event.event.type} (${event.event.id})`;
}

/** What a history line needs from the rest of the history: a wait's deadline, the child run a step started. */
interface HistoryContext {
  deadlineOf: (wait: WaitStarted) => number | undefined;
  childOf: (step: number) => string | undefined;
}

/** `child #3 rel1-api`: a child's step, and its run when the history shown has its start. */
function childOfStep(step: number, childOf: HistoryContext['childOf']): string {
  const id = childOf(step);
  return `child #${step}${id === undefined ? '' : ` ${id}`}`;
}

/** One readable line per history event. */
function describe(event: HistoryEvent, { deadlineOf, childOf }: HistoryContext): string {
  switch (event.type) {
    case 'run_started':
      return `started ${event.workflow} (version ${event.version.slice(0, 12)})`;
    case 'workflow_task':
      return 'workflow step ran';
    case 'call_scheduled':
      return `call ${event.capability}.${event.method}(${JSON.stringify(event.args).slice(0, 160)}) #${event.step}${event.site ? ` at ${event.site}` : ''}`;
    case 'call_completed':
      return `call #${event.step} returned ${JSON.stringify(event.value)?.slice(0, 160) ?? 'undefined'} after ${event.attempts} attempt(s)`;
    case 'call_failed':
      return `call #${event.step} failed after ${event.attempts} attempt(s): ${event.error.name}: ${shownText(event.error.message)}`;
    case 'timer_started':
      return `${event.timeout ? 'timeout' : 'sleep'} #${event.step} until ${formatTime(event.fireAt)}`;
    case 'timer_fired':
      return `timer #${event.step} fired`;
    case 'wait_started':
      return describeWait(event, deadlineOf);
    case 'wait_satisfied':
      return describeSatisfied(event);
    case 'wait_timed_out':
      return `wait #${event.step} timed out`;
    case 'child_started':
      return `child ${event.workflow} started: ${event.childId}`;
    case 'child_completed':
      return `${childOfStep(event.step, childOf)} completed`;
    case 'child_failed':
      return `${childOfStep(event.step, childOf)} failed: ${shownText(event.error.message)}`;
    case 'cancel_requested':
      return `cancellation requested${event.by ? ` by @${event.by}` : ''}${event.reason ? `: ${event.reason}` : ''}`;
    case 'patch_marker':
      return `patch ${event.patchId}${isBuiltInPatch(event.patchId) ? ` ${BUILT_IN_PATCH_NOTE}` : ''}`;
    case 'run_completed':
      return `completed with ${JSON.stringify(event.result)?.slice(0, 160) ?? 'undefined'}`;
    case 'run_failed':
      return `failed: ${event.error.name}: ${shownText(event.error.message)}`;
    case 'run_cancelled':
      return 'cancelled';
    case 'run_continued':
      return `continued as ${event.newRunId}`;
  }
}

/** Beyond this, the page lists the latest events only (a run of 10,000 steps stays a page, not a book). */
export const HISTORY_SHOWN = 1000;
/** Beyond this, the page lists the latest child runs only (one page of `listRuns`). */
export const CHILDREN_SHOWN = 500;
const FAILED = new Set(['call_failed', 'child_failed', 'run_failed']);

/** Where an open call stands: made by a node (until its lease ends), left by a node whose lease passed, or due. */
function CallState(props: { call: CallView }) {
  const { lease, lastError, nextAt } = props.call;
  if (lease?.passed)
    return (
      <>
        lease of node <span class="mono">{lease.node}</span> passed at <Time at={lease.until} />: another node takes it over
      </>
    );
  if (lease)
    return (
      <>
        running on node <span class="mono">{lease.node}</span> (lease until <Time at={lease.until} />)
      </>
    );
  return lastError ? (
    <Time at={nextAt} />
  ) : (
    <>
      due <Time at={nextAt} />
    </>
  );
}

export interface RunPageProps {
  session: Session;
  run: RunView;
  /** The latest events of the run's history (HISTORY_SHOWN at most), oldest first. */
  history: HistoryEvent[];
  /** Events in the whole history. @default history.length */
  historyLength?: number;
  /** The history's first event (`run_started`), for the timeline when `history` begins later. */
  firstEvent?: HistoryEvent | undefined;
  /** The first page of the run's log lines; `more` when there are lines past it. */
  logs: LogRecord[];
  moreLogs?: boolean;
  tasks: TaskView[];
  /** The run's child runs, newest first as listed (CHILDREN_SHOWN at most); `moreChildren` when it has more. */
  children: RunView[];
  moreChildren?: boolean;
  calls: CallView[];
  retries: RetryView[];
  now: number;
  notice?: { kind: 'error' | 'ok' | 'info'; text: string } | undefined;
  /** After a refused signal: what was entered (the form opens with it). */
  signal?: { name: string; payload: string } | undefined;
}

export function runPage(props: RunPageProps) {
  const { run, session } = props;
  const history = props.history.slice(-HISTORY_SHOWN);
  const length = Math.max(props.historyLength ?? 0, props.history.length);
  const start = Date.parse(run.createdAt);
  const path = `/runs/${encodeURIComponent(run.id)}`;
  const historyContext: HistoryContext = { deadlineOf: waitDeadlines(history), childOf: childRunsByStep(history) };
  return (
    <Layout title={`Run ${run.id}`} session={session} section="runs" live={`/live?run=${encodeURIComponent(run.id)}`}>
      <h1>
        Run <span class="mono">{run.id}</span>
      </h1>
      {props.notice && <Notice kind={props.notice.kind}>{props.notice.text}</Notice>}
      <div id="run-summary" data-live-region>
        <dl class="meta">
          <dt>workflow</dt>
          <dd>
            <a href={`/workflows#wf-${run.workflow}`}>{run.workflow}</a> <span class="mono muted">{run.version.slice(0, 12)}</span>
          </dd>
          <dt>status</dt>
          <dd>
            <StatusBadge status={run.status} />
          </dd>
          <dt>started</dt>
          <dd>
            <Time at={run.createdAt} />
          </dd>
          <dt>updated</dt>
          <dd>
            <Time at={run.updatedAt} />
          </dd>
          {run.parentId && (
            <>
              <dt>parent</dt>
              <dd>
                <a href={`/runs/${encodeURIComponent(run.parentId)}`}>{run.parentId}</a>
              </dd>
            </>
          )}
          {run.concurrency && (
            <>
              <dt>concurrency</dt>
              <dd>
                <span class="mono">{run.concurrency.group}</span> ({concurrencyNotes(run).join('; ')})
              </dd>
            </>
          )}
          {run.concurrency?.heldBy && run.concurrency.heldBy.length > 0 && (
            <>
              <dt>held by</dt>
              <dd>
                {run.concurrency.heldBy.map((holder, i) => (
                  <>
                    {i > 0 && ', '}
                    <a href={`/runs/${encodeURIComponent(holder.id)}`}>{holder.id}</a> ({holderNote(holder)})
                  </>
                ))}
              </dd>
            </>
          )}
        </dl>
        {isRetriable(run.status) && (
          <div class="actions">
            <form method="post" action={path}>
              <input type="hidden" name="_csrf" value={session.csrf} />
              <input type="hidden" name="action" value="retry" />
              <button
                type="submit"
                name="version"
                value="same"
                title={
                  run.status === 'failed'
                    ? 'from the task that failed it, on the version it ran'
                    : 'from where it stopped, on the version it ran, if that code replays it now'
                }
              >
                Retry run
              </button>
              <button type="submit" name="version" value="latest" title="on the workflow's active version, if its code replays this run">
                Retry on the latest version
              </button>
            </form>
          </div>
        )}
      </div>
      {/* A stuck run's code cannot run, nor has a queued run's run: a cancel ends either at once. */}
      {(run.status === 'running' || run.status === 'stuck' || run.status === 'queued') && (
        <div id="run-cancel" class="actions" data-live-optional>
          <form method="post" action={path}>
            <input type="hidden" name="_csrf" value={session.csrf} />
            <input type="hidden" name="action" value="cancel" />
            <label for="cancel-reason">Reason (optional)</label>
            <input type="text" id="cancel-reason" name="reason" />
            <button type="submit" class="danger">
              Cancel run
            </button>
          </form>
          <form method="post" action={path}>
            <input type="hidden" name="_csrf" value={session.csrf} />
            <input type="hidden" name="action" value="terminate" />
            <button type="submit" class="danger" title="ends the run at once, as cancelled, without running its cleanup (finally blocks)">
              Terminate run
            </button>
          </form>
        </div>
      )}
      <div id="run-calls" data-live-region>
        {props.calls.length > 0 && (
          <>
            <h2>Calls in progress</h2>
            <table class="calls stack">
              <thead>
                <tr>
                  <th>#</th>
                  <th>Call</th>
                  <th>Attempts</th>
                  <th>Last error</th>
                  <th>Next attempt</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                {props.calls.map((call) => (
                  <tr data-step={String(call.step)}>
                    <td class="mono" data-label="#">
                      {call.step}
                    </td>
                    <td class="mono" data-label="Call">
                      {call.capability}.{call.method}
                    </td>
                    <td data-label="Attempts">{call.attempts}</td>
                    <td class={call.lastError ? 'err' : undefined} data-label="Last error">
                      {call.lastError ? `${call.lastError.name}: ${call.lastError.message}` : ''}
                    </td>
                    <td data-label="Next attempt">
                      <CallState call={call} />
                    </td>
                    <td>
                      {call.lastError && (
                        <form method="post" action={path}>
                          <input type="hidden" name="_csrf" value={session.csrf} />
                          <input type="hidden" name="action" value="retry-call" />
                          <input type="hidden" name="step" value={String(call.step)} />
                          <button type="submit">Retry now</button>
                        </form>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </div>
      <div id="run-retries" data-live-region>
        {props.retries.length > 0 && (
          <>
            <h2>Retries</h2>
            <p class="muted">
              A retry of a failed run takes out of the history the task that failed; a stuck run's history is kept whole. What stopped the
              run is kept here.
            </p>
            <table class="retries">
              <thead>
                <tr>
                  <th>When</th>
                  <th>By</th>
                  <th>Version</th>
                  <th>Went on from</th>
                  <th>It had stopped with</th>
                </tr>
              </thead>
              <tbody>
                {props.retries.map((retry) => (
                  <tr>
                    <td>
                      <Time at={retry.at} />
                    </td>
                    <td>{retry.by ?? 'the API'}</td>
                    <td class="mono">{retry.version.slice(0, 12)}</td>
                    <td>{retry.keptHistoryLength === 0 ? 'the start' : `event ${retry.keptHistoryLength}`}</td>
                    <td class="err">{retry.previousError ? `${retry.previousError.name}: ${retry.previousError.message}` : ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </div>
      {receivesSignals(run.status) && (
        <details id="run-signal" class="actions" open={props.signal !== undefined} data-live-optional>
          <summary>Send a signal</summary>
          <form method="post" action={path}>
            <input type="hidden" name="_csrf" value={session.csrf} />
            <input type="hidden" name="action" value="signal" />
            <label>
              name <input type="text" name="name" required pattern="[A-Za-z0-9][A-Za-z0-9._\-]*" value={props.signal?.name} />
            </label>
            <label>
              payload (JSON) <input type="text" name="payload" value={props.signal?.payload ?? 'null'} />
            </label>
            <button type="submit">Send</button>
          </form>
        </details>
      )}
      <div class="split">
        <section>
          <h2>Timeline</h2>
          <div class="legend">
            <span>
              <i class="call"></i>call
            </span>
            <span>
              <i class="timer"></i>timer
            </span>
            <span>
              <i class="wait"></i>wait
            </span>
            <span>
              <i class="task"></i>task
            </span>
            <span>
              <i class="child"></i>run / child
            </span>
            <span>
              <i class="error"></i>error
            </span>
            <span>
              <i class="cancelled"></i>cancelled
            </span>
          </div>
          <div id="run-timeline" class="timeline" data-live-region data-history-length={String(length)}>
            <Timeline
              history={props.firstEvent && history[0] && props.firstEvent.seq < history[0].seq ? [props.firstEvent, ...history] : history}
              now={run.status === 'running' ? props.now : Date.parse(run.updatedAt)}
              children={props.children}
            />
          </div>
          <div id="run-io" data-live-region>
            <h2>Input</h2>
            <Json value={run.input} more={`autoflow show ${run.id} --json, or GET /api/v1/runs/${run.id}`} />
            {run.result !== undefined && (
              <>
                <h2>Result</h2>
                <Json value={run.result} more={`autoflow show ${run.id} --json, or GET /api/v1/runs/${run.id}`} />
              </>
            )}
            {run.error && (
              <>
                <h2>Error</h2>
                <Notice kind="error">
                  <strong>{run.error.name}</strong>: {shownText(run.error.message)}
                  {causeChainOf(run.error)
                    .slice(1)
                    .map((cause) => (
                      <div class="cause">
                        caused by <strong>{cause.name}</strong>: {cause.message}
                      </div>
                    ))}
                </Notice>
                {run.error.stack && <pre class="json">{shownText(run.error.stack, 16 * 1024)}</pre>}
              </>
            )}
            {props.tasks.length > 0 && (
              <>
                <h2>Tasks</h2>
                <ul>
                  {props.tasks.map((task) => (
                    <li>
                      <a href={task.path}>{task.title}</a> <StatusBadge status={task.status} />
                    </li>
                  ))}
                </ul>
              </>
            )}
            {props.children.length > 0 && (
              <>
                <h2>Children</h2>
                {props.moreChildren && (
                  <p class="muted">
                    The latest {props.children.length} child runs; <code>autoflow runs --parent {run.id}</code> lists them all.
                  </p>
                )}
                <ul class="children">
                  {/* In the order they started. */}
                  {props.children.toReversed().map((child) => (
                    <li data-run={child.id}>
                      <a href={`/runs/${encodeURIComponent(child.id)}`}>{child.id}</a> ({child.workflow}){' '}
                      <StatusBadge status={child.status} />
                    </li>
                  ))}
                </ul>
              </>
            )}
            <h2>Logs</h2>
            {props.logs.length === 0 ? (
              <p class="muted">No log lines.</p>
            ) : (
              <>
                {props.moreLogs && (
                  <p class="muted">
                    The first {props.logs.length} lines; <code>autoflow logs {props.run.id}</code> or the API has them all.
                  </p>
                )}
                <pre class="json logs">
                  {props.logs.map((line) => (
                    <>
                      <Time at={line.at} />
                      {` ${line.level.padEnd(5)} ${line.message}\n`}
                    </>
                  ))}
                </pre>
              </>
            )}
          </div>
        </section>
        <section>
          <h2>History</h2>
          {length > history.length && (
            <p class="muted">
              The latest {history.length} of {length} events; <code>autoflow show {run.id}</code> or the API has them all.
            </p>
          )}
          <ol id="run-history" class="history" data-live-region>
            {history.map((event) => (
              <li id={`h${event.seq}`} class={FAILED.has(event.type) ? 'err' : undefined} data-type={event.type}>
                <span class="muted mono">+{formatDuration(event.at - start)}</span> {describe(event, historyContext)}
              </li>
            ))}
          </ol>
        </section>
      </div>
    </Layout>
  );
}
