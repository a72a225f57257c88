import { Hono } from 'hono';
import { z } from 'zod';
import type { Operations } from '../../../app/operations.js';
import type { AppEnv } from '../env.js';
import { queryInteger, readQuery } from '../input.js';

const STATUSES = ['open', 'closed', 'submitted', 'approved', 'rejected', 'timed_out', 'cancelled'] as const;

const listSchema = z.object({
  assignee: z.string().min(1).optional(),
  run: z.string().min(1).optional(),
  status: z.enum(STATUSES, `one of ${STATUSES.join(', ')}`).optional(),
  cursor: z.string().min(1).optional(),
  limit: queryInteger(1, 500).optional(),
});

/**
 * `/api/v1/tasks`: the forms and approvals runs wait for, read-only. People answer them in the
 * web UI, signed in as themselves; an API token stands for no person, so it cannot answer.
 */
export function taskRoutes(operations: Operations): Hono<AppEnv> {
  return new Hono<AppEnv>()
    .get('/', async (c) => {
      const { assignee, run, status, cursor, limit } = readQuery(c, listSchema);
      const page = await operations.listTasks({
        ...(assignee !== undefined && { assignee }),
        ...(run !== undefined && { runId: run }),
        ...(status !== undefined && { status }),
        ...(cursor !== undefined && { cursor }),
        ...(limit !== undefined && { limit }),
      });
      // Like `/runs`: `nextCursor` is always there, `null` on the last page.
      return c.json({ tasks: page.tasks, nextCursor: page.nextCursor ?? null });
    })
    .get('/:id', async (c) => c.json(await operations.getTask(c.req.param('id'))));
}
