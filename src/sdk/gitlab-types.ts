/**
 * Types of the GitLab REST resources workflows touch, with GitLab's own field names (its API
 * documentation and `spec/fixtures/api/schemas`). Each lists the fields automation reads; GitLab
 * sends more, and the index signature keeps them reachable without a cast.
 */
import type { Json } from '../core/model.js';

/** A project by numeric id or full path (`acme/app`); paths are URL-encoded for you. */
export type ProjectRef = number | string;
/** A group by numeric id or full path (`acme/platform`). */
export type GroupRef = number | string;
/** Labels, milestones and members belong to a project or a group. */
export type Owner = { project: ProjectRef } | { group: GroupRef };
/** Notes belong to an issue or a merge request. */
export type Noteable = { project: ProjectRef; issueIid: number } | { project: ProjectRef; mergeRequestIid: number };

/** ISO 8601 time as GitLab sends it (`2026-01-05T09:00:00.000Z`). */
export type Time = string;
type QueryScalars = string | number | boolean | ReadonlyArray<string | number | boolean>;
/**
 * A query parameter value; arrays are sent as `name[]=a&name[]=b`, and one level of object as
 * GitLab's `name[key]=…` (`not: { labels: 'bug' }` is `not[labels]=bug`).
 */
export type QueryValue = QueryScalars | { readonly [key: string]: QueryScalars };
/** Filters by GitLab's parameter names; the named ones are the common ones, any other passes through. */
export type Query = { [param: string]: QueryValue | undefined };
/** Fields of a create or update by GitLab's parameter names; any other passes through. */
export type Attributes = { [param: string]: Json | undefined };

interface Open {
  [field: string]: unknown;
}

export interface UserBasic extends Open {
  id: number;
  username: string;
  name: string;
  state: string;
  avatar_url: string | null;
  web_url: string;
}

export interface User extends UserBasic {
  created_at?: Time;
  bot?: boolean;
  public_email?: string | null;
}

/** `users.current()`: the token's own user. */
export interface CurrentUser extends User {
  email: string;
  is_admin: boolean;
}

/** 10 guest, 15 planner, 20 reporter, 30 developer, 40 maintainer, 50 owner. */
export type AccessLevel = 10 | 15 | 20 | 30 | 40 | 50;

export interface Member extends UserBasic {
  access_level: AccessLevel;
  created_at: Time;
  expires_at: string | null;
}

export interface Namespace extends Open {
  id: number;
  name: string;
  path: string;
  kind: 'group' | 'user';
  full_path: string;
}

export interface Project extends Open {
  id: number;
  name: string;
  path: string;
  path_with_namespace: string;
  name_with_namespace: string;
  description: string | null;
  default_branch: string | null;
  visibility?: 'private' | 'internal' | 'public';
  topics: string[];
  web_url: string;
  namespace: Namespace;
  created_at: Time;
  last_activity_at: Time;
}

export interface Group extends Open {
  id: number;
  name: string;
  path: string;
  full_path: string;
  full_name: string;
  description: string;
  visibility: 'private' | 'internal' | 'public';
  parent_id: number | null;
  web_url: string;
}

export interface Milestone extends Open {
  id: number;
  iid: number;
  project_id?: number | null;
  group_id?: number | null;
  title: string;
  description: string | null;
  state: 'active' | 'closed';
  start_date: string | null;
  due_date: string | null;
  expired: boolean | null;
  web_url: string;
  created_at: Time;
  updated_at: Time;
}

export interface Label extends Open {
  id: number;
  name: string;
  color: string;
  text_color: string;
  description: string | null;
  priority?: number | null;
  is_project_label?: boolean;
}

interface WorkItem extends Open {
  id: number;
  iid: number;
  project_id: number;
  title: string;
  /** Created through AutoFlow, it ends with the hidden idempotency marker `<!-- autoflow… -->`. */
  description: string | null;
  /** Label names (with `with_labels_details`, objects). */
  labels: string[];
  milestone: Milestone | null;
  author: UserBasic;
  assignees: UserBasic[];
  user_notes_count: number;
  discussion_locked: boolean | null;
  web_url: string;
  references?: { short: string; relative: string; full: string };
  created_at: Time;
  updated_at: Time;
  closed_at: Time | null;
}

export interface Issue extends WorkItem {
  state: 'opened' | 'closed';
  confidential: boolean;
  due_date: string | null;
  issue_type?: string;
}

export interface MergeRequest extends WorkItem {
  state: 'opened' | 'closed' | 'merged' | 'locked';
  source_branch: string;
  target_branch: string;
  source_project_id: number;
  target_project_id: number;
  sha: string;
  merge_commit_sha: string | null;
  squash_commit_sha?: string | null;
  draft: boolean;
  reviewers: UserBasic[];
  merged_by?: UserBasic | null;
  merge_user?: UserBasic | null;
  merged_at: Time | null;
  detailed_merge_status?: string;
  has_conflicts?: boolean;
  squash: boolean;
  /** In the single merge request's answer. */
  head_pipeline?: Pipeline | null;
}

/** `mergeRequests.approve()`'s answer. */
export interface MergeRequestApprovals extends Open {
  id: number;
  iid: number;
  approved: boolean;
  approvals_required: number;
  approvals_left: number;
  approved_by: { user: UserBasic }[];
}

export interface Note extends Open {
  id: number;
  /** Created through AutoFlow, it ends with the hidden idempotency marker `<!-- autoflow… -->`. */
  body: string;
  author: UserBasic;
  system: boolean;
  internal: boolean;
  noteable_id: number;
  noteable_iid: number;
  noteable_type: 'Issue' | 'MergeRequest';
  created_at: Time;
  updated_at: Time;
}

export type PipelineStatus =
  | 'created'
  | 'waiting_for_resource'
  | 'preparing'
  | 'pending'
  | 'running'
  | 'success'
  | 'failed'
  | 'canceled'
  | 'skipped'
  | 'manual'
  | 'scheduled';

export interface Pipeline extends Open {
  id: number;
  iid: number;
  project_id: number;
  sha: string;
  ref: string;
  status: PipelineStatus;
  source: string;
  web_url: string;
  created_at: Time;
  updated_at: Time;
  /** In the single pipeline's answer. */
  user?: UserBasic;
  started_at?: Time | null;
  finished_at?: Time | null;
  duration?: number | null;
}

export interface Job extends Open {
  id: number;
  name: string;
  stage: string;
  status: PipelineStatus;
  ref: string;
  tag: boolean;
  allow_failure: boolean;
  pipeline: { id: number; project_id: number; ref: string; sha: string; status: PipelineStatus };
  web_url: string;
  created_at: Time;
  started_at: Time | null;
  finished_at: Time | null;
  duration: number | null;
}

export type CommitState = 'pending' | 'running' | 'success' | 'failed' | 'canceled' | 'skipped';

export interface CommitStatus extends Open {
  id: number;
  sha: string;
  ref: string | null;
  status: CommitState;
  name: string;
  target_url: string | null;
  description: string | null;
  pipeline_id?: number;
  author: UserBasic;
  created_at: Time;
}

export interface Environment extends Open {
  id: number;
  name: string;
  slug: string;
  external_url: string | null;
  state: 'available' | 'stopping' | 'stopped';
  tier: 'production' | 'staging' | 'testing' | 'development' | 'other';
  /** In the single environment's answer. */
  last_deployment?: Deployment | null;
  created_at: Time;
  updated_at: Time;
}

export type DeploymentStatus = 'created' | 'running' | 'success' | 'failed' | 'canceled' | 'blocked';

export interface Deployment extends Open {
  id: number;
  iid: number;
  ref: string;
  sha: string;
  status: DeploymentStatus;
  user: UserBasic | null;
  environment: Pick<Environment, 'id' | 'name' | 'slug' | 'external_url'>;
  deployable: Job | null;
  created_at: Time;
  updated_at: Time;
}

/** `repositoryFiles.get()`: `content` is base64 (see `repositoryFiles.getRaw()` for the text). */
export interface RepositoryFile extends Open {
  file_name: string;
  file_path: string;
  size: number;
  encoding: 'base64';
  content: string;
  content_sha256: string;
  ref: string;
  blob_id: string;
  commit_id: string;
  last_commit_id: string;
}

export interface FreezePeriod extends Open {
  id: number;
  freeze_start: string;
  freeze_end: string;
  cron_timezone: string;
  created_at: Time;
  updated_at: Time;
}

export interface AuditEvent extends Open {
  id: number;
  author_id: number;
  entity_id: number;
  entity_type: 'Project' | 'Group' | 'User';
  event_name?: string;
  details: { [key: string]: Json };
  created_at: Time;
}

// --- arguments --------------------------------------------------------------------------------

interface WorkItemQuery extends Query {
  /** Every label must match; `None` / `Any`. */
  labels?: string | string[];
  milestone?: string;
  search?: string;
  assignee_username?: string | string[];
  author_username?: string;
  iids?: number[];
  created_after?: Time;
  updated_after?: Time;
  sort?: 'asc' | 'desc';
}

/** The orders both lists take; `label_priority`, `popularity`, `priority` are not emulated by the simulator (400). */
type WorkItemOrder = 'created_at' | 'updated_at' | 'title' | 'label_priority' | 'milestone_due' | 'popularity' | 'priority';

export interface IssueQuery extends WorkItemQuery {
  state?: 'opened' | 'closed' | 'all';
  confidential?: boolean;
  /** `weight` is Premium; `relative_position` (manual order) is not emulated by the simulator (400). @default 'created_at' */
  order_by?: WorkItemOrder | 'due_date' | 'relative_position' | 'weight';
}

export interface MergeRequestQuery extends WorkItemQuery {
  /** `merged_at` needs GitLab 17.2 or later. @default 'created_at' */
  order_by?: WorkItemOrder | 'merged_at';
  state?: 'opened' | 'closed' | 'merged' | 'locked' | 'all';
  source_branch?: string;
  target_branch?: string;
  reviewer_username?: string;
}

interface WorkItemAttributes extends Attributes {
  title?: string;
  description?: string;
  /** Comma-separated or a list; replaces every label. */
  labels?: string | string[];
  add_labels?: string | string[];
  remove_labels?: string | string[];
  assignee_ids?: number[];
  milestone_id?: number | null;
  state_event?: 'close' | 'reopen';
  discussion_locked?: boolean;
}

export interface IssueAttributes extends WorkItemAttributes {
  confidential?: boolean;
  due_date?: string | null;
}

export interface MergeRequestAttributes extends WorkItemAttributes {
  source_branch?: string;
  target_branch?: string;
  reviewer_ids?: number[];
  remove_source_branch?: boolean;
  squash?: boolean;
}

export interface MergeAttributes extends Attributes {
  /** Merge only if the source branch's head is still this commit. */
  sha?: string;
  squash?: boolean;
  should_remove_source_branch?: boolean;
  merge_commit_message?: string;
}

export interface LabelAttributes extends Attributes {
  name: string;
  /** `#rrggbb` @default '#6699cc' */
  color?: string;
  description?: string;
  priority?: number;
}

export interface PipelineAttributes extends Attributes {
  ref: string;
  variables?: { key: string; value: string; variable_type?: 'env_var' | 'file' }[];
}

export interface CommitStatusAttributes extends Attributes {
  state: CommitState;
  ref?: string;
  name?: string;
  target_url?: string;
  description?: string;
  coverage?: number;
  pipeline_id?: number;
}

export interface DeploymentAttributes extends Attributes {
  environment: string;
  sha: string;
  ref: string;
  tag: boolean;
  status: DeploymentStatus;
}

export interface FileAttributes extends Attributes {
  branch: string;
  content: string;
  commit_message: string;
  /** `base64` when `content` is. @default 'text' */
  encoding?: 'text' | 'base64';
  start_branch?: string;
  author_email?: string;
  author_name?: string;
}

// --- pages ------------------------------------------------------------------------------------

/** From GitLab's `X-*` pagination headers; `total`/`totalPages` are null where GitLab omits them (very large lists). */
export interface Pagination {
  page: number;
  perPage: number;
  nextPage: number | null;
  prevPage: number | null;
  total: number | null;
  totalPages: number | null;
  /**
   * Where the next page starts (null on the last): pass it back as `{ cursor }` to read that page.
   * Keyset pagination (`pagination: 'keyset'`) has no `nextPage`, only this.
   */
  nextCursor: string | null;
}

export interface Page<T> {
  items: T[];
  pagination: Pagination;
}
