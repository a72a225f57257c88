import { Hono } from 'hono';
import { z } from 'zod';
import { toError, ValidationError } from '../../../core/errors.js';
import type { EmbeddedGitLab } from '../../../testing/embedded-gitlab.js';
import type { AppEnv } from '../env.js';
import { readBody } from '../input.js';

/** The simulator's user-facing actions and their parameters, for `autoflow simulate` to list. */
export const SIMULATOR_ACTIONS: Record<string, string> = {
  createIssue: 'actor project {"title":…, "labels"?: [...], "milestone"?: …}',
  updateIssue: 'actor project iid {"addLabels"?: [...], "milestone"?: …, "state"?: "close"}',
  closeIssue: 'actor project iid',
  reopenIssue: 'actor project iid',
  addLabels: 'actor project iid ["label", …]',
  removeLabels: 'actor project iid ["label", …]',
  setMilestone: 'actor project iid "Milestone title" (or null)',
  openMergeRequest: 'actor project {"sourceBranch":…, "title":…, "description"?: "Closes #1"}',
  addReviewer: 'actor project iid reviewer',
  approveMergeRequest: 'actor project iid',
  mergeMergeRequest: 'actor project iid',
  createNote: 'actor project {"issueIid"|"mergeRequestIid": …, "body": …}',
  push: 'actor project {"branch":…, "files": {path: content}, "message"?: …}',
  createPipeline: 'actor project ref',
  setPipelineStatus: 'project pipelineId status (running, success, failed, canceled…)',
  closeMilestone: 'actor {"project": …} title',
};

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
      if (!Object.hasOwn(SIMULATOR_ACTIONS, name)) {
        throw new ValidationError(`unknown simulator action '${name}'`, [`use one of ${Object.keys(SIMULATOR_ACTIONS).join(', ')}`]);
      }
      const { args } = await readBody(c, actionBody);
      const actions = embedded.simulator.actions as unknown as Record<string, (this: void, ...values: unknown[]) => unknown>;
      const action = actions[name] as (this: void, ...values: unknown[]) => unknown;
      try {
        return c.json({ result: action(...args) ?? null });
      } catch (caught) {
        throw new ValidationError(`${name} failed: ${toError(caught).message}`, [`usage: ${name} ${SIMULATOR_ACTIONS[name]}`]);
      }
    });
}
