import { Hono } from 'hono';
import { z } from 'zod';
import { ConflictError, toError, ValidationError } from '../../../core/errors.js';
import type { EmbeddedGitLab } from '../../../testing/embedded-gitlab.js';
import type { AppEnv } from '../env.js';
import { readBody } from '../input.js';

type ArgumentKind = 'text' | 'number' | 'object' | 'list' | 'text or null';
/** One argument of an action: how `autoflow simulate` shows it, and what it must be. */
type ActionArgument = readonly [shown: string, kind: ArgumentKind];

const actor: ActionArgument = ['actor', 'text'];
const project: ActionArgument = ['project', 'text'];
const iid: ActionArgument = ['iid', 'number'];

/** The simulator's user-facing actions and their arguments, for `autoflow simulate` to list and check. */
const ACTIONS: Record<string, readonly ActionArgument[]> = {
  createIssue: [actor, project, ['{"title":…, "labels"?: [...], "milestone"?: …}', 'object']],
  updateIssue: [actor, project, iid, ['{"addLabels"?: [...], "milestone"?: …, "state"?: "close"}', 'object']],
  closeIssue: [actor, project, iid],
  reopenIssue: [actor, project, iid],
  addLabels: [actor, project, iid, ['["label", …]', 'list']],
  removeLabels: [actor, project, iid, ['["label", …]', 'list']],
  setMilestone: [actor, project, iid, ['"Milestone title" (or null)', 'text or null']],
  openMergeRequest: [
    actor,
    project,
    [
      '{"sourceBranch":…, "title":…, "description"?: "Closes #1", "files"?: {path: content}} (files create the branch; or push first)',
      'object',
    ],
  ],
  addReviewer: [actor, project, iid, ['reviewer', 'text']],
  approveMergeRequest: [actor, project, iid],
  mergeMergeRequest: [actor, project, iid],
  createNote: [
    actor,
    project,
    ['{"issue": iid} or {"mergeRequest": iid}', 'object'],
    ['body (quick actions run as in GitLab: /label ~bug, /close…; a body of only quick actions saves no note: result null)', 'text'],
  ],
  push: [actor, project, ['{"branch":…, "files": {path: content}, "message"?: …}', 'object']],
  createPipeline: [actor, project, ['ref', 'text']],
  setPipelineStatus: [project, ['pipelineId', 'number'], ['status (running, success, failed, canceled…)', 'text']],
  moveIssue: [actor, project, iid, ['target project', 'text']],
  createMilestone: [actor, ['{"project": …} or {"group": …}', 'object'], ['title', 'text']],
  closeMilestone: [actor, ['{"project": …} or {"group": …}', 'object'], ['title', 'text']],
  deploy: [actor, project, ['{"environment":…, "status": "success" (or running, failed…), "ref"?: …}', 'object']],
  setMember: [
    actor,
    ['{"project": …} or {"group": …}', 'object'],
    ['username', 'text'],
    ['role (guest, reporter, developer, maintainer, owner) or null', 'text or null'],
  ],
};

/** Each action's arguments as one line, as `GET /api/v1/simulator` lists them. */
export const SIMULATOR_ACTIONS: Record<string, string> = Object.fromEntries(
  Object.entries(ACTIONS).map(([name, args]) => [name, args.map(([shown]) => shown).join(' ')]),
);

function fits(value: unknown, kind: ArgumentKind): boolean {
  switch (kind) {
    case 'text':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number';
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
    case 'list':
      return Array.isArray(value);
    case 'text or null':
      return typeof value === 'string' || value === null;
  }
}

/** Every argument that is missing, extra or of the wrong kind, in words. */
function argumentProblems(name: string, args: readonly unknown[]): string[] {
  const expected = ACTIONS[name] ?? [];
  const problems = expected.flatMap(([shown, kind], index) => {
    if (index >= args.length) return [`argument ${index + 1} (${shown}) is missing`];
    return fits(args[index], kind)
      ? []
      : [
          `argument ${index + 1} (${shown}) must be ${kind === 'list' ? 'a JSON list' : kind === 'object' ? 'a JSON object' : kind}, got ${JSON.stringify(args[index])}`,
        ];
  });
  if (args.length > expected.length) problems.push(`${args.length - expected.length} argument(s) too many`);
  return problems;
}

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
      const problems = argumentProblems(name, args);
      if (problems.length > 0) throw new ValidationError(`${name} takes: ${SIMULATOR_ACTIONS[name]}`, problems);
      const actions = embedded.simulator.actions as unknown as Record<string, (this: void, ...values: unknown[]) => unknown>;
      const action = actions[name] as (this: void, ...values: unknown[]) => unknown;
      try {
        return c.json({ result: action(...args) ?? null });
      } catch (caught) {
        // The arguments were right; GitLab refused (no such issue, not allowed…): a failure, not a usage error.
        throw new ConflictError(`${name} failed: ${toError(caught).message}`);
      }
    });
}
