import type { SimContext } from './context.js';
import { GitLabApiError } from './errors.js';
import {
  ACCESS_LEVELS,
  type AccessLevel,
  type AccessRole,
  type CiJobTemplate,
  type SimGroup,
  type SimProject,
  type SimUser,
  type Visibility,
} from './model.js';
import { createIssue, updateIssue } from './ops/issues.js';
import { createLabel } from './ops/labels.js';
import { CI_CONFIG, writeCommit } from './ops/git.js';
import { createMilestone, updateMilestone } from './ops/planning.js';

/** A world described in a few lines; see `demoSeed()` for a full example. */
export interface SeedDescription {
  users?: (string | UserSeed)[];
  /** Parents before children; a nested path (`acme/platform`) creates missing parents. */
  groups?: GroupSeed[];
  /** `path` is `namespace/project`; the namespace is a seeded group or a user. */
  projects?: ProjectSeed[];
  /** username → token(s) that authenticate as them. */
  tokens?: Record<string, string | string[]>;
}

export interface UserSeed {
  username: string;
  name?: string;
  email?: string;
  admin?: boolean;
  state?: 'active' | 'blocked';
}

export type Role = AccessRole | AccessLevel;
export type LabelSeed = string | { name: string; color?: string; description?: string; priority?: number };
export type MilestoneSeed =
  string | { title: string; description?: string; dueDate?: string; startDate?: string; state?: 'active' | 'closed' };

export interface GroupSeed {
  path: string;
  name?: string;
  description?: string;
  /** @default 'private' */
  visibility?: Visibility;
  members?: Record<string, Role>;
  labels?: LabelSeed[];
  milestones?: MilestoneSeed[];
}

export interface IssueSeed {
  title: string;
  /** @default the first member with the highest role, or root */
  author?: string;
  description?: string;
  labels?: string[];
  milestone?: string;
  assignees?: string[];
  state?: 'opened' | 'closed';
  confidential?: boolean;
}

export interface ProjectSeed {
  path: string;
  name?: string;
  description?: string;
  /** @default 'private' */
  visibility?: Visibility;
  /** @default 'main' */
  defaultBranch?: string;
  members?: Record<string, Role>;
  labels?: LabelSeed[];
  milestones?: MilestoneSeed[];
  /** Files of the first commit. @default a README.md */
  files?: Record<string, string>;
  /** More branches, at the first commit. */
  branches?: string[];
  /** CI jobs; when given, a `.gitlab-ci.yml` is committed so that pushes start pipelines. */
  ci?: CiJobTemplate[];
  /** GitLab protects the default branch (Maintainers push and merge). @default true */
  protectDefaultBranch?: boolean;
  topics?: string[];
  issues?: IssueSeed[];
}

export interface SeedResult {
  users: Record<string, SimUser>;
  groups: Record<string, SimGroup>;
  projects: Record<string, SimProject>;
}

const levelOf = (role: Role): AccessLevel => (typeof role === 'number' ? role : ACCESS_LEVELS[role]);

const titleCase = (path: string): string => path.replace(/[-_]+/g, ' ').replace(/\b\w/g, (ch) => ch.toUpperCase());

/** The `.gitlab-ci.yml` a seeded project's jobs would come from; informative only, the simulator reads `ci`. */
function ciYaml(jobs: readonly CiJobTemplate[]): string {
  const stages = [...new Set(jobs.map((job) => job.stage))];
  const body = jobs.map(
    (job) =>
      `${job.name}:\n  stage: ${job.stage}\n  script: [echo ${job.name}]${job.environment ? `\n  environment: ${job.environment}` : ''}`,
  );
  return `stages: [${stages.join(', ')}]\n\n${body.join('\n\n')}\n`;
}

/** Creates what `description` lists, through the same operations the API uses, acting as the administrator. */
export function seedState(ctx: SimContext, description: SeedDescription, root: SimUser): SeedResult {
  const { state } = ctx;
  const result: SeedResult = { users: {}, groups: {}, projects: {} };
  const now = state.now();

  for (const entry of description.users ?? []) {
    const seed = typeof entry === 'string' ? { username: entry } : entry;
    const user: SimUser = {
      id: state.nextId('user'),
      username: seed.username,
      name: seed.name ?? titleCase(seed.username),
      email: seed.email ?? `${seed.username}@example.com`,
      state: seed.state ?? 'active',
      admin: seed.admin ?? false,
      createdAt: now,
    };
    state.users.set(user.id, user);
    result.users[user.username] = user;
  }

  const membersOf = (roles: Record<string, Role> | undefined): SimGroup['members'] =>
    new Map(
      Object.entries(roles ?? {}).map(([username, role]) => [
        state.requireUser(username).id,
        { accessLevel: levelOf(role), expiresAt: null, createdAt: now, createdById: root.id },
      ]),
    );
  const plan = (owner: SimProject | SimGroup, labels: LabelSeed[] | undefined, milestones: MilestoneSeed[] | undefined): void => {
    for (const label of labels ?? []) createLabel(ctx, root, owner, typeof label === 'string' ? { name: label } : label);
    for (const entry of milestones ?? []) {
      const seed = typeof entry === 'string' ? { title: entry } : entry;
      const milestone = createMilestone(ctx, root, owner, seed);
      if (seed.state === 'closed') updateMilestone(ctx, root, milestone, { stateEvent: 'close' });
    }
  };
  const ensureGroup = (path: string, seed?: GroupSeed): SimGroup => {
    const existing = state.findGroup(path);
    if (existing && !seed) return existing;
    const slash = path.lastIndexOf('/');
    const parent = slash < 0 ? null : ensureGroup(path.slice(0, slash));
    const leaf = path.slice(slash + 1);
    const group: SimGroup = existing ?? {
      id: state.nextId('namespace'),
      path: leaf,
      name: seed?.name ?? titleCase(leaf),
      description: seed?.description ?? '',
      parentId: parent?.id ?? null,
      visibility: seed?.visibility ?? 'private',
      createdAt: now,
      members: new Map(),
    };
    for (const [id, membership] of membersOf(seed?.members)) group.members.set(id, membership);
    state.groups.set(group.id, group);
    result.groups[path] = group;
    return group;
  };
  for (const seed of description.groups ?? []) {
    plan(ensureGroup(seed.path, seed), seed.labels, seed.milestones);
  }

  for (const seed of description.projects ?? []) {
    const slash = seed.path.lastIndexOf('/');
    if (slash < 0) throw new TypeError(`seed: project path '${seed.path}' needs a namespace, as in 'acme/app'`);
    const namespacePath = seed.path.slice(0, slash);
    const group = state.findGroup(namespacePath);
    const owner = group ? undefined : state.userByUsername(namespacePath);
    if (!group && !owner)
      throw new TypeError(`seed: '${namespacePath}' is neither a seeded group nor a user; list it under groups or users first`);
    const defaultBranch = seed.defaultBranch ?? 'main';
    const leaf = seed.path.slice(slash + 1);
    const project: SimProject = {
      id: state.nextId('project'),
      path: leaf,
      name: seed.name ?? titleCase(leaf),
      description: seed.description ?? null,
      namespace: group ? { kind: 'group', id: group.id } : { kind: 'user', id: (owner as SimUser).id },
      visibility: seed.visibility ?? 'private',
      defaultBranch,
      topics: seed.topics ?? [],
      createdAt: now,
      lastActivityAt: now,
      members: membersOf(seed.members),
      repository: { branches: new Map(), commits: new Map(), tags: new Map() },
      protectedBranches: new Map(seed.protectDefaultBranch === false ? [] : [[defaultBranch, { push: 40, merge: 40 }]]),
      ciJobs: seed.ci ?? [
        { name: 'build', stage: 'build' },
        { name: 'test', stage: 'test' },
      ],
      iids: { issue: 0, mergeRequest: 0, milestone: 0, pipeline: 0, deployment: 0 },
    };
    state.projects.set(project.id, project);
    result.projects[seed.path] = project;
    const files = { ...(seed.files ?? { 'README.md': `# ${project.name}\n` }), ...(seed.ci ? { [CI_CONFIG]: ciYaml(seed.ci) } : {}) };
    const first = writeCommit(ctx, project, [], new Map(Object.entries(files)), 'Initial commit', root);
    for (const branch of [defaultBranch, ...(seed.branches ?? [])]) project.repository.branches.set(branch, first.sha);
    plan(project, seed.labels, seed.milestones);
    for (const issue of seed.issues ?? []) {
      const author = issue.author
        ? state.requireUser(issue.author)
        : (state.effectiveMembers(project).sort((a, b) => b.membership.accessLevel - a.membership.accessLevel)[0]?.user ?? root);
      const milestone =
        issue.milestone === undefined ? undefined : state.availableMilestones(project).find((m) => m.title === issue.milestone);
      if (issue.milestone !== undefined && !milestone)
        throw new TypeError(`seed: milestone '${issue.milestone}' of issue '${issue.title}' is not seeded`);
      const assigneeIds = issue.assignees?.map((username) => state.requireUser(username).id);
      try {
        const created = createIssue(ctx, author, project, {
          title: issue.title,
          description: issue.description,
          labels: issue.labels,
          milestoneId: milestone?.id,
          assigneeIds,
          confidential: issue.confidential,
        });
        if (issue.state === 'closed') updateIssue(ctx, author, created, { stateEvent: 'close' });
      } catch (error) {
        if (!(error instanceof GitLabApiError)) throw error;
        // The seed acts as the issue's author, with GitLab's permissions: a bare `404 Project Not Found` names neither.
        const member = state.accessLevel(author, project) > 0;
        throw new TypeError(
          `seed: issue '${issue.title}' of ${seed.path} by ${author.username} was refused (GitLab answered ${error.message})` +
            (member
              ? ''
              : `; ${author.username} is not a member of ${seed.path} or of its groups, so may not see a ${project.visibility} project: add { ${author.username}: 'reporter' } (or higher) to its members`),
          { cause: error },
        );
      }
    }
  }

  for (const [username, secrets] of Object.entries(description.tokens ?? {})) {
    const user = state.requireUser(username);
    for (const token of typeof secrets === 'string' ? [secrets] : secrets) {
      state.tokens.set(token, {
        id: state.nextId('token'),
        token,
        userId: user.id,
        name: `${username}-seed`,
        scopes: ['api'],
        expiresAt: null,
        revoked: false,
        createdAt: now,
      });
    }
  }
  return result;
}

/** The account workflows act as in the demo world: a maintainer of `demo`, and no person of the demo. */
export const DEMO_BOT_USERNAME = 'autoflow-bot';

/**
 * The demo world of `autoflow server` without a GitLab: group `demo` with project `demo/app`,
 * the bot `autoflow-bot` (maintainer), Alice (maintainer), Bob (developer), Carol (QA, reporter),
 * the scoped workflow labels and a few issues. Each person's token is `<username>-token`.
 *
 * The bot is the first user, so a test environment's workflows act as it, as the server's do: an
 * approval by `group:demo` or a mention of Alice then means the same in a test as in production.
 * It gets no conventional token: the server makes it a secret one, a test environment its own.
 */
export function demoSeed(): SeedDescription {
  return {
    users: [
      { username: DEMO_BOT_USERNAME, name: 'AutoFlow Bot' },
      { username: 'alice', name: 'Alice Maintainer' },
      { username: 'bob', name: 'Bob Developer' },
      { username: 'carol', name: 'Carol QA' },
    ],
    groups: [
      {
        path: 'demo',
        name: 'Demo',
        members: { [DEMO_BOT_USERNAME]: 'maintainer', alice: 'maintainer', bob: 'developer', carol: 'reporter' },
        labels: [
          { name: 'group::environments', color: '#a8d695' },
          { name: 'devops::deploy', color: '#d1d100' },
          { name: 'section::cd', color: '#428bca' },
        ],
      },
    ],
    projects: [
      {
        path: 'demo/app',
        name: 'App',
        description: 'A demo project for AutoFlow workflows',
        labels: [
          { name: 'workflow::backlog', color: '#dbdbdb' },
          { name: 'workflow::ready for dev', color: '#5cb85c' },
          { name: 'workflow::in dev', color: '#428bca' },
          { name: 'workflow::in review', color: '#8e44ad' },
          { name: 'workflow::verification', color: '#f0ad4e' },
          { name: 'workflow::complete', color: '#69d100' },
          { name: 'bug', color: '#d9534f' },
        ],
        milestones: ['Backlog', 'Sprint 1'],
        files: { 'README.md': '# App\n\nA demo project for AutoFlow.\n' },
        ci: [
          { name: 'build', stage: 'build' },
          { name: 'test', stage: 'test' },
          { name: 'deploy-staging', stage: 'deploy', environment: 'staging' },
        ],
        issues: [
          {
            title: 'Environments page shows stale deployments',
            author: 'carol',
            labels: ['bug', 'group::environments', 'workflow::backlog'],
            milestone: 'Backlog',
          },
          {
            title: 'Add a deploy freeze banner',
            author: 'alice',
            labels: ['devops::deploy', 'workflow::ready for dev'],
            milestone: 'Sprint 1',
            assignees: ['bob'],
          },
          {
            title: 'Clean up review apps after merge',
            author: 'bob',
            labels: ['section::cd', 'workflow::in dev'],
            milestone: 'Sprint 1',
            assignees: ['bob'],
          },
          { title: 'Document the release checklist', author: 'alice', labels: ['workflow::complete'], state: 'closed' },
        ],
      },
    ],
    tokens: { alice: 'alice-token', bob: 'bob-token', carol: 'carol-token' },
  };
}
