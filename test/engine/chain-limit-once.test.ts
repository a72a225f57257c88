/**
 * With several nodes on one database each plans the events it lists, and one marks each routed: a chain-limit skip is
 * reported (logged, counted) by that node only. Both nodes logged and counted it, so summed counters showed two.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { VirtualClock } from '../../src/app/clocks.js';
import { buildDefinition } from '../../src/app/deploy.js';
import type { EventRouting, RouteResult, Store } from '../../src/core/ports.js';
import type { ChainLimitSkip } from '../../src/core/router.js';
import { createQuickJsSandbox } from '../../src/sandbox/quickjs-sandbox.js';
import { createMemoryStore } from '../../src/store/memory/memory-store.js';
import { virtualTimeEngine } from '../helpers/engine.js';
import { workflowFolder } from '../helpers/workflow-files.js';

const folder = workflowFolder({
  'relay.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'relay', triggers: [{ event: 'com.acme.loop' }], async run() { return 1; } });`,
});
after(() => folder.remove());

/** The chain-limit skips one engine reports for an event 9 emits led to, its store routing as `route` says. */
async function reportedSkips(route: (store: Store, routings: EventRouting[]) => Promise<RouteResult[]>): Promise<ChainLimitSkip[]> {
  const real = createMemoryStore();
  await real.migrate();
  const store: Store = Object.assign(Object.create(real) as Store, { routeEvents: (routings: EventRouting[]) => route(real, routings) });
  const sandbox = await createQuickJsSandbox();
  const clock = new VirtualClock();
  const skips: ChainLimitSkip[] = [];
  const engine = virtualTimeEngine({ store, sandbox, clock, onChainLimit: (skip) => skips.push(skip) });
  await engine.deploy(await buildDefinition(folder.path('relay.ts'), sandbox, clock.now()));
  await engine.start();
  try {
    const event = { specversion: '1.0', id: 'e9', source: 'autoflow:workflow/relay', type: 'com.acme.loop', autoflowchain: 9 };
    await engine.ingest(event as never, 'e9');
    await engine.whenIdle();
    return skips;
  } finally {
    await engine.stop();
  }
}

test('the node whose routing marks the event reports its chain-limit skip; a node that lost the race does not', async () => {
  const own = await reportedSkips((store, routings) => store.routeEvents(routings));
  assert.deepEqual(
    own.map((skip) => [skip.definition.name, skip.chain]),
    [['relay', 9]],
  );
  // Another node marked it routed first: this node's commit of the same routing marks nothing.
  const lost = await reportedSkips(async (store, routings) =>
    (await store.routeEvents(routings)).map((result) => ({ ...result, markedRouted: false })),
  );
  assert.deepEqual(lost, []);
});
