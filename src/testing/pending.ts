import { TASK_CLOSED_EVENT } from '../core/human-task.js';
import { isObject } from '../gitlab/payload.js';
import { SIGNAL_EVENT_PREFIX, type HistoryEvent, type Json } from '../core/model.js';

/** One thing a run waits for, as its history says. */
export interface Pending {
  /** What it is, what would bring it and its call site: `signal 'reply' (env.signal) at hello.ts:5:3`. */
  description: string;
  /**
   * Only test code can end it — a signal without a timeout, a human task without a deadline: no timer does, and no
   * other run or schedule can (workflows may not emit signals, nor answer tasks).
   */
  onlyTestCode: boolean;
}

const at = (site: string | undefined): string => (site === undefined ? '' : ` at ${site}`);

/** The ids of the human tasks the run opened without a deadline (`tasks.create` without `dueAt`). */
function tasksWithoutDeadline(history: readonly HistoryEvent[]): Set<string> {
  const withoutDeadline = new Set<number>();
  const ids = new Set<string>();
  for (const event of history) {
    if (event.type === 'call_scheduled' && event.capability === 'tasks' && event.method === 'create' && !hasDueAt(event.args)) {
      withoutDeadline.add(event.step);
    }
    if (event.type === 'call_completed' && withoutDeadline.has(event.step)) {
      const id = isObject(event.value) ? event.value['id'] : undefined;
      if (typeof id === 'string') ids.add(id);
    }
  }
  return ids;
}

function hasDueAt(args: Json): boolean {
  return isObject(args) && args['dueAt'] !== undefined;
}

/**
 * What a run's history says it still waits for — sleeps not over, waits without their event, children and calls
 * without an outcome — each with what would bring it and its call site.
 */
export function pendingOf(history: readonly HistoryEvent[]): Pending[] {
  const ended = new Set<number>();
  for (const event of history) {
    if ('step' in event && !/_(started|scheduled)$/.test(event.type)) ended.add(event.step);
  }
  // A task's wait has a timeout even without a deadline: the run asks for its state once a day, which never ends it.
  const openEnded = tasksWithoutDeadline(history);
  return history.flatMap((event): Pending[] => {
    if (!('step' in event) || ended.has(event.step)) return [];
    switch (event.type) {
      case 'timer_started':
        return [
          {
            description: `${event.timeout ? "the run's timeout" : 'sleep'} until ${new Date(event.fireAt).toISOString()}${at(event.site)}`,
            onlyTestCode: false,
          },
        ];
      case 'wait_started': {
        const subject = event.match['subject'] ?? null;
        if (event.eventType.startsWith(SIGNAL_EVENT_PREFIX)) {
          const name = event.eventType.slice(SIGNAL_EVENT_PREFIX.length);
          return [{ description: `signal '${name}' (env.signal)${at(event.site)}`, onlyTestCode: event.timeoutAt === undefined }];
        }
        if (event.eventType === TASK_CLOSED_EVENT) {
          return [
            {
              description: `task ${JSON.stringify(subject)} to be answered (env.submitTask, env.decideTask)${at(event.site)}`,
              onlyTestCode: typeof subject === 'string' && openEnded.has(subject),
            },
          ];
        }
        return [
          {
            description: `event ${event.eventType} matching ${JSON.stringify(event.match)} (env.emit)${at(event.site)}`,
            onlyTestCode: false,
          },
        ];
      }
      case 'child_started':
        return [{ description: `child run ${event.childId} (${event.workflow})${at(event.site)}`, onlyTestCode: false }];
      case 'call_scheduled':
        return [{ description: `call ${event.capability}.${event.method}${at(event.site)}`, onlyTestCode: false }];
      default:
        return [];
    }
  });
}
