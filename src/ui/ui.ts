import { Hono, type Context } from 'hono';
import type { TaskView } from '../app/operations.js';
import { AutoflowError, ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../core/errors.js';
import type { FormSpec } from '../core/human-task.js';
import { inputFormFields } from '../core/input-form.js';
import type { Json } from '../core/model.js';
import { authRoutes } from './auth/oauth.js';
import { readSession, requireUser, verifyCsrf } from './auth/session.js';
import type { UiEnv, UiOptions, UiSettings } from './env.js';
import { checkPostedForm, postedValues, strictPostErrors, type PostedValues } from './form.js';
import { countInbox, readInboxPage } from './inbox.js';
import { liveStream } from './live.js';
import { errorPage } from './pages/error.js';
import { eventsPage, overviewPage, runsPage, START_FIELDS_FORM, START_FORM_KIND, workflowsPage, type RefusedStart } from './pages/lists.js';
import { CHILDREN_SHOWN, HISTORY_SHOWN, runPage, type RunPageProps } from './pages/run.js';
import { inboxPage, refusalText, taskPage } from './pages/tasks.js';
import { parseRunsFilter } from './runs-filter.js';
import { PAGE_HEADERS, render, staticRoutes } from './static.js';

const PAGE_SIZE = 50;

type Notice = { kind: 'error' | 'ok' | 'info'; text: string };
const NOTICES: Record<string, Notice> = {
  submitted: { kind: 'ok', text: 'Thank you: your answer is recorded and the workflow carries on.' },
  decided: { kind: 'ok', text: 'Your decision is recorded.' },
  cancelled: { kind: 'ok', text: 'Cancellation requested: the run’s cleanup code runs, then it ends.' },
  terminated: { kind: 'ok', text: 'The run is terminated: it ended at once, cancelled, without running its cleanup code.' },
  signalled: { kind: 'ok', text: 'Signal sent.' },
  retried: { kind: 'ok', text: 'The call is attempted again now.' },
  'run-retried': { kind: 'ok', text: 'The run goes on from the task that failed it; what it did before is kept.' },
  started: { kind: 'ok', text: 'The run is started.' },
  queued: { kind: 'info', text: 'The run is queued: it starts when a running run of its concurrency group ends.' },
  exists: { kind: 'info', text: 'A run with this id exists already: here it is (no second run was started).' },
};

/** The refusal of a posted form, naming each field's problem. */
function invalidFields(errors: Record<string, string>): ValidationError {
  return new ValidationError(
    'the form has invalid fields',
    Object.entries(errors).map(([name, message]) => `${name}: ${message}`),
    errors,
  );
}

/** Status and user-facing text of an error on a page; unexpected errors say only that something failed. */
function statusOf(error: Error): 400 | 403 | 404 | 409 | 500 {
  if (error instanceof NotFoundError) return 404;
  if (error instanceof ForbiddenError) return 403;
  if (error instanceof ConflictError) return 409;
  if (error instanceof ValidationError) return 400;
  return 500;
}

/**
 * The web UI: server-rendered pages (hono/jsx, escaped by construction) over the operations
 * layer, sign-in with GitLab, and server-sent events for live pages. Every route is registered
 * by its own path (no `*` middleware), so mounting it at `/` cannot touch `/api` or `/webhooks`.
 */
export function createUi(options: UiOptions): Hono<UiEnv> {
  const settings: UiSettings = { ...options, now: options.now ?? Date.now };
  const { operations } = settings;
  const app = new Hono<UiEnv>();
  app.onError((error, c) => {
    const status = statusOf(error);
    if (status === 500) settings.logger.error({ err: error, path: c.req.path }, 'web UI page failed');
    const message =
      status === 500 || !(error instanceof AutoflowError) ? 'Something went wrong on the server; the log has the details.' : error.message;
    return c.html(render(errorPage({ session: c.get('session'), status, message })), status, PAGE_HEADERS);
  });
  app.route('/', staticRoutes());
  app.route('/', authRoutes(settings));
  const user = requireUser(settings);
  const csrf = verifyCsrf(settings);
  const page = (c: Context<UiEnv>, node: { toString(): string | Promise<string> }, status: 200 | 400 | 403 | 409 = 200) =>
    c.html(render(node), status, PAGE_HEADERS);
  const notice = (c: Context<UiEnv>): Notice | undefined => NOTICES[c.req.query('done') ?? ''];

  app.get('/live', user, (c) => liveStream(c, settings));

  app.get('/', user, async (c) => {
    const session = c.get('session');
    const [counts, failures, tasks, workflows] = await Promise.all([
      operations.countRuns(),
      // The latest failures first, by when they failed: a run started days ago that failed a minute ago leads.
      operations.listRuns({ status: 'failed', order: 'updated', limit: 10 }),
      countInbox(operations, session.username),
      operations.listWorkflows(),
    ]);
    return page(c, overviewPage({ session, counts, failures: failures.runs, openTasks: tasks, workflows: workflows.length }));
  });

  const showWorkflows = async (c: Context<UiEnv>, refused?: RefusedStart) => {
    const [workflows, problems] = await Promise.all([operations.listWorkflows(), operations.listDeployProblems()]);
    return page(c, workflowsPage({ session: c.get('session'), workflows, problems, ...(refused && { refused }) }), refused ? 400 : 200);
  };
  app.get('/workflows', user, (c) => showWorkflows(c));

  /**
   * What a start form posted, as `typed` with the values of its fields (the form of the input schema's fields): the
   * input, or a refusal to show with the form again when there is none.
   */
  const postedInput = async (form: Record<string, unknown>, typed: RefusedStart): Promise<{ input: Json } | { refused: RefusedStart }> => {
    if (typed.fields) {
      const workflow = (await operations.listWorkflows()).find((candidate) => candidate.name === typed.workflow);
      if (!workflow) return { refused: { ...typed, message: `workflow '${typed.workflow}' is not deployed` } };
      const fields = inputFormFields(workflow.inputSchema);
      // Deployed again since the page was loaded, with an input its fields no longer describe: nothing posted is used.
      if (!fields)
        return { refused: { ...typed, message: `workflow '${typed.workflow}' was deployed again with another input: give it again` } };
      const checked = checkPostedForm(fields, form);
      if (checked.ok) return { input: checked.values };
      const refused = { ...typed, message: invalidFields(checked.errors).message };
      return { refused: { ...refused, fields: { values: postedValues(fields, form), errors: checked.errors } } };
    }
    try {
      return { input: typed.input.trim() === '' ? null : (JSON.parse(typed.input) as Json) };
    } catch {
      return { refused: { ...typed, message: 'the input is not valid JSON; write for example {"project": "demo/app"} or null' } };
    }
  };

  /** A run started by hand from the workflows page; a refusal (bad JSON, input the schema refuses) shows the form again. */
  app.post('/workflows/:name/runs', user, csrf, async (c) => {
    const workflow = c.req.param('name');
    const form = await c.req.parseBody({ all: true });
    const text = (name: string): string => (typeof form[name] === 'string' ? form[name] : '');
    // The values of a form of fields are kept as posted (every key: which are fields is the schema's to say), to fill it again.
    const values = Object.fromEntries(
      Object.entries(form).filter((entry): entry is [string, string | string[]] => !(entry[1] instanceof File)),
    );
    const typed: RefusedStart = {
      workflow,
      input: text('input'),
      id: text('id').trim(),
      message: '',
      ...(form[START_FORM_KIND] === START_FIELDS_FORM && { fields: { values, errors: {} } }),
    };
    const posted = await postedInput(form, typed);
    if ('refused' in posted) return showWorkflows(c, posted.refused);
    const { input } = posted;
    try {
      const { run, created } = await operations.startRun({ workflow, input, ...(typed.id !== '' && { id: typed.id }) });
      const by = c.get('session').username;
      settings.logger.info({ runId: run.id, workflow, by, created }, `run ${run.id} of ${workflow} started in the web UI by @${by}`);
      return c.redirect(
        `/runs/${encodeURIComponent(run.id)}?done=${!created ? 'exists' : run.status === 'queued' ? 'queued' : 'started'}`,
        303,
      );
    } catch (error) {
      if (!(error instanceof ValidationError || error instanceof ConflictError)) throw error;
      return showWorkflows(c, { ...typed, message: error.message });
    }
  });

  app.get('/runs', user, async (c) => {
    const session = c.get('session');
    const filter = parseRunsFilter({
      workflow: c.req.query('workflow'),
      status: c.req.query('status'),
      from: c.req.query('from'),
      to: c.req.query('to'),
    });
    const { workflow, status, from, to } = filter;
    const cursor = c.req.query('cursor') || undefined;
    const back = c.req.query('back') || undefined;
    const q = c.req.query('q')?.trim() || undefined;
    const range = {
      ...(filter.createdFrom !== undefined ? { createdFrom: filter.createdFrom } : {}),
      ...(filter.createdBefore !== undefined ? { createdBefore: filter.createdBefore } : {}),
    };
    let notFound: string | undefined;
    // `demo/app#42`, `group/sub/app!7`: a GitLab reference lists the runs its events started.
    const reference = q && /^[\w.-]+(\/[\w.-]+)+[#!]\d+$/.test(q) ? q : undefined;
    if (q && !reference) {
      const found = await operations.getRun(q).catch((error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      });
      if (found) return c.redirect(`/runs/${encodeURIComponent(found.id)}`, 302);
      notFound = q;
    }
    const [list, workflows] = await Promise.all([
      operations.listRuns({
        ...(workflow ? { workflow } : {}),
        ...(status ? { status } : {}),
        ...range,
        ...(reference ? { subject: reference } : {}),
        ...(cursor ? { cursor } : {}),
        limit: PAGE_SIZE,
      }),
      operations.listWorkflows(),
    ]);
    return page(
      c,
      runsPage({
        session,
        query: {
          ...(workflow ? { workflow } : {}),
          ...(status ? { status } : {}),
          ...(from ? { from } : {}),
          ...(to ? { to } : {}),
          ...(cursor ? { cursor } : {}),
          ...(back ? { back } : {}),
          ...(q ? { q } : {}),
        },
        workflows: workflows.map((definition) => definition.name).sort(),
        runs: list.runs,
        nextCursor: list.nextCursor,
        ...(notFound ? { notFound } : {}),
        ...(reference ? { reference } : {}),
        ignored: filter.ignored,
        // A link to a retired workflow's runs, or a name mistyped in one, still filters: the page says why the list is as it is.
        ...(workflow && !workflows.some((definition) => definition.name === workflow) ? { undeployed: workflow } : {}),
      }),
    );
  });

  type RunExtra = Pick<RunPageProps, 'notice' | 'signal'>;
  async function showRun(c: Context<UiEnv>, id: string, extra: RunExtra = {}, status: 200 | 400 | 403 | 409 = 200) {
    const run = await operations.getRun(id);
    // Only the events the page shows are read: a run of any length is viewed, and updated live, at the same cost.
    const [history, first, logs, tasks, children, calls, retries] = await Promise.all([
      operations.getHistoryTail(id, HISTORY_SHOWN),
      // The run's own bar of the timeline starts at its first event.
      operations.getHistoryPage(id, { limit: 1 }),
      operations.getLogs(id),
      operations.listTasks({ runId: id, limit: 100 }),
      // How each child ended, which the run's history tells only of those it awaited while it ran.
      operations.listRuns({ parentId: id, limit: CHILDREN_SHOWN }),
      operations.listCalls(id),
      operations.listRetries(id),
    ]);
    return page(
      c,
      runPage({
        session: c.get('session'),
        run,
        history: history.events,
        historyLength: history.length,
        firstEvent: first.events[0],
        logs: logs.logs,
        moreLogs: logs.next !== undefined,
        tasks: tasks.tasks,
        children: children.runs,
        moreChildren: children.nextCursor !== undefined,
        calls,
        retries,
        now: settings.now(),
        notice: notice(c),
        ...extra,
      }),
      status,
    );
  }

  app.get('/runs/:id', user, (c) => showRun(c, c.req.param('id')));

  type RunAction = 'cancel' | 'terminate' | 'retry' | 'retry-call' | 'signal';
  /**
   * The run page's forms post to the run's own address (`action` says which), so that a refused
   * action is shown on the run page at a URL that reloads and refreshes live; success redirects (303).
   */
  async function runAction(c: Context<UiEnv>, id: string, action: string | undefined, step?: string) {
    const form = await c.req.parseBody({ all: true });
    const text = (name: string): string => {
      const value = form[name];
      return typeof value === 'string' ? value : '';
    };
    const done = (what: string) => c.redirect(`/runs/${encodeURIComponent(id)}?done=${what}`, 303);
    const signal = action === 'signal' ? { name: text('name').trim(), payload: text('payload') } : undefined;
    try {
      switch (action as RunAction) {
        case 'cancel':
          await operations.cancelRun(id, text('reason').trim() || 'cancelled in the web UI', c.get('session').username);
          return done('cancelled');
        case 'terminate':
          await operations.terminateRun(id, text('reason').trim() || undefined, c.get('session').username);
          return done('terminated');
        case 'retry':
          await operations.retryRun(id, { latest: text('version') === 'latest', by: c.get('session').username });
          return done('run-retried');
        case 'retry-call': {
          const number = Number(step ?? text('step'));
          if (!Number.isInteger(number) || number < 0) throw new NotFoundError('call', step ?? text('step'));
          await operations.retryCall(id, number);
          // The call's effect happens again: the log says who asked for it, as the history does for a run's retry.
          const by = c.get('session').username;
          settings.logger.info({ runId: id, step: number, by }, `call #${number} of run ${id} retried now in the web UI by @${by}`);
          return done('retried');
        }
        case 'signal': {
          // An empty field is a signal without data (its signal() returns true); `null` typed in is sent as null.
          let payload: Json | undefined;
          try {
            payload = signal?.payload.trim() ? (JSON.parse(signal.payload) as Json) : undefined;
          } catch {
            throw new ValidationError('the signal payload is not valid JSON; write for example {"ok": true} or null');
          }
          await operations.signalRun(id, signal?.name ?? '', payload, { by: c.get('session').username });
          return done('signalled');
        }
        default:
          throw new ValidationError('unknown action: reload the page and try again');
      }
    } catch (error) {
      if (!(error instanceof ValidationError || error instanceof ForbiddenError || error instanceof ConflictError)) throw error;
      return showRun(c, id, { notice: { kind: 'error', text: error.message }, signal }, statusOf(error) as 400 | 403 | 409);
    }
  }

  app.post('/runs/:id', user, csrf, async (c) => runAction(c, c.req.param('id'), (await c.req.parseBody()).action as string | undefined));
  // The addresses the forms used before; kept so that a page still open from then keeps working.
  app.post('/runs/:id/cancel', user, csrf, (c) => runAction(c, c.req.param('id'), 'cancel'));
  app.post('/runs/:id/retry', user, csrf, (c) => runAction(c, c.req.param('id'), 'retry'));
  app.post('/runs/:id/calls/:step/retry', user, csrf, (c) => runAction(c, c.req.param('id'), 'retry-call', c.req.param('step')));
  app.post('/runs/:id/signal', user, csrf, (c) => runAction(c, c.req.param('id'), 'signal'));

  app.get('/tasks', user, async (c) => {
    const session = c.get('session');
    const cursor = c.req.query('cursor') || undefined;
    const back = c.req.query('back') || undefined;
    const [open, count, closed] = await Promise.all([
      readInboxPage(operations, session.username, cursor),
      countInbox(operations, session.username),
      operations.listTasks({ assignee: session.username, status: 'closed', limit: 10 }),
    ]);
    return page(
      c,
      inboxPage({
        session,
        open: open.tasks,
        count,
        query: { ...(cursor ? { cursor } : {}), ...(back ? { back } : {}) },
        nextCursor: open.nextCursor,
        closed: closed.tasks,
      }),
    );
  });

  const gitlabWebUrl = (): string | undefined => settings.gitlabWebUrl?.();

  /**
   * Why a cancelled task's run ended, when it did: a person who opens the task learns the reason given, which the
   * run's error holds (`run c2 was cancelled: rollout aborted`). Nothing when the workflow cancelled the task itself.
   */
  async function runEndedFor(task: TaskView): Promise<string | undefined> {
    if (task.status !== 'cancelled') return undefined;
    const run = await operations.getRun(task.runId).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    return run && (run.status === 'cancelled' || run.status === 'failed') ? run.error?.message : undefined;
  }

  app.get('/tasks/:id', user, async (c) => {
    const task = await operations.getTask(c.req.param('id'));
    const runEnded = await runEndedFor(task);
    return page(c, taskPage({ session: c.get('session'), task, gitlabWebUrl: gitlabWebUrl(), notice: notice(c), runEnded }));
  });

  /** A refused action shown on the task page itself, with its status. */
  async function refused(c: Context<UiEnv>, task: TaskView, error: unknown, extra: { values?: PostedValues } = {}) {
    if (error instanceof ValidationError) {
      const fields = (error.details as { fields?: Record<string, string> } | undefined)?.fields ?? {};
      const errors = Object.keys(fields).length ? fields : { form: error.message };
      return page(c, taskPage({ session: c.get('session'), task, gitlabWebUrl: gitlabWebUrl(), errors, ...extra }), 400);
    }
    if (error instanceof ForbiddenError || error instanceof ConflictError) {
      const fresh = await operations.getTask(task.id);
      const status = error instanceof ForbiddenError ? 403 : 409;
      const text = (error instanceof ConflictError ? refusalText(fresh, c.get('session').username) : undefined) ?? error.message;
      const runEnded = await runEndedFor(fresh);
      return page(
        c,
        taskPage({
          session: c.get('session'),
          task: fresh,
          gitlabWebUrl: gitlabWebUrl(),
          notice: { kind: 'error', text },
          runEnded,
          ...extra,
        }),
        status,
      );
    }
    throw error;
  }

  /**
   * Forms and approvals post to the task's own address, so that a refused post is shown on the
   * task page at a URL that reloads and refreshes live; success redirects (303).
   */
  async function postTask(c: Context<UiEnv>) {
    const task = await operations.getTask(c.req.param('id') ?? '');
    const form = await c.req.parseBody({ all: true });
    const by = c.get('session').username;
    if (task.kind === 'approval') {
      const comment = typeof form.comment === 'string' && form.comment.trim() ? form.comment.trim() : undefined;
      const values: PostedValues = comment ? { comment } : {};
      const decision = form.decision === 'approve' || form.decision === 'reject' ? form.decision : undefined;
      try {
        if (!decision) throw new ValidationError('choose Approve or Reject');
        await operations.decideTask(task.id, { by, decision, ...(comment ? { comment } : {}) });
      } catch (error) {
        return refused(c, task, error, { values });
      }
      return c.redirect(`${task.path}?done=decided`, 303);
    }
    const fields = (task.spec as unknown as FormSpec).fields ?? [];
    const values = postedValues(fields, form);
    try {
      // What the operations would coerce loosely (`0x5`, `urgent=yes`) is refused here, with the other fields' problems.
      if (Object.keys(strictPostErrors(fields, form)).length > 0) {
        const checked = checkPostedForm(fields, form);
        if (!checked.ok) throw invalidFields(checked.errors);
      }
      await operations.submitTask(task.id, { by, values });
    } catch (error) {
      return refused(c, task, error, { values });
    }
    return c.redirect(`${task.path}?done=submitted`, 303);
  }

  app.post('/tasks/:id', user, csrf, postTask);
  // The address approval forms used before; kept so that a page still open from then keeps working.
  app.post('/tasks/:id/decision', user, csrf, postTask);

  app.get('/events', user, async (c) => {
    const type = c.req.query('type')?.trim() || undefined;
    const before = /^\d+$/.test(c.req.query('before') ?? '') ? Number(c.req.query('before')) : undefined;
    const events = await operations.listEvents({
      limit: PAGE_SIZE,
      ...(before !== undefined ? { beforeSeq: before } : {}),
      ...(type ? { type } : {}),
    });
    const routing = await operations.eventRouting(events);
    return page(c, eventsPage({ session: c.get('session'), events, routing, type, before }));
  });

  /**
   * A browser's unknown address gets a page, not the API's JSON. The only `*` route of the UI, and
   * it steps aside (to the app's JSON 404) for anything but a GET that asks for HTML outside the
   * API, the webhooks and the simulator, so it cannot shadow them.
   */
  app.get('*', async function pageNotFound(c, next) {
    const html = (c.req.header('accept') ?? '').includes('text/html');
    if (!html || RESERVED.test(c.req.path)) return next();
    const session = await readSession(c, settings);
    return c.html(render(errorPage({ session, status: 404, message: `There is no page at ${c.req.path}.` })), 404, PAGE_HEADERS);
  });

  return app;
}

const RESERVED = /^\/(api|webhooks|simulator|live|auth)(\/|$)/;
