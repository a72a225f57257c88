import { restTime } from '../format.js';
import type { SimGroup, SimProject, SimUser } from '../model.js';
import type { EffectiveMember, SimState } from '../state.js';
import { groupWebPath } from '../web-paths.js';
import { type Entity, userBasic, userOrNull } from './basic.js';

/** REST entities for users, members, groups and projects, field for field as GitLab's API sends them. */

/** `GET /users/:id`: the public profile. */
export function userPublic(state: SimState, user: SimUser): Entity {
  return {
    ...userBasic(state, user),
    locked: false,
    created_at: restTime(user.createdAt),
    bio: '',
    location: '',
    public_email: null,
    linkedin: '',
    twitter: '',
    discord: '',
    website_url: '',
    organization: '',
    job_title: '',
    pronouns: null,
    bot: false,
    work_information: null,
    followers: 0,
    following: 0,
    is_followed: false,
    local_time: null,
  };
}

/** `GET /user`: the authenticated user, with the private fields only they (and admins) see. */
export function userSelf(state: SimState, user: SimUser): Entity {
  return {
    ...userPublic(state, user),
    last_sign_in_at: restTime(user.createdAt),
    confirmed_at: restTime(user.createdAt),
    last_activity_on: restTime(state.now()).slice(0, 10),
    email: user.email,
    theme_id: 1,
    color_scheme_id: 1,
    projects_limit: 100000,
    current_sign_in_at: restTime(user.createdAt),
    identities: [],
    can_create_group: true,
    can_create_project: true,
    two_factor_enabled: false,
    external: false,
    private_profile: false,
    commit_email: user.email,
    is_admin: user.admin,
  };
}

export function memberEntity(state: SimState, member: EffectiveMember): Entity {
  return {
    ...userBasic(state, member.user),
    access_level: member.membership.accessLevel,
    created_at: restTime(member.membership.createdAt),
    created_by: userOrNull(state, member.membership.createdById),
    expires_at: member.membership.expiresAt,
    membership_state: 'active',
  };
}

export function groupEntity(state: SimState, group: SimGroup): Entity {
  const fullPath = state.groupPath(group);
  return {
    id: group.id,
    web_url: state.webUrl(groupWebPath(state, group)),
    name: group.name,
    path: group.path,
    description: group.description,
    visibility: group.visibility,
    share_with_group_lock: false,
    require_two_factor_authentication: false,
    two_factor_grace_period: 48,
    project_creation_level: 'developer',
    auto_devops_enabled: null,
    subgroup_creation_level: 'maintainer',
    emails_disabled: false,
    emails_enabled: true,
    mentions_disabled: null,
    lfs_enabled: true,
    default_branch: null,
    default_branch_protection: 2,
    avatar_url: null,
    request_access_enabled: true,
    full_name: state.groupFullName(group),
    full_path: fullPath,
    created_at: restTime(group.createdAt),
    parent_id: group.parentId,
  };
}

/**
 * `BasicProjectDetails`, the entity GitLab's `project.json` schema describes (and `simple=true`
 * lists return). The simulator answers every project request with it, so that every answer
 * validates; the full entity adds settings no automation here reads.
 */
export function projectEntity(state: SimState, project: SimProject): Entity {
  const path = state.projectPath(project);
  const web = state.webUrl(path);
  const [group] = state.projectGroups(project);
  const owner = project.namespace.kind === 'user' ? state.users.get(project.namespace.id) : undefined;
  return {
    id: project.id,
    description: project.description,
    name: project.name,
    name_with_namespace: `${state.namespaceName(project)} / ${project.name}`,
    path: project.path,
    path_with_namespace: path,
    created_at: restTime(project.createdAt),
    default_branch: project.defaultBranch,
    tag_list: [...project.topics],
    topics: [...project.topics],
    ssh_url_to_repo: `git@${new URL(state.baseUrl).hostname}:${path}.git`,
    http_url_to_repo: `${web}.git`,
    web_url: web,
    readme_url: project.repository.commits.get(project.repository.branches.get(project.defaultBranch) ?? '')?.tree.has('README.md')
      ? `${web}/-/blob/${project.defaultBranch}/README.md`
      : null,
    forks_count: 0,
    avatar_url: null,
    star_count: 0,
    last_activity_at: restTime(project.lastActivityAt),
    namespace: {
      id: group?.id ?? owner?.id,
      name: group?.name ?? owner?.name,
      path: group?.path ?? owner?.username,
      kind: group ? 'group' : 'user',
      full_path: state.namespacePath(project),
      parent_id: group?.parentId ?? null,
      avatar_url: null,
      web_url: state.webUrl(group ? groupWebPath(state, group) : state.namespacePath(project)),
    },
  };
}
