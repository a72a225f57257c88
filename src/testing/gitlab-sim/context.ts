import { forbidden, notFound } from './errors.js';
import type { HookEvent, Webhooks } from './hooks/webhooks.js';
import { type SimAuditEvent, type SimGroup, type SimProject, type SimUser, isProject } from './model.js';
import type { SimState } from './state.js';

/** What every operation needs: the state to change and the hooks to tell. */
export interface SimContext {
  state: SimState;
  webhooks: Webhooks;
}

/** GitLab's role thresholds, named for the checks below. */
export const CAN = { read: 0, guest: 10, report: 20, develop: 30, maintain: 40, own: 50 } as const;

/**
 * Throws GitLab's answer when `user` may not act on `target` at `level`: 404 when the user may
 * not even see it (GitLab hides private objects), 403 when seen but not allowed.
 */
export function authorize(state: SimState, user: SimUser, target: SimProject | SimGroup, level: number): void {
  if (!state.canRead(user, target)) throw notFound(isProject(target) ? 'Project' : 'Group');
  if (state.accessLevel(user, target) < level) throw forbidden();
}

/** Records an audit event and fires the hook (if any) of one change: every operation ends here. */
export function publish(
  ctx: SimContext,
  change: { actor: SimUser; on: SimProject | SimGroup; audit?: string; details?: SimAuditEvent['details']; hook?: HookEvent | undefined },
): void {
  const { state } = ctx;
  if (change.audit !== undefined) {
    const target = change.on;
    const path = isProject(target) ? state.projectPath(target) : state.groupPath(target);
    state.auditEvents.push({
      id: state.nextId('audit_event'),
      authorId: change.actor.id,
      entityType: isProject(target) ? 'Project' : 'Group',
      entityId: target.id,
      eventName: change.audit,
      details: {
        author_name: change.actor.name,
        author_email: change.actor.email,
        target_id: target.id,
        target_type: isProject(target) ? 'Project' : 'Group',
        target_details: path,
        entity_path: path,
        ip_address: '127.0.0.1',
        custom_message: change.audit.replaceAll('_', ' '),
        ...change.details,
      },
      createdAt: state.now(),
    });
  }
  if (isProject(change.on)) change.on.lastActivityAt = state.now();
  if (change.hook) ctx.webhooks.fire(change.hook);
}
