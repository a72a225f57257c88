import { CAN, type SimContext, authorize, publish } from '../context.js';
import { badRequest, conflict, invalid } from '../errors.js';
import { labelScope } from '../format.js';
import { type SimGroup, type SimLabel, type SimProject, type SimUser, isProject } from '../model.js';

/** GitLab's colour for labels created without one. */
export const DEFAULT_LABEL_COLOR = '#6699cc';

export interface LabelInput {
  name?: string | undefined;
  color?: string | undefined;
  description?: string | null | undefined;
  priority?: number | null | undefined;
}

function requireColor(color: string): string {
  if (!/^#[0-9A-Fa-f]{3}([0-9A-Fa-f]{3})?$/.test(color)) throw invalid('color', 'must be a valid color code');
  return color;
}

export function createLabel(ctx: SimContext, actor: SimUser, owner: SimProject | SimGroup, input: LabelInput): SimLabel {
  const { state } = ctx;
  authorize(state, actor, owner, CAN.report);
  const name = input.name?.trim();
  if (!name) throw badRequest('name is missing');
  const color = requireColor(input.color ?? DEFAULT_LABEL_COLOR);
  if (state.scoped(state.labels.values(), owner, false).some((label) => label.name === name)) throw conflict('Label already exists');
  const now = state.now();
  const label: SimLabel = {
    id: state.nextId('label'),
    name,
    color,
    description: input.description ?? null,
    priority: input.priority ?? null,
    owner: { kind: isProject(owner) ? 'project' : 'group', id: owner.id },
    createdAt: now,
    updatedAt: now,
  };
  state.labels.set(label.id, label);
  publish(ctx, { actor, on: owner, audit: 'label_created', details: { label: name } });
  return label;
}

/**
 * The labels of `project` with these names. Like GitLab's API, an unknown name creates a new
 * project label rather than failing, so `add_labels=workflow::new` just works.
 */
export function labelsByName(ctx: SimContext, actor: SimUser, project: SimProject, names: readonly string[]): SimLabel[] {
  const available = ctx.state.availableLabels(project);
  return names
    .map((name) => name.trim())
    .filter((name) => name !== '')
    .map((name) => available.find((label) => label.name === name) ?? createLabel(ctx, actor, project, { name }));
}

export interface LabelChange {
  /** Replaces every label (`labels=`). */
  set?: SimLabel[] | undefined;
  add?: SimLabel[] | undefined;
  remove?: SimLabel[] | undefined;
}

/**
 * The label set after a change, with GitLab's scoped-label rule: an object carries at most one
 * label per scope, so adding `workflow::ready` drops `workflow::backlog`. The scope is what
 * comes before the last `::` (`a::b::c` is in scope `a::b`). Within one request the last
 * label of a scope wins. A label the object already has keeps its place, as GitLab keeps its
 * label link: adding it again changes nothing a hook's `changes.labels` would show.
 */
export function nextLabels(current: readonly SimLabel[], change: LabelChange): SimLabel[] {
  let labels: SimLabel[] = [];
  const put = (label: SimLabel): void => {
    // A held label is alone in its scope already: nothing to drop.
    if (labels.some((held) => held.id === label.id)) return;
    const scope = labelScope(label.name);
    labels = labels.filter((held) => scope === null || labelScope(held.name) !== scope);
    labels.push(label);
  };
  for (const label of change.set ?? current) put(label);
  for (const label of change.add ?? []) put(label);
  const removed = new Set((change.remove ?? []).map((label) => label.id));
  return labels.filter((label) => !removed.has(label.id));
}

export function updateLabel(
  ctx: SimContext,
  actor: SimUser,
  label: SimLabel,
  input: LabelInput & { newName?: string | undefined },
): SimLabel {
  const { state } = ctx;
  const owner = label.owner.kind === 'project' ? state.requireProject(label.owner.id) : state.requireGroup(label.owner.id);
  authorize(state, actor, owner, CAN.report);
  if (input.newName !== undefined) label.name = input.newName.trim() || label.name;
  if (input.color !== undefined) label.color = requireColor(input.color);
  if (input.description !== undefined) label.description = input.description;
  if (input.priority !== undefined) label.priority = input.priority;
  label.updatedAt = state.now();
  publish(ctx, { actor, on: owner, audit: 'label_updated', details: { label: label.name } });
  return label;
}

/** Deleting a label takes it off every issue and merge request, as GitLab does. */
export function deleteLabel(ctx: SimContext, actor: SimUser, label: SimLabel): void {
  const { state } = ctx;
  const owner = label.owner.kind === 'project' ? state.requireProject(label.owner.id) : state.requireGroup(label.owner.id);
  authorize(state, actor, owner, CAN.report);
  state.labels.delete(label.id);
  for (const item of [...state.issues.values(), ...state.mergeRequests.values()])
    item.labelIds = item.labelIds.filter((id) => id !== label.id);
  publish(ctx, { actor, on: owner, audit: 'label_deleted', details: { label: label.name } });
}
