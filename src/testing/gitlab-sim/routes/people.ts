import type { SimContext } from '../context.js';
import { notFound } from '../errors.js';
import { GITLAB_VERSION } from '../hooks/webhooks.js';
import { type SimApi, currentUser, groupParam } from '../http/app.js';
import { paginate } from '../http/pagination.js';
import { Params } from '../http/params.js';
import { restTime } from '../format.js';
import { userBasic } from '../present/basic.js';
import { groupEntity, projectEntity, userPublic, userSelf } from '../present/people.js';

/** Groups, users, the current user, the current token and the instance version. */
export function registerPeople(api: SimApi, ctx: SimContext): void {
  const { state } = ctx;

  api.get('/groups', async (c) => {
    const search = (await Params.of(c)).string('search')?.toLowerCase();
    const groups = [...state.groups.values()].filter(
      (group) =>
        state.canRead(currentUser(c), group) &&
        (search === undefined || `${group.name} ${state.groupPath(group)}`.toLowerCase().includes(search)),
    );
    return c.json(paginate(c, groups).map((group) => groupEntity(state, group)));
  });
  // GitLab's group detail still embeds the group's projects unless `with_projects=false`.
  api.get('/groups/:id', async (c) => {
    const group = groupParam(c, ctx);
    const withProjects = (await Params.of(c)).bool('with_projects') ?? true;
    const projects = [...state.projects.values()].filter(
      (project) => project.namespace.kind === 'group' && project.namespace.id === group.id && state.canRead(currentUser(c), project),
    );
    return c.json({
      ...groupEntity(state, group),
      ...(withProjects ? { projects: projects.map((project) => projectEntity(state, project)), shared_projects: [] } : {}),
    });
  });
  api.get('/groups/:id/subgroups', (c) => {
    const group = groupParam(c, ctx);
    const subgroups = [...state.groups.values()].filter((item) => item.parentId === group.id && state.canRead(currentUser(c), item));
    return c.json(paginate(c, subgroups).map((item) => groupEntity(state, item)));
  });
  api.get('/groups/:id/projects', async (c) => {
    const group = groupParam(c, ctx);
    const withSubgroups = (await Params.of(c)).bool('include_subgroups') ?? false;
    const projects = [...state.projects.values()].filter((project) => {
      const groups = state.projectGroups(project);
      return (
        (withSubgroups ? groups.some((item) => item.id === group.id) : groups[0]?.id === group.id) && state.canRead(currentUser(c), project)
      );
    });
    return c.json(paginate(c, projects).map((project) => projectEntity(state, project)));
  });

  api.get('/users', async (c) => {
    const p = await Params.of(c);
    const username = p.string('username')?.toLowerCase();
    const search = p.string('search')?.toLowerCase();
    const users = [...state.users.values()].filter(
      (user) =>
        (username === undefined || user.username.toLowerCase() === username) &&
        (search === undefined || `${user.username} ${user.name} ${user.email}`.toLowerCase().includes(search)) &&
        (p.bool('active') !== true || user.state === 'active'),
    );
    return c.json(paginate(c, users).map((user) => userBasic(state, user)));
  });
  api.get('/users/:user_id', (c) => {
    const user = state.users.get(Number(c.req.param('user_id')));
    if (!user) throw notFound('User');
    return c.json(userPublic(state, user));
  });
  api.get('/user', (c) => c.json(userSelf(state, currentUser(c))));

  api.get('/personal_access_tokens/self', (c) => {
    const token = c.get('token');
    return c.json({
      id: token.id,
      name: token.name,
      revoked: token.revoked,
      created_at: restTime(token.createdAt),
      scopes: token.scopes,
      user_id: token.userId,
      last_used_at: restTime(state.now()),
      active: !token.revoked,
      expires_at: token.expiresAt,
    });
  });

  api.get('/version', (c) =>
    c.json({
      version: GITLAB_VERSION,
      revision: 'gitlabsim',
      kas: { enabled: false, externalUrl: null, version: null },
      enterprise: false,
    }),
  );
}
