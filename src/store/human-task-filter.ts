/** The listing rules of human tasks shared by every store: page size, cursor, and what matches a filter. */
import type { HumanTaskRecord } from '../core/human-task.js';
import type { HumanTaskFilter } from '../core/ports.js';

/** Whether a task matches the filter's status (`closed` = every status but `open`). */
export function matchesStatus(task: Pick<HumanTaskRecord, 'status'>, status: HumanTaskFilter['status']): boolean {
  if (status === undefined) return true;
  return status === 'closed' ? task.status !== 'open' : task.status === status;
}
