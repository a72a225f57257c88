import { CAN, type SimContext, authorize, publish } from '../context.js';
import { badRequest, forbidden, invalid, notFound } from '../errors.js';
import { memberEvent, milestoneEvent } from '../hooks/events.js';
import { isDate } from '../format.js';
import { type AccessLevel, type Membership, type SimGroup, type SimMilestone, type SimProject, type SimUser, isProject } from '../model.js';

/** Milestones and memberships: the planning objects around issues and merge requests. */

export interface MilestoneInput {
  title?: string | undefined;
  description?: string | null | undefined;
  dueDate?: string | null | undefined;
  startDate?: string | null | undefined;
  stateEvent?: 'close' | 'activate' | undefined;
}

function applyMilestoneInput(milestone: SimMilestone, input: MilestoneInput): void {
  if (input.title !== undefined) milestone.title = input.title;
  if (input.description !== undefined) milestone.description = input.description;
  for (const [field, key] of [
    ['dueDate', 'due_date'],
    ['startDate', 'start_date'],
  ] as const) {
    const value = input[field];
    if (value === undefined) continue;
    if (value !== null && !isDate(value)) throw badRequest(`${key} is invalid`);
    milestone[field] = value;
  }
}

export function createMilestone(ctx: SimContext, actor: SimUser, owner: SimProject | SimGroup, input: MilestoneInput): SimMilestone {
  const { state } = ctx;
  authorize(state, actor, owner, CAN.report);
  if (input.title === undefined) throw badRequest('title is missing');
  const ownerRef = { kind: isProject(owner) ? ('project' as const) : ('group' as const), id: owner.id };
  const siblings = state.scoped(state.milestones.values(), owner, false);
  if (siblings.some((m) => m.title === input.title)) throw invalid('title', 'has already been taken');
  const now = state.now();
  const milestone: SimMilestone = {
    id: state.nextId('milestone'),
    iid: isProject(owner) ? ++owner.iids.milestone : siblings.length + 1,
    owner: ownerRef,
    title: input.title,
    description: null,
    state: 'active',
    startDate: null,
    dueDate: null,
    createdAt: now,
    updatedAt: now,
  };
  applyMilestoneInput(milestone, input);
  state.milestones.set(milestone.id, milestone);
  publish(ctx, {
    actor,
    on: owner,
    audit: 'milestone_created',
    details: { title: milestone.title },
    hook: isProject(owner) ? milestoneEvent(state, milestone, 'create') : undefined,
  });
  return milestone;
}

export function updateMilestone(ctx: SimContext, actor: SimUser, milestone: SimMilestone, input: MilestoneInput): SimMilestone {
  const { state } = ctx;
  const owner = milestone.owner.kind === 'project' ? state.requireProject(milestone.owner.id) : state.requireGroup(milestone.owner.id);
  authorize(state, actor, owner, CAN.report);
  const wasState = milestone.state;
  applyMilestoneInput(milestone, input);
  if (input.stateEvent === 'close') milestone.state = 'closed';
  if (input.stateEvent === 'activate') milestone.state = 'active';
  milestone.updatedAt = state.now();
  const action = wasState === milestone.state ? 'update' : milestone.state === 'closed' ? 'close' : 'reopen';
  publish(ctx, {
    actor,
    on: owner,
    audit: `milestone_${action === 'update' ? 'updated' : action === 'close' ? 'closed' : 'reopened'}`,
    details: { title: milestone.title },
    hook: isProject(owner) ? milestoneEvent(state, milestone, action) : undefined,
  });
  return milestone;
}

/**
 * Adds, changes or (with `accessLevel` null) removes a membership. Maintainers manage members;
 * only Owners grant Owner. Group changes fire member hooks, as GitLab's group hooks do.
 */
export function setMembership(
  ctx: SimContext,
  actor: SimUser,
  target: SimProject | SimGroup,
  user: SimUser,
  accessLevel: AccessLevel | null,
  expiresAt: string | null = null,
): Membership | null {
  const { state } = ctx;
  authorize(state, actor, target, CAN.maintain);
  if (accessLevel === 50 && state.accessLevel(actor, target) < CAN.own) throw forbidden();
  const previous = target.members.get(user.id);
  if (accessLevel === null && !previous) throw notFound('Member');
  const membership: Membership | null =
    accessLevel === null
      ? null
      : { accessLevel, expiresAt, createdAt: previous?.createdAt ?? state.now(), createdById: previous?.createdById ?? actor.id };
  if (membership) target.members.set(user.id, membership);
  else target.members.delete(user.id);
  const change = membership === null ? 'remove' : previous ? 'update' : 'add';
  publish(ctx, {
    actor,
    on: target,
    audit: `member_${change === 'add' ? 'added' : change === 'update' ? 'updated' : 'removed'}`,
    details: { member: user.username, access_level: accessLevel },
    hook: isProject(target) ? undefined : memberEvent(state, target, user, (membership ?? previous) as Membership, change),
  });
  return membership;
}
