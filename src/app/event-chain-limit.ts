import { MAX_EVENT_CHAIN } from '../core/event-chain.js';
import type { Logger } from '../core/ports.js';
import type { ChainLimitSkip } from '../core/router.js';

/**
 * What the router's `onChainLimit` does in the server: one warning for each workflow whose trigger an event at the
 * end of too long a chain of emits did not start, saying how to end the loop, and one count on the metric.
 */
export function chainLimitReporter(logger: Logger, count: () => void): (skip: ChainLimitSkip) => void {
  return ({ definition, trigger, event, chain }) => {
    count();
    const spec = definition.manifest.triggers[trigger];
    const on = spec && 'event' in spec ? ` (${spec.event})` : '';
    logger.warn(
      { workflow: definition.name, trigger, chain, event: { seq: event.seq, type: event.type, id: event.id, source: event.source } },
      `trigger ${trigger}${on} of workflow ${definition.name} started no run for event ${event.type} (id ${event.id}, source ${event.source}): ` +
        `${chain} emits in a row led to it, more than ${MAX_EVENT_CHAIN}, so workflows likely trigger each other in a loop; ` +
        'give the trigger a filter that stops the loop, or emit another type that no trigger on the way back takes (docs/engine.md#chains-of-events)',
    );
  };
}
