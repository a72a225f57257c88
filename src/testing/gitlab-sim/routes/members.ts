import { CAN, type SimContext, authorize, publish } from '../context.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { HOOK_EVENTS, type HookEventName, type Webhook } from '../hooks/webhooks.js';
import { type SimApi, type SimRequest, currentUser, groupParam, idParam, projectParam } from '../http/app.js';
import { paginate } from '../http/pagination.js';
import { Params } from '../http/params.js';
import { restTime } from '../format.js';
import type { AccessLevel, SimGroup, SimProject } from '../model.js';
import type { EffectiveMember } from '../state.js';
import { setMembership } from '../ops/planning.js';
import { memberEntity } from '../present/people.js';

type Target = SimProject | SimGroup;

const ACCESS: readonly AccessLevel[] = [10, 20, 30, 40, 50];

/**
 * What projects and groups share: members (direct and `all`, with inherited ones), and hooks
 * managed through the API (`/hooks`), for `/projects/:id/…` or `/groups/:id/…`.
 */
export function registerMembership(api: SimApi, ctx: SimContext, scope: 'projects' | 'groups'): void {
  const { state } = ctx;
  const targetOf = (c: SimRequest): Target => (scope === 'projects' ? projectParam(c, ctx) : groupParam(c, ctx));
  const base = `/${scope}/:id`;

  const members = (target: Target, inherited: boolean): EffectiveMember[] =>
    inherited
      ? state.effectiveMembers(target)
      : [...target.members].flatMap(([userId, membership]) => {
          const user = state.users.get(userId);
          return user
            ? [{ user, membership, source: { kind: scope === 'projects' ? ('project' as const) : ('group' as const), id: target.id } }]
            : [];
        });

  for (const inherited of [false, true]) {
    const path = `${base}/members${inherited ? '/all' : ''}`;
    api.get(path, async (c) => {
      const p = await Params.of(c);
      const query = p.string('query')?.toLowerCase();
      const ids = p.ints('user_ids');
      const found = members(targetOf(c), inherited).filter(
        (m) =>
          (query === undefined || `${m.user.username} ${m.user.name}`.toLowerCase().includes(query)) &&
          (ids === undefined || ids.includes(m.user.id)),
      );
      return c.json(paginate(c, found).map((member) => memberEntity(state, member)));
    });
    api.get(`${path}/:user_id{[0-9]+}`, (c) => {
      const member = members(targetOf(c), inherited).find((m) => m.user.id === idParam(c, 'user_id'));
      if (!member) throw notFound('Member');
      return c.json(memberEntity(state, member));
    });
  }

  const writeMember = (status: 200 | 201) =>
    async function writeMemberHandler(c: SimRequest): Promise<Response> {
      const p = await Params.of(c);
      const target = targetOf(c);
      const userId = c.req.param('user_id') === undefined ? p.int('user_id') : idParam(c, 'user_id');
      if (userId === undefined) throw badRequest('user_id is missing');
      const level = p.int('access_level');
      if (level === undefined) throw badRequest('access_level is missing');
      if (!ACCESS.includes(level as AccessLevel)) throw badRequest('access_level does not have a valid value');
      const user = state.requireUser(userId);
      if (status === 201 && target.members.has(user.id)) throw conflict('Member already exists');
      if (status === 200 && !target.members.has(user.id)) throw notFound('Member');
      setMembership(ctx, currentUser(c), target, user, level as AccessLevel, p.nullableString('expires_at') ?? null);
      const member = members(target, false).find((m) => m.user.id === user.id) as EffectiveMember;
      return c.json(memberEntity(state, member), status);
    };
  api.post(`${base}/members`, writeMember(201));
  api.put(`${base}/members/:user_id{[0-9]+}`, writeMember(200));
  api.delete(`${base}/members/:user_id{[0-9]+}`, (c) => {
    setMembership(ctx, currentUser(c), targetOf(c), state.requireUser(idParam(c, 'user_id')), null);
    return c.body(null, 204);
  });

  const hookEntity = (hook: Webhook): Record<string, unknown> => ({
    id: hook.id,
    url: hook.url,
    [scope === 'projects' ? 'project_id' : 'group_id']: hook.scope.id,
    ...Object.fromEntries(Object.keys(HOOK_EVENTS).map((name) => [name, hook.events.has(name as HookEventName)])),
    enable_ssl_verification: true,
    alert_status: 'executable',
    created_at: restTime(hook.createdAt),
  });
  const hooksOf = (c: SimRequest): Webhook[] => {
    const target = targetOf(c);
    authorize(state, currentUser(c), target, scope === 'projects' ? CAN.maintain : CAN.own);
    return ctx.webhooks
      .list()
      .filter((hook) => hook.scope.kind === (scope === 'projects' ? 'project' : 'group') && hook.scope.id === target.id);
  };
  api.get(`${base}/hooks`, (c) => c.json(paginate(c, hooksOf(c)).map(hookEntity)));
  api.post(`${base}/hooks`, async (c) => {
    const p = await Params.of(c);
    hooksOf(c);
    const url = p.string('url');
    if (url === undefined) throw badRequest('url is missing');
    // The API's defaults: push events on, everything else off.
    const events = (Object.keys(HOOK_EVENTS) as HookEventName[]).filter((name) => p.bool(name) ?? name === 'push_events');
    const target = targetOf(c);
    const hook = ctx.webhooks.add({
      url,
      events,
      ...(p.string('token') === undefined ? {} : { token: p.string('token') }),
      [scope === 'projects' ? 'project' : 'group']: target.id,
    });
    publish(ctx, { actor: currentUser(c), on: target, audit: 'webhook_created', details: { url } });
    return c.json(hookEntity(hook), 201);
  });
  api.delete(`${base}/hooks/:hook_id`, (c) => {
    const hook = hooksOf(c).find((item) => item.id === idParam(c, 'hook_id'));
    if (!hook) throw notFound('Hook');
    ctx.webhooks.remove(hook.id);
    return c.body(null, 204);
  });
}
