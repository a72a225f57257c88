/** The memory store's human tasks: a map by id, with the same semantics as the SQL tables. */
import { closedOutcome } from '../../core/human-task-rules.js';
import type { HumanTaskRecord } from '../../core/human-task.js';
import type { HumanTaskFilter, HumanTaskPage, HumanTaskUpdate } from '../../core/ports.js';
import { matchesStatus } from '../human-task-filter.js';
import { decodeRunCursor, pageOf, runPageLimit } from '../pagination.js';

const copy = <T>(value: T): T => structuredClone(value);

export class HumanTaskTable {
  private readonly tasks = new Map<string, HumanTaskRecord>();

  create(task: HumanTaskRecord): { created: boolean; task: HumanTaskRecord } {
    const existing = this.tasks.get(task.id);
    if (existing) return { created: false, task: copy(existing) };
    this.tasks.set(task.id, copy(task));
    return { created: true, task: copy(task) };
  }

  get(id: string): HumanTaskRecord | undefined {
    const task = this.tasks.get(id);
    return task && copy(task);
  }

  list(filter: HumanTaskFilter): HumanTaskPage {
    const limit = runPageLimit(filter.limit);
    const after = filter.cursor === undefined ? undefined : decodeRunCursor(filter.cursor);
    const eligible = filter.eligible?.toLowerCase();
    const page = [...this.tasks.values()]
      .filter(
        (task) =>
          (eligible === undefined || task.eligible.includes(eligible)) &&
          (filter.runId === undefined || task.runId === filter.runId) &&
          matchesStatus(task, filter.status) &&
          (after === undefined || task.createdAt < after.createdAt || (task.createdAt === after.createdAt && task.id < after.id)),
      )
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .slice(0, limit + 1);
    const { items, nextCursor } = pageOf(page, limit, copy);
    return nextCursor === undefined ? { tasks: items } : { tasks: items, nextCursor };
  }

  /** Compare-and-set on the revision; `storeEvent` runs only when the update applies. */
  update(update: HumanTaskUpdate, storeEvent: () => void): boolean {
    const task = this.tasks.get(update.id);
    if (!task || task.revision !== update.expectedRevision) return false;
    task.status = update.status;
    task.decisions = copy(update.decisions);
    if (update.outcome !== undefined) task.outcome = copy(update.outcome) as HumanTaskRecord['outcome'];
    if (update.closedAt !== undefined) task.closedAt = update.closedAt;
    task.revision += 1;
    storeEvent();
    return true;
  }

  /** Retention: the run was deleted. */
  deleteOfRun(runId: string): void {
    for (const task of [...this.tasks.values()]) if (task.runId === runId) this.tasks.delete(task.id);
  }

  /** A retried run takes back what its failure at `at` cancelled, with the decisions made so far. */
  reopenCancelledOfRun(runId: string, at: number): void {
    for (const task of this.tasks.values()) {
      if (task.runId !== runId || task.status !== 'cancelled' || task.closedAt !== at) continue;
      task.status = 'open';
      delete task.outcome;
      delete task.closedAt;
      task.revision += 1;
    }
  }

  /** The run ended: its open tasks close as cancelled. */
  cancelOpenOfRun(runId: string, at: number): void {
    for (const task of this.tasks.values()) {
      if (task.runId !== runId || task.status !== 'open') continue;
      task.status = 'cancelled';
      task.outcome = closedOutcome(task, 'cancelled') as HumanTaskRecord['outcome'];
      task.closedAt = at;
      task.revision += 1;
    }
  }
}
