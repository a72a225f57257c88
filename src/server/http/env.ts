import type { RequestIdVariables } from 'hono/request-id';

/** What handlers find on the Hono context. */
export type AppEnv = { Variables: RequestIdVariables };
