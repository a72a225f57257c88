/**
 * The one test suite for the Store port (ports.ts): every implementation runs it, so that the
 * engine can rely on the contract whichever store it is given.
 *
 * @example
 * describeStoreConformance('memory', async () => createMemoryStore());
 */
import { after, afterEach, beforeEach, describe } from 'node:test';
import type { Store } from '../../core/ports.js';
import { describeCallsAndTimers } from './calls-timers.js';
import { describeChildren } from './children.js';
import { describeConcurrency } from './concurrency.js';
import { describeDefinitionsAndInbox } from './definitions-inbox.js';
import { describeHumanTasks } from './human-tasks.js';
import { describeLeases } from './leases.js';
import { describeNulLookups } from './nul-lookups.js';
import { describeRetention } from './retention.js';
import { describeRetryRun } from './retry-run.js';
import { describeRouting } from './routing.js';
import { describeRuns } from './runs.js';
import { describeRunsByUpdate } from './runs-by-update.js';
import { describeSubscriberLeases } from './subscriber-leases.js';
import { describeTasks } from './tasks.js';

/** What each part of the suite gets: the fresh, migrated store of the current test. */
export interface ConformanceContext {
  readonly store: Store;
}

/**
 * Registers the suite. `makeStore` returns a new, empty store for each test (the suite migrates
 * and closes it); `cleanup` runs once after the suite, for example to delete temp files.
 */
export function describeStoreConformance(name: string, makeStore: () => Promise<Store>, cleanup?: () => Promise<void>): void {
  describe(`Store conformance: ${name}`, () => {
    let current: Store | undefined;
    const context: ConformanceContext = {
      get store() {
        if (!current) throw new Error('no store: the conformance context is only valid inside a test');
        return current;
      },
    };
    beforeEach(async () => {
      current = await makeStore();
      await current.migrate();
    });
    afterEach(async () => {
      await current?.close();
      current = undefined;
    });
    if (cleanup) after(cleanup);

    describeDefinitionsAndInbox(context);
    describeRouting(context);
    describeRuns(context);
    describeRunsByUpdate(context);
    describeTasks(context);
    describeChildren(context);
    describeConcurrency(context);
    describeCallsAndTimers(context);
    describeHumanTasks(context);
    describeLeases(context);
    describeRetention(context);
    describeRetryRun(context);
    describeSubscriberLeases(context);
    describeNulLookups(context);
  });
}
