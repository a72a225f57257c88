import { Hono } from 'hono';
import { z } from 'zod';
import { ConflictError, toError, ValidationError } from '../../../core/errors.js';
import type { EmbeddedGitLab } from '../../../testing/embedded-gitlab.js';
import type { AppEnv } from '../env.js';
import { readBody } from '../input.js';

type ArgumentKind = 'text' | 'number' | 'list' | 'text or null' | z.ZodType;
/** One argument of an action: how `autoflow simulate` shows it, and what it must be. */
type ActionArgument = readonly [shown: string, kind: ArgumentKind];

const actor: ActionArgument = ['actor', 'text'];
const project: ActionArgument = ['project', 'text'];
const iid: ActionArgument = ['iid', 'number'];

/** An object argument: its keys are checked too, so that a mistyped one (`source_branch`, `state_event`) is refused, not ignored. */
function fields<Shape extends z.ZodRawShape>(shape: Shape) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') {
        return `has the unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')} (it takes ${known})`;
      }
      return issue.code === 'invalid_type' && issue.input === undefined ? undefined : `must be a JSON object with ${known}`;
    },
  });
}

const text = z.string('text');
const names = z.array(text, 'a JSON list of names');
const boolean = z.boolean('true or false');
const issueChange = {
  title: text.optional(),
  description: text.nullable().optional(),
  labels: names.optional(),
  addLabels: names.optional(),
  removeLabels: names.optional(),
  assignees: names.optional(),
  milestone: text.nullable().optional(),
  confidential: boolean.optional(),
  dueDate: z.iso.date('a date, YYYY-MM-DD').nullable().optional(),
  state: z.enum(['close', 'reopen'], '"close" or "reopen"').optional(),
};
const owner = z.union([fields({ project: text }), fields({ group: text })], 'must be {"project": …} or {"group": …}');
const files = z.record(text, text, 'a JSON object of path: content');

/** The simulator's user-facing actions and their arguments, for `autoflow simulate` to list and check. */
const ACTIONS: Record<string, readonly ActionArgument[]> = {
  createIssue: [actor, project, ['{"title":…, "labels"?: [...], "milestone"?: …}', fields({ ...issueChange, title: text })]],
  updateIssue: [actor, project, iid, ['{"addLabels"?: [...], "milestone"?: …, "state"?: "close"}', fields(issueChange)]],
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
      fields({
        sourceBranch: text,
        targetBranch: text.optional(),
        title: text,
        description: text.optional(),
        labels: names.optional(),
        assignees: names.optional(),
        reviewers: names.optional(),
        milestone: text.optional(),
        files: files.optional(),
        removeSourceBranch: boolean.optional(),
      }),
    ],
  ],
  addReviewer: [actor, project, iid, ['reviewer', 'text']],
  approveMergeRequest: [actor, project, iid],
  mergeMergeRequest: [actor, project, iid],
  createNote: [
    actor,
    project,
    [
      '{"issue": iid} or {"mergeRequest": iid}',
      z.union(
        [fields({ issue: z.int('an iid') }), fields({ mergeRequest: z.int('an iid') })],
        'must be {"issue": iid} or {"mergeRequest": iid}',
      ),
    ],
    ['body (quick actions run as in GitLab: /label ~bug, /close…; a body of only quick actions saves no note: result null)', 'text'],
  ],
  push: [
    actor,
    project,
    [
      '{"branch":…, "files": {path: content}, "message"?: …}',
      fields({
        branch: text,
        files: z.record(text, text.nullable(), 'a JSON object of path: content (or null to delete)'),
        message: text.optional(),
        startBranch: text.optional(),
      }),
    ],
  ],
  createPipeline: [actor, project, ['ref', 'text']],
  setPipelineStatus: [project, ['pipelineId', 'number'], ['status (running, success, failed, canceled…)', 'text']],
  moveIssue: [actor, project, iid, ['target project', 'text']],
  createMilestone: [actor, ['{"project": …} or {"group": …}', owner], ['title', 'text']],
  closeMilestone: [actor, ['{"project": …} or {"group": …}', owner], ['title', 'text']],
  deploy: [
    actor,
    project,
    [
      '{"environment":…, "status": "success" (or running, failed…), "ref"?: …}',
      fields({
        environment: text,
        status: z.enum(
          ['created', 'running', 'success', 'failed', 'canceled', 'skipped', 'blocked'],
          'created, running, success, failed, canceled, skipped or blocked',
        ),
        ref: text.optional(),
      }),
    ],
  ],
  setMember: [
    actor,
    ['{"project": …} or {"group": …}', owner],
    ['username', 'text'],
    ['role (guest, reporter, developer, maintainer, owner) or null', 'text or null'],
  ],
};

/** Each action's arguments as one line, as `GET /api/v1/simulator` lists them. */
export const SIMULATOR_ACTIONS: Record<string, string> = Object.fromEntries(
  Object.entries(ACTIONS).map(([name, args]) => [name, args.map(([shown]) => shown).join(' ')]),
);

/** What is wrong with one argument, in words, or nothing. */
function argumentProblem(value: unknown, kind: ArgumentKind): string[] {
  switch (kind) {
    case 'text':
      return typeof value === 'string' ? [] : ['must be text'];
    case 'number':
      return typeof value === 'number' ? [] : ['must be a number'];
    case 'list':
      return Array.isArray(value) ? [] : ['must be a JSON list'];
    case 'text or null':
      return typeof value === 'string' || value === null ? [] : ['must be text or null'];
    default: {
      const parsed = kind.safeParse(value);
      if (parsed.success) return [];
      return parsed.error.issues.map((issue) => {
        if (issue.path.length === 0) return issue.message;
        // A missing key reads as one that must be there; zod says "expected …, received undefined".
        const given = issue.path.reduce<unknown>((node, key) => (node as Record<PropertyKey, unknown> | undefined)?.[key], value);
        const wanted = given === undefined ? 'is missing' : `must be ${issue.message}`;
        return `has ${issue.path.join('.')}, which ${wanted}`;
      });
    }
  }
}

/** Every argument that is missing, extra or not what the action takes, in words. */
function argumentProblems(name: string, args: readonly unknown[]): string[] {
  const expected = ACTIONS[name] ?? [];
  const problems = expected.flatMap(([shown, kind], index) => {
    if (index >= args.length) return [`argument ${index + 1} (${shown}) is missing`];
    return argumentProblem(args[index], kind).map(
      (problem) => `argument ${index + 1} (${shown}) ${problem}, got ${JSON.stringify(args[index])}`,
    );
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
