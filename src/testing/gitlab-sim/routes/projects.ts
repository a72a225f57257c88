import { CAN, type SimContext, authorize, publish } from '../context.js';
import { badRequest, notFound } from '../errors.js';
import { type SimApi, type SimRequest, currentUser, idParam, projectParam } from '../http/app.js';
import { paginate } from '../http/pagination.js';
import { Params } from '../http/params.js';
import type { SimFreezePeriod } from '../model.js';
import { auditEventEntity, freezePeriodEntity } from '../present/ci.js';
import { projectEntity } from '../present/people.js';

// Five cron fields, as GitLab validates `freeze_start`/`freeze_end`.
const CRON = /^\s*\S+\s+\S+\s+\S+\s+\S+\s+\S+\s*$/;

/** Projects, their audit events and deploy freeze periods. */
export function registerProjects(api: SimApi, ctx: SimContext): void {
  const { state } = ctx;

  api.get('/projects', async (c) => {
    const p = await Params.of(c);
    const user = currentUser(c);
    const search = p.string('search')?.toLowerCase();
    const [membership, owned] = [p.bool('membership') ?? false, p.bool('owned') ?? false];
    const projects = [...state.projects.values()]
      .filter((project) => {
        const level = state.accessLevel(user, project);
        return (
          state.canRead(user, project) &&
          (!membership || level > 0) &&
          (!owned || level >= CAN.own) &&
          (search === undefined || `${project.name} ${state.projectPath(project)}`.toLowerCase().includes(search))
        );
      })
      .sort((a, b) => b.id - a.id);
    return c.json(paginate(c, projects).map((project) => projectEntity(state, project)));
  });

  api.get('/projects/:id', (c) => c.json(projectEntity(state, projectParam(c, ctx))));

  api.get('/projects/:id/audit_events', (c) => {
    const project = projectParam(c, ctx);
    authorize(state, currentUser(c), project, CAN.maintain);
    const events = state.auditEvents.filter((event) => event.entityType === 'Project' && event.entityId === project.id).reverse();
    return c.json(paginate(c, events).map(auditEventEntity));
  });
  api.get('/projects/:id/audit_events/:event_id', (c) => {
    const project = projectParam(c, ctx);
    authorize(state, currentUser(c), project, CAN.maintain);
    const event = state.auditEvents.find(
      (item) => item.id === idParam(c, 'event_id') && item.entityType === 'Project' && item.entityId === project.id,
    );
    if (!event) throw notFound('Audit Event');
    return c.json(auditEventEntity(event));
  });

  const freezePeriods = (c: SimRequest, level: number): { project: ReturnType<typeof projectParam>; periods: SimFreezePeriod[] } => {
    const project = projectParam(c, ctx);
    authorize(state, currentUser(c), project, level);
    return { project, periods: [...state.freezePeriods.values()].filter((period) => period.projectId === project.id) };
  };
  const freezePeriodParam = (c: SimRequest, level: number): SimFreezePeriod => {
    const period = freezePeriods(c, level).periods.find((item) => item.id === idParam(c, 'freeze_period_id'));
    if (!period) throw notFound('Freeze Period');
    return period;
  };
  const cron = (p: Params, name: string, required: boolean): string | undefined => {
    const value = p.string(name);
    if (value === undefined && required) throw badRequest(`${name} is missing`);
    if (value !== undefined && !CRON.test(value)) throw badRequest(`${name} is invalid syntax`);
    return value;
  };

  api.get('/projects/:id/freeze_periods', (c) => c.json(paginate(c, freezePeriods(c, CAN.develop).periods).map(freezePeriodEntity)));
  api.get('/projects/:id/freeze_periods/:freeze_period_id', (c) => c.json(freezePeriodEntity(freezePeriodParam(c, CAN.develop))));
  api.post('/projects/:id/freeze_periods', async (c) => {
    const p = await Params.of(c);
    const { project } = freezePeriods(c, CAN.maintain);
    const now = state.now();
    const period: SimFreezePeriod = {
      id: state.nextId('freeze_period'),
      projectId: project.id,
      freezeStart: cron(p, 'freeze_start', true) as string,
      freezeEnd: cron(p, 'freeze_end', true) as string,
      cronTimezone: p.string('cron_timezone') ?? 'UTC',
      createdAt: now,
      updatedAt: now,
    };
    state.freezePeriods.set(period.id, period);
    publish(ctx, {
      actor: currentUser(c),
      on: project,
      audit: 'freeze_period_created',
      details: { freeze_start: period.freezeStart, freeze_end: period.freezeEnd },
    });
    return c.json(freezePeriodEntity(period), 201);
  });
  api.put('/projects/:id/freeze_periods/:freeze_period_id', async (c) => {
    const p = await Params.of(c);
    const period = freezePeriodParam(c, CAN.maintain);
    period.freezeStart = cron(p, 'freeze_start', false) ?? period.freezeStart;
    period.freezeEnd = cron(p, 'freeze_end', false) ?? period.freezeEnd;
    period.cronTimezone = p.string('cron_timezone') ?? period.cronTimezone;
    period.updatedAt = state.now();
    publish(ctx, {
      actor: currentUser(c),
      on: state.requireProject(period.projectId),
      audit: 'freeze_period_updated',
      details: { id: period.id },
    });
    return c.json(freezePeriodEntity(period));
  });
  api.delete('/projects/:id/freeze_periods/:freeze_period_id', (c) => {
    const period = freezePeriodParam(c, CAN.maintain);
    state.freezePeriods.delete(period.id);
    publish(ctx, {
      actor: currentUser(c),
      on: state.requireProject(period.projectId),
      audit: 'freeze_period_deleted',
      details: { id: period.id },
    });
    return c.body(null, 204);
  });
}
