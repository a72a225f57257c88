import { TASK_CLOSED_EVENT } from '../core/human-task.js';
import { SIGNAL_EVENT_PREFIX, type HistoryEvent } from '../core/model.js';

const at = (site: string | undefined): string => (site === undefined ? '' : ` at ${site}`);

/**
 * What a run's history says it still waits for — waits without their event, children and calls without an outcome —
 * each with what would bring it and its call site: `signal 'reply' (env.signal) at hello.ts:5:3`.
 */
export function pendingOf(history: readonly HistoryEvent[]): string[] {
  const ended = new Set<number>();
  for (const event of history) {
    if ('step' in event && !/_(started|scheduled)$/.test(event.type)) ended.add(event.step);
  }
  return history.flatMap((event): string[] => {
    if (!('step' in event) || ended.has(event.step)) return [];
    switch (event.type) {
      case 'wait_started': {
        const subject = JSON.stringify(event.match['subject'] ?? null);
        if (event.eventType.startsWith(SIGNAL_EVENT_PREFIX))
          return [`signal '${event.eventType.slice(SIGNAL_EVENT_PREFIX.length)}' (env.signal)${at(event.site)}`];
        if (event.eventType === TASK_CLOSED_EVENT)
          return [`task ${subject} to be answered (env.submitTask, env.decideTask)${at(event.site)}`];
        return [`event ${event.eventType} matching ${JSON.stringify(event.match)} (env.emit)${at(event.site)}`];
      }
      case 'child_started':
        return [`child run ${event.childId} (${event.workflow})${at(event.site)}`];
      case 'call_scheduled':
        return [`call ${event.capability}.${event.method}${at(event.site)}`];
      default:
        return [];
    }
  });
}
