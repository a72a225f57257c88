import { Hono } from 'hono';
import { z } from 'zod';
import { ConflictError, toError, ValidationError } from '../../../core/errors.js';
import type { EmbeddedGitLab } from '../../../testing/embedded-gitlab.js';
import {
  SIMULATOR_ACTIONS,
  callSimulatorAction,
  isSimulatorAction,
  presentSimulatorResult,
  simulatorActionProblems,
} from '../../../testing/gitlab-sim/action-catalog.js';
import type { AppEnv } from '../env.js';
import { readBody } from '../input.js';

const actionBody = z.object({ args: z.array(z.json(), 'a list of arguments').default([]) });

/**
 * `/api/v1/simulator`: with no GitLab configured, lets a newcomer make things happen in the
 * built-in simulator (as `autoflow simulate` does) and watch the workflows react.
 */
export function simulatorRoutes(embedded: EmbeddedGitLab): Hono<AppEnv> {
  return new Hono<AppEnv>()
    .get('/', (c) =>
      c.json({
        baseUrl: embedded.baseUrl(),
        users: [...embedded.simulator.state.users.values()].map((user) => user.username),
        tokens: embedded.simulator.state.conventionalTokens(),
        actions: SIMULATOR_ACTIONS,
      }),
    )
    .post('/actions/:name', async (c) => {
      const name = c.req.param('name');
      if (!isSimulatorAction(name)) {
        throw new ValidationError(`unknown simulator action '${name}'`, [`use one of ${Object.keys(SIMULATOR_ACTIONS).join(', ')}`]);
      }
      const { args } = await readBody(c, actionBody);
      const problems = simulatorActionProblems(name, args);
      if (problems.length > 0) throw new ValidationError(`${name} takes: ${SIMULATOR_ACTIONS[name]}`, problems);
      let result: unknown;
      try {
        result = callSimulatorAction(embedded.simulator.actions, name, args);
      } catch (caught) {
        // The arguments were right; GitLab refused (no such issue, not allowed…): a failure, not a usage error.
        throw new ConflictError(`${name} failed: ${toError(caught).message}`);
      }
      // As GitLab's REST API answers the same change, not the simulator's record (ids for names, epoch times).
      return c.json({ result: presentSimulatorResult(embedded.simulator.state, name, args, result) ?? null });
    });
}
