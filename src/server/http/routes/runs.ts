import { Hono } from 'hono';
import { z } from 'zod';
import { RUN_STATUSES, type Json } from '../../../core/model.js';
import { MAX_HISTORY_PAGE, type Operations } from '../../../app/operations.js';
import type { AppEnv } from '../env.js';
import { queryInteger, querySeconds, readBody, readJson, readQuery } from '../input.js';

/** The longest a `GET /runs/:id?wait=` holds the request, in seconds. */
const MAX_WAIT_SECONDS = 60;

const startSchema = z.strictObject(
  {
    workflow: z.string('a workflow name').min(1, 'a workflow name'),
    // Parsed from the request's JSON, so JSON; how deep it may nest is the operations' check (z.json() recurses, and
    // overflowed the stack on input nested 3,000 deep).
    input: z.custom<Json>().optional(),
    id: z.string('a run id').min(1, 'a run id').optional(),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'a JSON object { workflow, input?, id? }' : undefined) },
);

const SINCE = 'an ISO 8601 time with its zone (2026-12-06T10:00:00Z, 2026-12-06T12:00:00+02:00) or a date (2026-12-06: from 00:00 UTC)';
const isoTime = z.iso.datetime({ offset: true });
const isoDate = z.iso.date();

const listSchema = z.object({
  workflow: z.string().min(1, 'a workflow name').optional(),
  status: z.enum(RUN_STATUSES, `one of ${RUN_STATUSES.join(', ')}`).optional(),
  version: z
    .string()
    .regex(/^[0-9a-f]{6,64}$/, 'a workflow version or its start: 6 to 64 hex digits, as `autoflow runs` and `autoflow workflows` print it')
    .optional(),
  /** The children of this run: the runs whose `parentId` it is. */
  parent: z.string().min(1, 'a run id').optional(),
  // `updated`: by when runs last changed, which for runs that ended is when they did (see RunFilter.order).
  order: z.enum(['created', 'updated'], "'created' or 'updated'").optional(),
  /** Runs created (order `created`) or that last changed (order `updated`) at or after this time. */
  since: z
    .string(SINCE)
    .refine((value) => (isoTime.safeParse(value).success || isoDate.safeParse(value).success) && Number.isFinite(Date.parse(value)), SINCE)
    .transform((value) => Date.parse(value))
    .optional(),
  cursor: z.string().optional(),
  limit: queryInteger(1, 500).optional(),
});

const waitSchema = z.object({ wait: querySeconds(MAX_WAIT_SECONDS).optional() });

/** Routes that take no query parameter refuse one, as the others refuse one they do not know. */
const noQuery = z.object({});

const logsSchema = z.object({ after: queryInteger(0, Number.MAX_SAFE_INTEGER).optional() });

const historySchema = z.object({
  after: queryInteger(0, Number.MAX_SAFE_INTEGER).optional(),
  limit: queryInteger(1, MAX_HISTORY_PAGE).optional(),
});

const cancelSchema = z.strictObject({ reason: z.string('a string').optional() }).optional();

const retrySchema = z
  .strictObject({ version: z.enum(['same', 'latest'], "'same' or 'latest'").optional(), dryRun: z.boolean().optional() })
  .optional();

/**
 * `/api/v1/runs`: start, list, inspect, cancel, terminate, retry and signal runs. `/:id/calls` lists the calls not
 * resolved yet, with attempts, last error and next attempt: what a retrying run waits for.
 */
export function runRoutes(operations: Operations): Hono<AppEnv> {
  return new Hono<AppEnv>()
    .post('/', async (c) => {
      const { run, created } = await operations.startRun(await readBody(c, startSchema));
      return c.json(run, created ? 201 : 200);
    })
    .get('/', async (c) => {
      const { since, parent, ...query } = readQuery(c, listSchema);
      const from = since === undefined ? {} : query.order === 'updated' ? { updatedFrom: since } : { createdFrom: since };
      const page = await operations.listRuns({ ...query, ...from, ...(parent === undefined ? {} : { parentId: parent }) });
      return c.json({ runs: page.runs, nextCursor: page.nextCursor ?? null });
    })
    .get('/:id', async (c) => {
      const { wait } = readQuery(c, waitSchema);
      const id = c.req.param('id');
      return c.json(wait ? await operations.waitForRun(id, wait * 1000) : await operations.getRun(id));
    })
    .get('/:id/history', async (c) => {
      const page = await operations.getHistoryPage(c.req.param('id'), readQuery(c, historySchema));
      return c.json({ events: page.events, next: page.next ?? null });
    })
    .get('/:id/calls', async (c) => {
      readQuery(c, noQuery);
      return c.json({ calls: await operations.listCalls(c.req.param('id')) });
    })
    .get('/:id/retries', async (c) => {
      readQuery(c, noQuery);
      return c.json({ retries: await operations.listRetries(c.req.param('id')) });
    })
    .get('/:id/logs', async (c) => {
      const { after } = readQuery(c, logsSchema);
      const page = await operations.getLogs(c.req.param('id'), after);
      return c.json({ logs: page.logs, next: page.next ?? null });
    })
    .post('/:id/cancel', async (c) => {
      const body = await readBody(c, cancelSchema);
      return c.json(await operations.cancelRun(c.req.param('id'), body?.reason));
    })
    .post('/:id/terminate', async (c) => {
      // Authorized as cancel is: every /api/v1 route takes the API token (app.ts).
      const body = await readBody(c, cancelSchema);
      return c.json(await operations.terminateRun(c.req.param('id'), body?.reason));
    })
    .post('/:id/retry', async (c) => {
      const body = await readBody(c, retrySchema);
      return c.json(await operations.retryRun(c.req.param('id'), { latest: body?.version === 'latest', dryRun: body?.dryRun === true }));
    })
    .post('/:id/signals/:name', async (c) => {
      // The whole body is the signal's payload, `null` too; an empty body is a signal without one.
      const payload = (await readJson(c)) as Json | undefined;
      const idempotencyKey = c.req.header('idempotency-key');
      return c.json(await operations.signalRun(c.req.param('id'), c.req.param('name'), payload, { idempotencyKey }), 202);
    });
}
