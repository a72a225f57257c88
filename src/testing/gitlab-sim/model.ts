/**
 * The simulator's records: plain data, one shape per GitLab object, holding ids rather than
 * references so that a record can be copied, compared and diffed for webhook `changes`.
 * Times are epoch milliseconds; REST and hook presenters format them the way GitLab does.
 */

/** GitLab's access levels: guest, reporter, developer, maintainer, owner. */
export type AccessLevel = 10 | 20 | 30 | 40 | 50;

export const ACCESS_LEVELS = { guest: 10, reporter: 20, developer: 30, maintainer: 40, owner: 50 } as const;
export type AccessRole = keyof typeof ACCESS_LEVELS;

export type Visibility = 'private' | 'internal' | 'public';

export interface SimUser {
  id: number;
  username: string;
  name: string;
  email: string;
  state: 'active' | 'blocked';
  admin: boolean;
  createdAt: number;
}

export interface Membership {
  accessLevel: AccessLevel;
  /** `YYYY-MM-DD` or null, as GitLab stores it. */
  expiresAt: string | null;
  createdAt: number;
  createdById: number | null;
}

export interface SimGroup {
  id: number;
  path: string;
  name: string;
  description: string;
  parentId: number | null;
  visibility: Visibility;
  createdAt: number;
  members: Map<number, Membership>;
}

export type Namespace = { kind: 'group'; id: number } | { kind: 'user'; id: number };

export interface SimCommit {
  sha: string;
  parentShas: string[];
  message: string;
  authorName: string;
  authorEmail: string;
  createdAt: number;
  /** The whole tree at this commit: path → content. Small repositories make snapshots cheap. */
  tree: Map<string, string>;
}

export interface SimTag {
  name: string;
  sha: string;
  message: string | null;
  createdAt: number;
}

export interface SimRepository {
  branches: Map<string, string>;
  commits: Map<string, SimCommit>;
  tags: Map<string, SimTag>;
}

/** A CI job as the simulator runs it: jobs have no script; their status is driven by tests. */
export interface CiJobTemplate {
  name: string;
  stage: string;
  /** Environment the job deploys to; when the job succeeds a deployment is recorded. */
  environment?: string;
}

export interface SimProject {
  id: number;
  path: string;
  name: string;
  description: string | null;
  namespace: Namespace;
  visibility: Visibility;
  defaultBranch: string;
  topics: string[];
  createdAt: number;
  lastActivityAt: number;
  members: Map<number, Membership>;
  repository: SimRepository;
  /** Branch name → access level needed to push and to merge into it. */
  protectedBranches: Map<string, { push: AccessLevel; merge: AccessLevel }>;
  ciJobs: CiJobTemplate[];
  /** Per-project iid sequences, as GitLab keeps them. */
  iids: { issue: number; mergeRequest: number; milestone: number; pipeline: number; deployment: number };
}

export type LabelOwner = { kind: 'project' | 'group'; id: number };

/** Projects and groups share members, labels, milestones and hooks; this tells them apart. */
export const isProject = (target: SimProject | SimGroup): target is SimProject => 'repository' in target;

export interface SimLabel {
  id: number;
  name: string;
  color: string;
  description: string | null;
  priority: number | null;
  owner: LabelOwner;
  createdAt: number;
  updatedAt: number;
}

export interface SimMilestone {
  id: number;
  iid: number;
  owner: LabelOwner;
  title: string;
  description: string | null;
  state: 'active' | 'closed';
  /** `YYYY-MM-DD` or null. */
  startDate: string | null;
  dueDate: string | null;
  createdAt: number;
  updatedAt: number;
}

/** What issues and merge requests share: the fields label, assignee and milestone logic works on. */
export interface SimWorkItem {
  id: number;
  iid: number;
  projectId: number;
  title: string;
  description: string | null;
  authorId: number;
  assigneeIds: number[];
  labelIds: number[];
  milestoneId: number | null;
  createdAt: number;
  updatedAt: number;
  updatedById: number | null;
  closedAt: number | null;
  closedById: number | null;
  discussionLocked: boolean | null;
  /**
   * Time tracking, in seconds (`/estimate`, `/spend`). Absent from records of snapshots written before
   * the simulator tracked time; read them as 0.
   */
  timeEstimate?: number;
  timeSpent?: number;
}

export interface SimIssue extends SimWorkItem {
  state: 'opened' | 'closed';
  confidential: boolean;
  dueDate: string | null;
  /** The issue this one was moved to (`moved_to_id`); a moved issue is closed and cannot move again. */
  movedToId: number | null;
  /** `/weight`; absent (none) from records of snapshots written before the simulator kept weights. */
  weight?: number | null;
}

export interface SimMergeRequest extends SimWorkItem {
  state: 'opened' | 'closed' | 'merged';
  sourceBranch: string;
  targetBranch: string;
  /** Head of the source branch, kept after a merge removes the branch. */
  sha: string;
  reviewerIds: number[];
  approvedByIds: number[];
  mergedAt: number | null;
  mergedById: number | null;
  mergeCommitSha: string | null;
  shouldRemoveSourceBranch: boolean | null;
  squash: boolean;
}

export type NoteableType = 'Issue' | 'MergeRequest';

export interface SimNote {
  id: number;
  projectId: number;
  noteableType: NoteableType;
  noteableId: number;
  body: string;
  authorId: number;
  system: boolean;
  internal: boolean;
  /**
   * GitLab's `type`: `DiscussionNote` for a note of a thread (started as one, or a comment replied to),
   * null for a comment on its own.
   */
  type: 'DiscussionNote' | null;
  /** The thread the note belongs to (40 hex digits, GitLab's `discussion_id`); a comment on its own has one of its own. */
  discussionId: string;
  createdAt: number;
  updatedAt: number;
}

export const PIPELINE_STATUSES = [
  'created',
  'waiting_for_resource',
  'preparing',
  'pending',
  'running',
  'success',
  'failed',
  'canceled',
  'skipped',
  'manual',
  'scheduled',
] as const;
export type PipelineStatus = (typeof PIPELINE_STATUSES)[number];

export interface SimPipeline {
  id: number;
  iid: number;
  projectId: number;
  sha: string;
  beforeSha: string;
  ref: string;
  tag: boolean;
  status: PipelineStatus;
  source: string;
  userId: number;
  mergeRequestId: number | null;
  variables: { key: string; value: string }[];
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface SimJob {
  id: number;
  projectId: number;
  pipelineId: number;
  name: string;
  stage: string;
  status: PipelineStatus;
  userId: number;
  allowFailure: boolean;
  failureReason: string | null;
  environment: string | null;
  /** Commit statuses posted through the API are "generic" jobs of an external pipeline. */
  generic: { targetUrl: string | null; description: string | null; coverage: number | null } | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export type DeploymentStatus = 'created' | 'running' | 'success' | 'failed' | 'canceled' | 'skipped' | 'blocked';

export interface SimEnvironment {
  id: number;
  projectId: number;
  name: string;
  slug: string;
  tier: string;
  externalUrl: string | null;
  state: 'available' | 'stopping' | 'stopped';
  createdAt: number;
  updatedAt: number;
}

export interface SimDeployment {
  id: number;
  iid: number;
  projectId: number;
  environmentId: number;
  ref: string;
  sha: string;
  tag: boolean;
  status: DeploymentStatus;
  userId: number;
  jobId: number | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export interface SimRelease {
  projectId: number;
  tagName: string;
  name: string;
  description: string;
  authorId: number;
  milestoneIds: number[];
  createdAt: number;
  releasedAt: number;
}

export interface SimFreezePeriod {
  id: number;
  projectId: number;
  freezeStart: string;
  freezeEnd: string;
  cronTimezone: string;
  createdAt: number;
  updatedAt: number;
}

export interface SimAuditEvent {
  id: number;
  authorId: number;
  entityType: 'Project' | 'Group' | 'User';
  entityId: number;
  eventName: string;
  details: Record<string, string | number | boolean | null>;
  createdAt: number;
}

export interface SimToken {
  id: number;
  token: string;
  userId: number;
  name: string;
  scopes: string[];
  expiresAt: string | null;
  revoked: boolean;
  createdAt: number;
}

/** The one runner of the simulated instance: it "runs" every job that has started. */
export const SIM_RUNNER = { id: 1, description: 'gitlab-sim shared runner', tags: [] as string[] } as const;
