/**
 * `gitlab`: GitLab's REST API for workflows, as typed methods over the host's `gitlab`
 * capability (see docs/gitlab-capability.md). Each method is one durable call: checked against
 * the definition's `permissions.gitlab`, retried on 429/5xx/network failures, recorded, and seen
 * once. A refusal (4xx) rejects at once with an error named `GitLabError` — see `gitlabError()`.
 * Issue, merge request and note creates are idempotent: a retry never makes a duplicate.
 */
import type { CallOptions, Json } from '../core/model.js';
import { callCapability } from './capabilities.js';
import { strictFacade } from './facade.js';
import type {
  Attributes,
  AuditEvent,
  CommitStatus,
  CommitStatusAttributes,
  CurrentUser,
  Deployment,
  DeploymentAttributes,
  DeploymentStatus,
  Environment,
  FileAttributes,
  FreezePeriod,
  Group,
  GroupRef,
  Issue,
  IssueAttributes,
  IssueQuery,
  Job,
  Label,
  LabelAttributes,
  Member,
  MergeAttributes,
  MergeRequest,
  MergeRequestApprovals,
  MergeRequestAttributes,
  MergeRequestQuery,
  Milestone,
  Note,
  Noteable,
  Owner,
  Page,
  Pipeline,
  PipelineAttributes,
  ProjectRef,
  Project,
  Query,
  RepositoryFile,
  User,
} from './gitlab-types.js';
import type { HttpMethod } from './types.js';

/** One page (GitLab's default 20 items, or `page`/`perPage` up to 100). */
export interface PageOptions extends CallOptions {
  page?: number;
  perPage?: number;
  /** The `pagination.nextCursor` of the page before: reads the page after it (keyset pagination too). */
  cursor?: string | undefined;
}

/** Every page, 100 items a request; more than `maxPages` pages fail the call. */
export interface AllPagesOptions extends CallOptions {
  all: true;
  perPage?: number;
  /** @default 50 */
  maxPages?: number;
}

/** A list: one page with its pagination, or with `{ all: true }` every item. */
export interface List<Target, Q, T> {
  (target: Target, query?: Q, options?: PageOptions): Promise<Page<T>>;
  (target: Target, query: Q | undefined, options: AllPagesOptions): Promise<T[]>;
}

/** The lists that hang off one issue or merge request. */
export interface ItemList<T> {
  (project: ProjectRef, iid: number, options?: PageOptions): Promise<Page<T>>;
  (project: ProjectRef, iid: number, options: AllPagesOptions): Promise<T[]>;
}

/** The statuses of one commit. */
export interface CommitStatusList {
  (project: ProjectRef, sha: string, query?: Query & { ref?: string; name?: string }, options?: PageOptions): Promise<Page<CommitStatus>>;
  (
    project: ProjectRef,
    sha: string,
    query: (Query & { ref?: string; name?: string }) | undefined,
    options: AllPagesOptions,
  ): Promise<CommitStatus[]>;
}

type Args = Record<string, unknown>;

function call<T>(method: string, args: Args, options?: CallOptions): Promise<T> {
  // Keys left undefined vanish when the command is serialised, as JSON does. Only the call's own options go on: a
  // `request`'s `query` is in its args.
  const { retry, timeoutMs } = options ?? {};
  const callOptions = { ...(retry !== undefined && { retry }), ...(timeoutMs !== undefined && { timeoutMs }) };
  return callCapability<T>('gitlab', method, args as Json, Object.keys(callOptions).length > 0 ? callOptions : undefined);
}

function listCall<T>(method: string, args: Args, query: Query | undefined, options: PageOptions | AllPagesOptions | undefined): Promise<T> {
  const { retry, timeoutMs, ...paging } = options ?? {};
  return call<T>(method, { ...args, ...(query !== undefined && { query }), ...paging }, { retry, timeoutMs });
}

// Both are marked free of side effects, so that a bundle whose workflow does not use `gitlab`
// leaves the whole object out: QuickJS compiles every byte of a bundle again for each new run.
const list = /* @__NO_SIDE_EFFECTS__ */ <Target, Q extends Query, T>(method: string, args: (target: Target) => Args): List<Target, Q, T> =>
  ((target: Target, query?: Q, options?: PageOptions | AllPagesOptions) => listCall(method, args(target), query, options)) as List<
    Target,
    Q,
    T
  >;

const itemList = /* @__NO_SIDE_EFFECTS__ */ <T>(method: string): ItemList<T> =>
  ((project: ProjectRef, iid: number, options?: PageOptions | AllPagesOptions) =>
    listCall(method, { project, iid }, undefined, options)) as ItemList<T>;

const inProject = (project: ProjectRef): Args => ({ project });
const inGroup = (group: GroupRef): Args => ({ group });
const owned = (owner: Owner): Args => ({ ...owner });

// Typos in a resource's or method's name throw, naming the name meant (facade.ts).
export const gitlab = /* @__PURE__ */ strictFacade('gitlab', {
  /**
   * Any GitLab REST call, `path` relative to `/api/v4` (e.g. `/projects/42/issues?state=opened`),
   * within `permissions.gitlab`: the project or group the path names must be granted, and other
   * paths (`/users`, `/version`) allow only GET. Answers GitLab's JSON (or text). Creates made
   * through it carry no idempotency marker: prefer the typed methods for those.
   */
  request<TResult = Json>(method: HttpMethod, path: string, body?: Json, options?: CallOptions & { query?: Query }): Promise<TResult> {
    return call<TResult>('request', { method, path, body, query: options?.query }, options);
  },

  projects: {
    get: (project: ProjectRef, options?: CallOptions): Promise<Project> => call('projects.get', { project }, options),
  },
  /** The group itself, without the projects GitLab would otherwise embed. */
  groups: {
    get: (group: GroupRef, options?: CallOptions): Promise<Group> => call('groups.get', { group }, options),
  },
  members: {
    /** Direct members of a project or group. */
    list: list<Owner, Query & { query?: string; user_ids?: number[] }, Member>('members.list', owned),
    /** Members including those inherited from ancestor groups, each with the highest role they hold. */
    listAll: list<Owner, Query & { query?: string; user_ids?: number[] }, Member>('members.listAll', owned),
  },

  issues: {
    list: list<ProjectRef, IssueQuery, Issue>('issues.list', inProject),
    /** The issues of a group's projects, its subgroups' included. */
    listInGroup: list<GroupRef, IssueQuery, Issue>('issues.list', inGroup),
    get: (project: ProjectRef, iid: number, options?: CallOptions): Promise<Issue> => call('issues.get', { project, iid }, options),
    /** Idempotent: a retry after a lost answer returns the issue the first attempt created. */
    create: (project: ProjectRef, attributes: IssueAttributes & { title: string }, options?: CallOptions): Promise<Issue> =>
      call('issues.create', { project, attributes }, options),
    edit: (project: ProjectRef, iid: number, attributes: IssueAttributes, options?: CallOptions): Promise<Issue> =>
      call('issues.edit', { project, iid, attributes }, options),
    close: (project: ProjectRef, iid: number, options?: CallOptions): Promise<Issue> => call('issues.close', { project, iid }, options),
    reopen: (project: ProjectRef, iid: number, options?: CallOptions): Promise<Issue> => call('issues.reopen', { project, iid }, options),
    /** Merge requests that mention the issue. */
    relatedMergeRequests: itemList<MergeRequest>('issues.relatedMergeRequests'),
    /** Merge requests that close the issue when merged. */
    closedBy: itemList<MergeRequest>('issues.closedBy'),
  },

  mergeRequests: {
    list: list<ProjectRef, MergeRequestQuery, MergeRequest>('mergeRequests.list', inProject),
    /** The merge requests of a group's projects, its subgroups' included. */
    listInGroup: list<GroupRef, MergeRequestQuery, MergeRequest>('mergeRequests.list', inGroup),
    get: (project: ProjectRef, iid: number, options?: CallOptions): Promise<MergeRequest> =>
      call('mergeRequests.get', { project, iid }, options),
    /** Idempotent: a retry after a lost answer returns the merge request the first attempt created. */
    create: (
      project: ProjectRef,
      attributes: MergeRequestAttributes & { source_branch: string; target_branch: string; title: string },
      options?: CallOptions,
    ): Promise<MergeRequest> => call('mergeRequests.create', { project, attributes }, options),
    edit: (project: ProjectRef, iid: number, attributes: MergeRequestAttributes, options?: CallOptions): Promise<MergeRequest> =>
      call('mergeRequests.edit', { project, iid, attributes }, options),
    merge: (project: ProjectRef, iid: number, attributes?: MergeAttributes, options?: CallOptions): Promise<MergeRequest> =>
      call('mergeRequests.merge', { project, iid, attributes }, options),
    approve: (project: ProjectRef, iid: number, attributes?: { sha?: string }, options?: CallOptions): Promise<MergeRequestApprovals> =>
      call('mergeRequests.approve', { project, iid, attributes }, options),
    /** Issues the merge request closes when merged (`Closes #12` in its description). */
    closesIssues: itemList<Issue>('mergeRequests.closesIssues'),
  },

  notes: {
    list: list<Noteable, Query & { sort?: 'asc' | 'desc'; order_by?: 'created_at' | 'updated_at' }, Note>('notes.list', (target) => ({
      ...target,
    })),
    /** Idempotent: a retry after a lost answer returns the note the first attempt created. */
    create: (note: Noteable & { body: string; internal?: boolean }, options?: CallOptions): Promise<Note> =>
      call('notes.create', { ...note }, options),
  },

  labels: {
    /** A project's labels include its ancestor groups'. */
    list: list<Owner, Query & { search?: string }, Label>('labels.list', owned),
    /** A retry after a lost answer returns the label the first attempt created. */
    create: (owner: Owner, attributes: LabelAttributes, options?: CallOptions): Promise<Label> =>
      call('labels.create', { ...owner, attributes }, options),
  },

  milestones: {
    list: list<Owner, Query & { state?: 'active' | 'closed'; title?: string; search?: string }, Milestone>('milestones.list', owned),
    get: (owner: Owner, milestoneId: number, options?: CallOptions): Promise<Milestone> =>
      call('milestones.get', { ...owner, milestoneId }, options),
  },

  pipelines: {
    list: list<ProjectRef, Query & { status?: string; ref?: string; sha?: string; source?: string }, Pipeline>('pipelines.list', inProject),
    get: (project: ProjectRef, pipelineId: number, options?: CallOptions): Promise<Pipeline> =>
      call('pipelines.get', { project, pipelineId }, options),
    create: (project: ProjectRef, attributes: PipelineAttributes, options?: CallOptions): Promise<Pipeline> =>
      call('pipelines.create', { project, attributes }, options),
    retry: (project: ProjectRef, pipelineId: number, options?: CallOptions): Promise<Pipeline> =>
      call('pipelines.retry', { project, pipelineId }, options),
    cancel: (project: ProjectRef, pipelineId: number, options?: CallOptions): Promise<Pipeline> =>
      call('pipelines.cancel', { project, pipelineId }, options),
  },

  jobs: {
    /** A pipeline's jobs, or the project's without `pipelineId`. */
    list: list<{ project: ProjectRef; pipelineId?: number }, Query & { scope?: string[] }, Job>('jobs.list', (target) => ({ ...target })),
  },

  commitStatuses: {
    /** Sets the status of an external check (`name`) on a commit, shown on its pipeline and merge requests. */
    set: (project: ProjectRef, sha: string, attributes: CommitStatusAttributes, options?: CallOptions): Promise<CommitStatus> =>
      call('commitStatuses.set', { project, sha, attributes }, options),
    list: ((project: ProjectRef, sha: string, query?: Query, options?: PageOptions | AllPagesOptions) =>
      listCall('commitStatuses.list', { project, sha }, query, options)) as CommitStatusList,
  },

  deployments: {
    list: list<ProjectRef, Query & { environment?: string; status?: DeploymentStatus }, Deployment>('deployments.list', inProject),
    create: (project: ProjectRef, attributes: DeploymentAttributes, options?: CallOptions): Promise<Deployment> =>
      call('deployments.create', { project, attributes }, options),
    update: (
      project: ProjectRef,
      deploymentId: number,
      attributes: { status: DeploymentStatus } & Attributes,
      options?: CallOptions,
    ): Promise<Deployment> => call('deployments.update', { project, deploymentId, attributes }, options),
  },

  environments: {
    list: list<ProjectRef, Query & { name?: string; search?: string; states?: string }, Environment>('environments.list', inProject),
    get: (project: ProjectRef, environmentId: number, options?: CallOptions): Promise<Environment> =>
      call('environments.get', { project, environmentId }, options),
  },

  repositoryFiles: {
    /** The file with its content base64-encoded, as GitLab answers; `getRaw` gives the text. */
    get: (project: ProjectRef, filePath: string, ref: string, options?: CallOptions): Promise<RepositoryFile> =>
      call('repositoryFiles.get', { project, filePath, ref }, options),
    /** The file's content as text. @default ref the default branch */
    getRaw: (project: ProjectRef, filePath: string, ref?: string, options?: CallOptions): Promise<string> =>
      call('repositoryFiles.getRaw', { project, filePath, ref }, options),
    create: (
      project: ProjectRef,
      filePath: string,
      attributes: FileAttributes,
      options?: CallOptions,
    ): Promise<{ file_path: string; branch: string }> => call('repositoryFiles.create', { project, filePath, attributes }, options),
    update: (
      project: ProjectRef,
      filePath: string,
      attributes: FileAttributes,
      options?: CallOptions,
    ): Promise<{ file_path: string; branch: string }> => call('repositoryFiles.update', { project, filePath, attributes }, options),
  },

  freezePeriods: {
    /** Deploy freeze windows (cron `freeze_start`/`freeze_end` in `cron_timezone`). */
    list: list<ProjectRef, Query, FreezePeriod>('freezePeriods.list', inProject),
  },

  auditEvents: {
    list: list<ProjectRef, Query & { created_after?: string; created_before?: string }, AuditEvent>('auditEvents.list', inProject),
  },

  users: {
    get: (userId: number, options?: CallOptions): Promise<User> => call('users.get', { userId }, options),
    /** The user with this username, or null. */
    byUsername: (username: string, options?: CallOptions): Promise<User | null> => call('users.byUsername', { username }, options),
    /** The token's own user: who AutoFlow acts as. */
    current: (options?: CallOptions): Promise<CurrentUser> => call('users.current', {}, options),
  },
});

/** What a `GitLabError` carries: GitLab's status and answer, and the request it refused. */
export interface GitLabErrorDetails {
  status: number;
  request: string;
  body: Json;
}

/**
 * The details of a GitLab refusal (the error a `gitlab.*` call rejects with when GitLab answers
 * 4xx), or undefined for any other error.
 *
 * @example
 * try {
 *   await gitlab.labels.create({ project }, { name: 'triage' });
 * } catch (e) {
 *   if (gitlabError(e)?.status !== 409) throw e; // 409: the label exists already
 * }
 */
export function gitlabError(error: unknown): GitLabErrorDetails | undefined {
  if (!(error instanceof Error) || error.name !== 'GitLabError') return undefined;
  // Across the boundary the error's details arrive beside its code: `{ code, status, request, body }`.
  const details = (error as { details?: Partial<GitLabErrorDetails> }).details;
  return typeof details?.status === 'number' ? (details as GitLabErrorDetails) : undefined;
}
