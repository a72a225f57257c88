import type { Clock } from '../../core/ports.js';
import { notFound } from './errors.js';
import {
  type LabelOwner,
  type Membership,
  type SimAuditEvent,
  type SimDeployment,
  type SimEnvironment,
  type SimFreezePeriod,
  type SimGroup,
  type SimIssue,
  type SimJob,
  type SimLabel,
  type SimMergeRequest,
  type SimMilestone,
  type SimNote,
  type SimPipeline,
  type SimProject,
  type SimRelease,
  type SimToken,
  type SimUser,
  isProject,
} from './model.js';

/** A member as `members/all` reports it: the membership that gives the highest access, and where it comes from. */
export interface EffectiveMember {
  user: SimUser;
  membership: Membership;
  source: { kind: 'project' | 'group'; id: number };
}

/**
 * Everything the simulated GitLab knows, in plain maps, plus the lookups every resource needs
 * (paths, inherited membership, visibility). It holds no HTTP and fires no hooks: operations do.
 */
export class SimState {
  readonly users = new Map<number, SimUser>();
  readonly groups = new Map<number, SimGroup>();
  readonly projects = new Map<number, SimProject>();
  readonly labels = new Map<number, SimLabel>();
  readonly milestones = new Map<number, SimMilestone>();
  readonly issues = new Map<number, SimIssue>();
  readonly mergeRequests = new Map<number, SimMergeRequest>();
  readonly notes = new Map<number, SimNote>();
  readonly pipelines = new Map<number, SimPipeline>();
  readonly jobs = new Map<number, SimJob>();
  readonly environments = new Map<number, SimEnvironment>();
  readonly deployments = new Map<number, SimDeployment>();
  readonly releases: SimRelease[] = [];
  readonly freezePeriods = new Map<number, SimFreezePeriod>();
  readonly auditEvents: SimAuditEvent[] = [];
  /** Keyed by the secret itself: authentication is one lookup. */
  readonly tokens = new Map<string, SimToken>();
  /** The last id given per kind (`nextId`); kept in snapshots so that ids are never given twice. */
  readonly sequences = new Map<string, number>();

  constructor(
    readonly clock: Clock,
    /** Where the simulated instance says it lives: `web_url`s and `X-Gitlab-Instance` derive from it. */
    public baseUrl: string,
  ) {}

  now(): number {
    return this.clock.now();
  }

  /** Ids are global per kind, as in GitLab's tables; iids are per project (see `SimProject.iids`). */
  nextId(kind: string): number {
    const next = (this.sequences.get(kind) ?? 0) + 1;
    this.sequences.set(kind, next);
    return next;
  }

  webUrl(path: string): string {
    return `${this.baseUrl.replace(/\/+$/, '')}/${path}`;
  }

  // --- lookups ---------------------------------------------------------------------------------

  userByUsername(username: string): SimUser | undefined {
    const wanted = username.toLowerCase();
    for (const user of this.users.values()) if (user.username.toLowerCase() === wanted) return user;
    return undefined;
  }

  /**
   * The tokens that follow the seeds' `<username>-token` convention and work (not revoked), for
   * hints such as `autoflow simulate`'s: the embedded bot's random token is not among them.
   */
  conventionalTokens(): string[] {
    return [...this.tokens.values()]
      .filter((token) => !token.revoked && token.token === `${this.users.get(token.userId)?.username ?? ''}-token`)
      .map((token) => token.token);
  }

  requireUser(ref: number | string): SimUser {
    const user = typeof ref === 'number' ? this.users.get(ref) : this.userByUsername(ref);
    if (!user) throw notFound('User');
    return user;
  }

  /** A project by numeric id or by (already decoded) `path_with_namespace`, as `:id` in GitLab's routes. */
  findProject(ref: number | string): SimProject | undefined {
    if (typeof ref === 'number' || /^\d+$/.test(ref)) return this.projects.get(Number(ref));
    const wanted = ref.toLowerCase();
    for (const project of this.projects.values()) if (this.projectPath(project).toLowerCase() === wanted) return project;
    return undefined;
  }

  findGroup(ref: number | string): SimGroup | undefined {
    if (typeof ref === 'number' || /^\d+$/.test(ref)) return this.groups.get(Number(ref));
    const wanted = ref.toLowerCase();
    for (const group of this.groups.values()) if (this.groupPath(group).toLowerCase() === wanted) return group;
    return undefined;
  }

  requireProject(ref: number | string): SimProject {
    const project = this.findProject(ref);
    if (!project) throw notFound('Project');
    return project;
  }

  requireGroup(ref: number | string): SimGroup {
    const group = this.findGroup(ref);
    if (!group) throw notFound('Group');
    return group;
  }

  // --- paths -----------------------------------------------------------------------------------

  /** The group and its ancestors, nearest first. */
  groupChain(group: SimGroup): SimGroup[] {
    const chain: SimGroup[] = [];
    for (
      let current: SimGroup | undefined = group;
      current;
      current = current.parentId === null ? undefined : this.groups.get(current.parentId)
    ) {
      chain.push(current);
    }
    return chain;
  }

  groupPath(group: SimGroup): string {
    return this.groupChain(group)
      .reverse()
      .map((g) => g.path)
      .join('/');
  }

  groupFullName(group: SimGroup): string {
    return this.groupChain(group)
      .reverse()
      .map((g) => g.name)
      .join(' / ');
  }

  /** The groups a project sits in, nearest first; none for a project in a user's namespace. */
  projectGroups(project: SimProject): SimGroup[] {
    if (project.namespace.kind === 'user') return [];
    const group = this.groups.get(project.namespace.id);
    return group ? this.groupChain(group) : [];
  }

  namespacePath(project: SimProject): string {
    const [group] = this.projectGroups(project);
    return group ? this.groupPath(group) : this.requireUser(project.namespace.id).username;
  }

  namespaceName(project: SimProject): string {
    const [group] = this.projectGroups(project);
    return group ? this.groupFullName(group) : this.requireUser(project.namespace.id).name;
  }

  projectPath(project: SimProject): string {
    return `${this.namespacePath(project)}/${project.path}`;
  }

  // --- membership ------------------------------------------------------------------------------

  /**
   * Members with inherited ones, as `members/all`: direct members of the object, of every
   * ancestor group, and (for a personal project) its owner. When a user is a member at several
   * levels, the highest access level wins, as GitLab documents.
   */
  effectiveMembers(target: SimProject | SimGroup): EffectiveMember[] {
    const best = new Map<number, EffectiveMember>();
    const consider = (members: Map<number, Membership>, source: EffectiveMember['source']): void => {
      for (const [userId, membership] of members) {
        const user = this.users.get(userId);
        const current = best.get(userId);
        if (user && (!current || membership.accessLevel > current.membership.accessLevel)) best.set(userId, { user, membership, source });
      }
    };
    if (isProject(target)) {
      consider(target.members, { kind: 'project', id: target.id });
      if (target.namespace.kind === 'user') {
        const owner: Membership = { accessLevel: 50, expiresAt: null, createdAt: target.createdAt, createdById: null };
        consider(new Map([[target.namespace.id, owner]]), { kind: 'project', id: target.id });
      }
    }
    const groups = isProject(target) ? this.projectGroups(target) : this.groupChain(target);
    for (const group of groups) consider(group.members, { kind: 'group', id: group.id });
    return [...best.values()].sort((a, b) => a.user.id - b.user.id);
  }

  /** The user's effective access level (0 for none); administrators act as owners everywhere. */
  accessLevel(user: SimUser, target: SimProject | SimGroup): number {
    if (user.admin) return 50;
    return this.effectiveMembers(target).find((member) => member.user.id === user.id)?.membership.accessLevel ?? 0;
  }

  /**
   * Whether the user may see the object at all; GitLab answers 404 when not. A private group is
   * also readable by whoever can read one of its projects, subgroups' included (GitLab's `has_projects`),
   * so a member of `acme/app` alone sees the group `acme`, and in it only what it can read.
   */
  canRead(user: SimUser, target: SimProject | SimGroup): boolean {
    if (target.visibility !== 'private' || this.accessLevel(user, target) > 0) return true;
    return (
      !isProject(target) &&
      [...this.projects.values()].some(
        (project) => this.projectGroups(project).some((group) => group.id === target.id) && this.canRead(user, project),
      )
    );
  }

  // --- what a project can use --------------------------------------------------------------------

  /**
   * The labels or milestones `target` can use: its own and those of its ancestor groups. Without
   * ancestors, a project keeps its own only and a group its own only.
   */
  scoped<T extends { owner: LabelOwner }>(items: Iterable<T>, target: SimProject | SimGroup, withAncestors = true): T[] {
    const groups = isProject(target) ? this.projectGroups(target) : this.groupChain(target);
    const groupIds = new Set((withAncestors ? groups : isProject(target) ? [] : groups.slice(0, 1)).map((group) => group.id));
    return [...items].filter((item) =>
      item.owner.kind === 'group' ? groupIds.has(item.owner.id) : isProject(target) && item.owner.id === target.id,
    );
  }

  /** What an issue of `project` may carry: project labels and the labels of its ancestor groups. */
  availableLabels(project: SimProject): SimLabel[] {
    return this.scoped(this.labels.values(), project);
  }

  availableMilestones(project: SimProject): SimMilestone[] {
    return this.scoped(this.milestones.values(), project);
  }

  issuesOf(project: SimProject): SimIssue[] {
    return [...this.issues.values()].filter((issue) => issue.projectId === project.id);
  }

  mergeRequestsOf(project: SimProject): SimMergeRequest[] {
    return [...this.mergeRequests.values()].filter((mr) => mr.projectId === project.id);
  }

  pipelinesOf(project: SimProject): SimPipeline[] {
    return [...this.pipelines.values()].filter((pipeline) => pipeline.projectId === project.id);
  }

  jobsOf(pipeline: SimPipeline): SimJob[] {
    return [...this.jobs.values()].filter((job) => job.pipelineId === pipeline.id);
  }

  requireIssue(project: SimProject, iid: number | string): SimIssue {
    const issue = this.issuesOf(project).find((item) => item.iid === Number(iid));
    if (!issue) throw notFound();
    return issue;
  }

  requireMergeRequest(project: SimProject, iid: number | string): SimMergeRequest {
    const mr = this.mergeRequestsOf(project).find((item) => item.iid === Number(iid));
    if (!mr) throw notFound();
    return mr;
  }

  requirePipeline(project: SimProject, id: number | string): SimPipeline {
    const pipeline = this.pipelines.get(Number(id));
    if (!pipeline || pipeline.projectId !== project.id) throw notFound();
    return pipeline;
  }
}
