import type { CloudEvent, RunRecord, StoredEvent } from './model.js';
import { continuedAs, predecessorId } from './task.js';

/**
 * The CloudEvent extension attribute on every event a workflow emits: how many emits led to it. Extension names are
 * lowercase letters and digits only (CloudEvents 1.0), so it has no separator.
 */
export const EVENT_CHAIN_ATTRIBUTE = 'autoflowchain';

/**
 * The longest chain of emits whose event still starts runs: the event a 9th emit in a row puts into the inbox starts
 * none. A chain of workflows handing work on is a few links long; a loop (a workflow that triggers itself, or A → B →
 * A) reaches 9 within seconds and ends there instead of running until someone undeploys it.
 */
export const MAX_EVENT_CHAIN = 8;

/**
 * How many emits led to an event: its `autoflowchain`, or 0 for an event no workflow emitted (GitLab's, one posted to
 * the events API, which drops extension attributes, a signal) and for a value that is not a count.
 */
export function eventChainOf(event: CloudEvent): number {
  const value = (event as CloudEvent & Record<string, unknown>)[EVENT_CHAIN_ATTRIBUTE];
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

/** The event with its chain set. */
export function withEventChain(event: CloudEvent, chain: number): CloudEvent {
  return { ...event, [EVENT_CHAIN_ATTRIBUTE]: chain } as CloudEvent;
}

/** What finding a run's chain reads of the store. */
export interface RunChainReads {
  getRun(id: string): Promise<RunRecord | undefined>;
  getEvent(seq: number): Promise<StoredEvent | undefined>;
}

/**
 * `x` for `x~2`, `x~3`…: the run a continue-as-new chain started from. Worked out from the id, not read run by run: a
 * chain of a year of daily runs is hundreds long.
 */
function firstOfContinuedChain(runId: string): string | undefined {
  let first: string | undefined;
  for (let id = predecessorId(runId); id !== undefined; id = predecessorId(id)) first = id;
  return first;
}

/**
 * The chain of the event that started a run: of its trigger event; for a child, its parent's; for a continue-as-new
 * successor, the chain's first run's (a successor keeps its parent but not the trigger). 0 for a run started by hand
 * or by a schedule, and when what it came from is gone (retention deleted the event or the ended run): such a run
 * starts a chain anew, which a loop's next link, seconds later, cannot wait for.
 */
export async function runEventChain(reads: RunChainReads, runId: string): Promise<number> {
  const seen = new Set<string>();
  let run = await reads.getRun(runId);
  while (run !== undefined && !seen.has(run.id)) {
    seen.add(run.id);
    if (run.triggerEventSeq !== undefined) {
      const event = await reads.getEvent(run.triggerEventSeq);
      return event === undefined ? 0 : eventChainOf(event);
    }
    const first = firstOfContinuedChain(run.id);
    const next = run.parentId ?? first;
    if (next === undefined) return 0;
    run = await reads.getRun(next);
    // Only a run that continued as `x~2` is the start of this chain; another run with that id starts none of it.
    if (next === first && run !== undefined && continuedAs(run) !== `${first}~2`) return 0;
  }
  return 0;
}
