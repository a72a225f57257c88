/** @jsxRuntime automatic @jsxImportSource hono/jsx */
import type { DeployProblemView, RunView, WorkflowView } from '../../app/operations.js';
import type { RunStatus, StoredEvent } from '../../core/model.js';
import type { EventRoutingSummary } from '../../core/ports.js';
import type { Session } from '../auth/session.js';
import type { InboxCount } from '../inbox.js';
import { inputFormFields } from '../../core/input-form.js';
import { Field, type PostedValues } from '../form.js';
import { RUN_STATUSES } from '../../core/model.js';
import { runsPager, type PageLink } from '../runs-pager.js';
import { Layout, Notice, PagerNav, RunLink, StatusBadge, Time } from './layout.js';

const STATUSES = RUN_STATUSES;

/**
 * Runs, with when each started and last changed. `ended`: the runs ended (or got stuck) and are listed by when they
 * did; that column, under this name (`Failed`), comes before when they started.
 */
export function RunTable(props: { runs: RunView[]; ended?: string }) {
  if (props.runs.length === 0) return <p class="muted">No runs.</p>;
  const updated = props.ended ?? 'Updated';
  const updatedCell = (run: RunView) => (
    <td data-label={updated}>
      <Time at={run.updatedAt} />
    </td>
  );
  return (
    <table class="runs stack">
      <thead>
        <tr>
          <th>Run</th>
          <th>Workflow</th>
          <th>Status</th>
          {props.ended !== undefined && <th>{updated}</th>}
          <th>Started</th>
          {props.ended === undefined && <th>{updated}</th>}
        </tr>
      </thead>
      <tbody>
        {props.runs.map((run) => (
          <tr data-run={run.id}>
            <td class="mono" data-label="Run">
              <a href={`/runs/${encodeURIComponent(run.id)}`}>{run.id}</a>
            </td>
            <td data-label="Workflow">{run.workflow}</td>
            <td data-label="Status">
              <StatusBadge status={run.status} />
              {run.error && <div class="muted">{run.error.message.slice(0, 120)}</div>}
            </td>
            {props.ended !== undefined && updatedCell(run)}
            <td data-label="Started">
              <Time at={run.createdAt} />
            </td>
            {props.ended === undefined && updatedCell(run)}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function overviewPage(props: {
  session: Session;
  counts: Partial<Record<RunStatus, number>>;
  /** The latest failures, by when they failed. */
  failures: RunView[];
  openTasks: InboxCount;
  workflows: number;
}) {
  const total = Object.values(props.counts).reduce((sum, count) => sum + (count ?? 0), 0);
  return (
    <Layout title="Overview" session={props.session} section="overview" live="/live">
      <h1>Overview</h1>
      <div id="overview-counts" data-live-region>
        <div class="cards">
          <a class="card" href="/tasks">
            <b>
              {props.openTasks.count}
              {props.openTasks.more ? '+' : ''}
            </b>
            my open tasks
          </a>
          <a class="card" href="/runs">
            <b>{total}</b>runs
          </a>
          {STATUSES.map((status) => (
            <a class="card" href={`/runs?status=${status}`} data-status={status}>
              <b>{props.counts[status] ?? 0}</b>
              {status}
            </a>
          ))}
          <a class="card" href="/workflows">
            <b>{props.workflows}</b>workflows
          </a>
        </div>
        <h2>Recent failures</h2>
        <RunTable runs={props.failures} ended="Failed" />
      </div>
    </Layout>
  );
}

export interface RunsQuery {
  workflow?: string;
  status?: RunStatus;
  /** `YYYY-MM-DD`, UTC, included. */
  from?: string;
  to?: string;
  q?: string;
  cursor?: string;
  /** The cursors of the pages before this one (see runs-pager.ts). */
  back?: string;
}

export function runsPage(props: {
  session: Session;
  query: RunsQuery;
  workflows: string[];
  runs: RunView[];
  nextCursor?: string | undefined;
  notFound?: string;
  /** The GitLab reference searched for. */
  reference?: string;
  /** Parts of the filter left out or changed, and why. */
  ignored?: string[];
  /** The workflow filtered by, when none of that name is deployed. */
  undeployed?: string;
}) {
  const { query } = props;
  const params = (extra: PageLink) => {
    const search = new URLSearchParams();
    const fixed = { workflow: query.workflow, status: query.status, from: query.from, to: query.to, q: props.reference };
    for (const [key, value] of Object.entries({ ...fixed, ...extra })) if (value) search.set(key, value);
    return `/runs?${search.toString()}`;
  };
  const pager = runsPager(query, props.nextCursor);
  return (
    <Layout title="Runs" session={props.session} section="runs">
      <h1>Runs</h1>
      <form class="filters" method="get" action="/runs">
        <label>
          Workflow
          <select name="workflow">
            <option value="">all</option>
            {(query.workflow !== undefined && !props.workflows.includes(query.workflow)
              ? [query.workflow, ...props.workflows]
              : props.workflows
            ).map((name) => (
              <option selected={query.workflow === name}>{name}</option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select name="status">
            <option value="">all</option>
            {STATUSES.map((status) => (
              <option selected={query.status === status}>{status}</option>
            ))}
          </select>
        </label>
        <label>
          Started from (UTC)
          <input type="date" name="from" value={query.from ?? ''} />
        </label>
        <label>
          to
          <input type="date" name="to" value={query.to ?? ''} />
        </label>
        <label>
          Run id or GitLab reference
          <input type="search" name="q" value={query.q ?? ''} placeholder="run id, demo/app#42" />
        </label>
        <button type="submit">Show</button>
      </form>
      {props.ignored && props.ignored.length > 0 && (
        <Notice kind="info">
          <span class="filter-ignored">Part of the filter was not used:</span>
          <ul>
            {props.ignored.map((reason) => (
              <li>{reason}</li>
            ))}
          </ul>
        </Notice>
      )}
      {props.undeployed && (
        <Notice kind="info">
          No workflow “{props.undeployed}” is deployed: these are the runs it had, if any (a workflow whose file left the workflows folder
          keeps its runs).
        </Notice>
      )}
      {props.notFound && <Notice kind="info">No run has the id “{props.notFound}”.</Notice>}
      {props.reference && <Notice kind="info">Runs started by events about {props.reference} (its comments included).</Notice>}
      <RunTable runs={props.runs} />
      <PagerNav
        label="Pages of runs"
        pager={pager}
        href={params}
        words={{ first: 'first page', previous: 'previous page', next: 'next page' }}
      />
    </Layout>
  );
}

/** A workflow file that failed to build at the latest deploy: which, since when, what runs instead, and why. */
function DeployProblemNotice(props: { problem: DeployProblemView; workflows: WorkflowView[] }) {
  const { problem } = props;
  const active = props.workflows.find((workflow) => workflow.name === problem.workflow);
  return (
    <Notice kind="error">
      <b class="mono">{problem.file}</b> fails to build since <Time at={problem.since} />;{' '}
      {active ? (
        <>
          <a href={`#wf-${active.name}`}>{active.name}</a> still runs version <span class="mono">{active.version.slice(0, 12)}</span>{' '}
          deployed <Time at={active.deployedAt} />.
        </>
      ) : (
        'no version of it is deployed.'
      )}
      <pre>{problem.message}</pre>
    </Notice>
  );
}

/** `problems`: the workflow files that failed to build at this server's latest deploy, shown first. */
/** `schedules` has one entry per cron trigger, in the triggers' order. */
const cronTriggersBefore = (workflow: WorkflowView, trigger: WorkflowView['triggers'][number]): number =>
  workflow.triggers.slice(0, workflow.triggers.indexOf(trigger)).filter((other) => 'cron' in other).length;

/** When a schedule fires next; `never` for a pattern no date matches (30 February). */
function NextFire(props: { schedule: NonNullable<WorkflowView['schedules']>[number] | undefined }) {
  const { schedule } = props;
  if (schedule === undefined) return null;
  if (schedule.next === null) return <span class="muted"> · next never</span>;
  return (
    <span class="muted">
      {' · next '}
      <Time at={schedule.next} />
    </span>
  );
}

/**
 * What a refused start had in its form, so that the form opens again with it and says why: the JSON typed, or, from
 * the form of the input schema's fields, what was posted and what is wrong with each field.
 */
export interface RefusedStart {
  workflow: string;
  input: string;
  id: string;
  message: string;
  fields?: { values: PostedValues; errors: Record<string, string> };
}

/** The field that marks a start posted from the input schema's fields (START_FIELDS_FORM), not as JSON. */
export const START_FORM_KIND = '_form';
export const START_FIELDS_FORM = 'fields';

function RunIdField(props: { refused: RefusedStart | undefined }) {
  return (
    <label title="The same id again opens the run it started instead of starting another">
      run id (optional)
      <br />
      <input type="text" name="id" value={props.refused?.id ?? ''} />
    </label>
  );
}

/**
 * Starts a run by hand, as `autoflow run` does, and an optional run id, which makes a second submission of the same
 * form return the run it started. The input: the fields of its schema when it is a flat object (inputFormFields), with
 * its defaults filled in; else, or when the author of the start prefers, JSON. The server checks it against the schema.
 */
function StartRunForm(props: { session: Session; workflow: WorkflowView; refused: RefusedStart | undefined }) {
  const { workflow } = props;
  const refused = props.refused?.workflow === workflow.name ? props.refused : undefined;
  const action = `/workflows/${encodeURIComponent(workflow.name)}/runs`;
  const fields = inputFormFields(workflow.inputSchema);
  const firstInvalid = fields?.find((field) => refused?.fields?.errors[field.name] !== undefined);
  const jsonForm = (
    <form method="post" action={action}>
      <input type="hidden" name="_csrf" value={props.session.csrf} />
      <label>
        input (JSON)
        <br />
        <textarea name="input" rows={3} cols={40} spellcheck={false}>
          {(refused?.fields ? undefined : refused?.input) ?? (workflow.inputSchema === undefined ? 'null' : '{}')}
        </textarea>
      </label>
      <RunIdField refused={refused?.fields ? undefined : refused} />
      <button type="submit">Start</button>
    </form>
  );
  return (
    <details class="start-run" id={`start-${workflow.name}`} open={refused !== undefined}>
      <summary>Start a run</summary>
      {refused && <p class="notice error">{refused.message}</p>}
      {fields ? (
        // Laid out as a task's form: one field under the other, with its help and its error.
        <form method="post" action={action} class="task" data-start-fields={workflow.name}>
          <input type="hidden" name="_csrf" value={props.session.csrf} />
          <input type="hidden" name={START_FORM_KIND} value={START_FIELDS_FORM} />
          {fields.map((field) => (
            <Field
              field={field}
              values={refused?.fields?.values}
              error={refused?.fields?.errors[field.name]}
              disabled={false}
              focus={field === firstInvalid}
              idPrefix={`${workflow.name}-`}
            />
          ))}
          <div class="actions">
            <RunIdField refused={refused?.fields ? refused : undefined} />
            <button type="submit">Start</button>
          </div>
        </form>
      ) : (
        <div class="actions">{jsonForm}</div>
      )}
      {fields && (
        <details class="start-json" open={refused !== undefined && refused.fields === undefined}>
          <summary>or give the input as JSON</summary>
          <div class="actions">{jsonForm}</div>
        </details>
      )}
      {workflow.inputSchema !== undefined && (
        <details>
          <summary>input schema</summary>
          <pre>{JSON.stringify(workflow.inputSchema, null, 2)}</pre>
        </details>
      )}
    </details>
  );
}

export function workflowsPage(props: {
  session: Session;
  workflows: WorkflowView[];
  problems?: DeployProblemView[];
  refused?: RefusedStart;
}) {
  return (
    <Layout title="Workflows" session={props.session} section="workflows">
      <h1>Workflows</h1>
      {props.problems?.map((problem) => (
        <DeployProblemNotice problem={problem} workflows={props.workflows} />
      ))}
      {props.workflows.length === 0 && <p class="muted">No workflow is deployed.</p>}
      {props.workflows.map((workflow) => (
        <section class="workflow" id={`wf-${workflow.name}`}>
          <h2>
            {workflow.name} <a href={`/runs?workflow=${encodeURIComponent(workflow.name)}`}>runs »</a>
          </h2>
          {workflow.description && <p>{workflow.description}</p>}
          <dl class="meta">
            <dt>active version</dt>
            <dd>
              <span class="mono">{workflow.version.slice(0, 12)}</span>
              {workflow.problems && (
                <>
                  {' '}
                  <span class="badge">its file fails to build: this version stays (see above)</span>
                </>
              )}
            </dd>
            <dt>deployed</dt>
            <dd>
              {/* When this version became active (a rollback to an old version shows), not when it was first stored. */}
              <Time at={workflow.activatedAt ?? workflow.deployedAt} />
            </dd>
            {workflow.origin && (
              <>
                <dt>file</dt>
                <dd class="mono">{workflow.origin}</dd>
              </>
            )}
            <dt>triggers</dt>
            <dd>
              {workflow.triggers.length === 0 && <span class="muted">manual and API starts only</span>}
              <ul>
                {workflow.triggers.map((trigger) =>
                  'cron' in trigger ? (
                    <li>
                      schedule <code>{trigger.cron}</code>
                      {trigger.timezone && ` (${trigger.timezone})`}
                      <NextFire schedule={workflow.schedules?.[cronTriggersBefore(workflow, trigger)]} />
                    </li>
                  ) : (
                    <li>
                      event <code>{trigger.event}</code>
                      {trigger.filter && <code> {JSON.stringify(trigger.filter)}</code>}
                    </li>
                  ),
                )}
              </ul>
            </dd>
            <dt>permissions</dt>
            <dd>
              <code>{JSON.stringify(workflow.permissions)}</code>
            </dd>
            {workflow.concurrency && (
              <>
                <dt>concurrency</dt>
                <dd>
                  {workflow.concurrency.limit} at a time
                  {workflow.concurrency.key && (
                    <>
                      {' '}
                      per <code>{workflow.concurrency.key}</code>
                    </>
                  )}
                  {workflow.concurrency.group && (
                    <>
                      , group <code>{workflow.concurrency.group}</code>
                    </>
                  )}
                  {workflow.concurrency.cancelInProgress
                    ? '; the newest win: a new run cancels older ones, running or waiting'
                    : workflow.concurrency.queue === 'latest' && '; only the newest run waits'}
                </dd>
              </>
            )}
            <dt>versions</dt>
            <dd>
              {workflow.versions.map((version) => (
                <div class="mono">
                  {version.version.slice(0, 12)} · <Time at={version.deployedAt} />
                  {version.active && ' · active'}
                </div>
              ))}
            </dd>
          </dl>
          <StartRunForm session={props.session} workflow={workflow} refused={props.refused} />
        </section>
      ))}
    </Layout>
  );
}

/**
 * What a GitLab event is about, in one line, written the way GitLab references it: `demo/app#42 Title`
 * for an issue, `demo/app!7 Title` for a merge request, `demo/app%"Sprint 1"` for a milestone.
 */
export function subjectOf(event: StoredEvent): string {
  const data = (event.data ?? {}) as {
    project?: { path_with_namespace?: string };
    object_kind?: string;
    object_attributes?: { iid?: number; title?: string };
    merge_request?: { iid?: number };
  };
  const project = data.project?.path_with_namespace;
  const attributes = data.object_attributes;
  if (data.object_kind === 'milestone' || /(^|[._])milestone/.test(event.type)) {
    const name = attributes?.title !== undefined ? `%"${attributes.title}"` : attributes?.iid !== undefined ? `%${attributes.iid}` : '';
    return `milestone ${project ?? ''}${name}`.trim();
  }
  // Only issues and merge requests are referenced by iid; a pipeline's iid (its number in the project) is no `#3`.
  const mark = event.type.includes('merge_request') ? '!' : /issue|work_item/.test(event.type) ? '#' : undefined;
  const reference = project && mark && attributes?.iid !== undefined ? `${project}${mark}${attributes.iid}` : (event.subject ?? project);
  return [reference, attributes?.title].filter(Boolean).join(' ');
}

function RunLinks(props: { ids: string[] }) {
  return (
    <>
      {props.ids.slice(0, 5).map((id, index) => (
        <>
          {index > 0 && ', '}
          <RunLink id={id} />
        </>
      ))}
      {props.ids.length > 5 && ` and ${props.ids.length - 5} more`}
    </>
  );
}

export function eventsPage(props: {
  session: Session;
  events: StoredEvent[];
  routing: EventRoutingSummary[];
  type?: string | undefined;
  before?: number | undefined;
}) {
  const last = props.events.at(-1);
  const routing = new Map(props.routing.map((summary) => [summary.seq, summary]));
  const typeParam = props.type ? `&type=${encodeURIComponent(props.type)}` : '';
  return (
    <Layout title="Events" session={props.session} section="events" live={props.before === undefined ? '/live?events=1' : undefined}>
      <h1>Events</h1>
      <form class="filters" method="get" action="/events">
        <label>
          Type
          <input type="search" name="type" value={props.type ?? ''} placeholder="com.gitlab.events.issue_updated" size={36} />
        </label>
        <button type="submit">Show</button>
      </form>
      <div id="events-list" data-live-region>
        {props.events.length === 0 ? (
          <p class="muted">No events received.</p>
        ) : (
          <table class="stack">
            <thead>
              <tr>
                <th>#</th>
                <th>Received</th>
                <th>Type</th>
                <th>About</th>
                <th>Source / subject</th>
                <th>Routing</th>
              </tr>
            </thead>
            <tbody>
              {props.events.map((event) => (
                <tr>
                  <td class="mono" data-label="#">
                    {event.seq}
                  </td>
                  <td data-label="Received">
                    <Time at={event.receivedAt} />
                  </td>
                  <td class="mono" data-label="Type">
                    {event.type}
                  </td>
                  <td data-label="About">{subjectOf(event)}</td>
                  <td class="mono" data-label="Source / subject">
                    {event.source}
                    {event.subject && <div>{event.subject}</div>}
                  </td>
                  <td class="routing" data-label="Routing" data-seq={String(event.seq)}>
                    {routing.get(event.seq)?.started.length ? (
                      <div>
                        started <RunLinks ids={routing.get(event.seq)?.started ?? []} />
                      </div>
                    ) : null}
                    {routing.get(event.seq)?.delivered.length ? (
                      <div>
                        reached <RunLinks ids={routing.get(event.seq)?.delivered ?? []} />
                      </div>
                    ) : null}
                    {!routing.has(event.seq) && (
                      <span class="muted" title="Which waits an event satisfied is kept only while those runs are running">
                        started no run
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div class="pager">
        {props.before !== undefined && <a href={`/events?${typeParam.slice(1)}`}>« newest</a>}
        {last && props.events.length >= 50 && <a href={`/events?before=${last.seq}${typeParam}`}>older »</a>}
      </div>
    </Layout>
  );
}
