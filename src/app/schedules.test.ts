import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Engine } from '../core/engine.js';
import { StoreError } from '../core/errors.js';
import type { DeployedDefinition, NewRun } from '../core/model.js';
import type { Store } from '../core/ports.js';
import { createMemoryStore } from '../store/memory/memory-store.js';
import { memoryLogger, type LogEntry } from '../../test/helpers/memory-logger.js';
import { VirtualClock } from './clocks.js';
import { Scheduler } from './schedules.js';

const at = (iso: string) => Date.parse(iso);

function definition(name: string, cron: string): DeployedDefinition {
  return {
    version: `${name}-v1`,
    name,
    manifest: { name, triggers: [{ cron }], permissions: {}, validatesInput: false },
    bundle: '',
    deployedAt: 0,
  };
}

/**
 * A database shared by the nodes, with an outage switch: while `down`, every read and write the
 * scheduler makes fails, as a pool whose queries time out does.
 */
function sharedDatabase() {
  const store = createMemoryStore();
  const runs = new Map<string, NewRun>();
  const db = {
    down: false,
    runs,
    attempts: 0,
    check(): void {
      db.attempts++;
      if (db.down) throw new StoreError('PostgreSQL at postgres://db/autoflow: the query did not answer within 30000 ms');
    },
  };
  const flaky = {
    getScheduleTick: async (id: string) => (db.check(), store.getScheduleTick(id)),
    advanceScheduleTick: async (id: string, tick: number) => (db.check(), store.advanceScheduleTick(id, tick)),
  } as Partial<Store> as Store;
  const engineFor = (definitions: DeployedDefinition[]) =>
    ({
      definitions: () => definitions,
      submitRun: async (run: NewRun) => {
        db.check();
        // Insert-or-ignore by id, as every store does: the id derived from the tick is what keeps a tick to one run.
        const existing = runs.get(run.id);
        if (existing) return { created: false, run: existing };
        runs.set(run.id, run);
        return { created: true, run };
      },
    }) as unknown as Engine;
  return { db, store: flaky, engineFor };
}

/** Lets the promises started by timers settle (the memory store answers on the microtask queue). */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Moves the clock to `to`, one timer at a time, letting each timer's work finish before the next. */
async function advanceTo(clock: VirtualClock, to: number, during?: (now: number) => void): Promise<void> {
  for (;;) {
    const next = clock.nextAt();
    if (next === undefined || next > to) break;
    during?.(next);
    clock.advanceTo(next);
    await flush();
  }
  during?.(to);
  clock.advanceTo(to);
  await flush();
}

function node(shared: ReturnType<typeof sharedDatabase>, clock: VirtualClock, definitions: DeployedDefinition[], lines: LogEntry[] = []) {
  return new Scheduler({ engine: shared.engineFor(definitions), store: shared.store, clock, logger: memoryLogger(lines) });
}

describe('schedules when the database fails at a tick', () => {
  test('a tick whose start fails is tried again with back-off until it starts, once, and the log says so', async () => {
    const clock = new VirtualClock(at('2026-03-02T04:12:00Z'));
    const shared = sharedDatabase();
    const lines: LogEntry[] = [];
    const scheduler = node(shared, clock, [definition('every15s', '*/15 * * * * *')], lines);
    await scheduler.sync();
    // The database is away from 04:12:29 to 04:12:35: the 04:12:30 tick fails at first.
    const outage = (now: number) => (shared.db.down = now >= at('2026-03-02T04:12:29Z') && now < at('2026-03-02T04:12:35Z'));
    await advanceTo(clock, at('2026-03-02T04:13:01Z'), outage);
    scheduler.stop();

    assert.deepEqual(
      [...shared.db.runs.keys()],
      [
        'every15s@2026-03-02T04:12:15.000Z',
        'every15s@2026-03-02T04:12:30.000Z',
        'every15s@2026-03-02T04:12:45.000Z',
        'every15s@2026-03-02T04:13:00.000Z',
      ],
    );
    const retries = lines.filter((line) => line.level === 'warn');
    // Back-off: 1 s, then 2 s (04:12:31 and 04:12:33 fail), then 4 s: 04:12:37 starts it.
    assert.deepEqual(
      retries.map((line) => line.data.retryAt),
      ['2026-03-02T04:12:31.000Z', '2026-03-02T04:12:33.000Z', '2026-03-02T04:12:37.000Z'],
    );
    assert.ok(retries.every((line) => /for 2026-03-02T04:12:30.000Z failed \(attempt \d\); trying again at/.test(line.message)));
    assert.ok(!lines.some((line) => /next tick will try again/.test(line.message)));
    assert.ok(lines.some((line) => line.level === 'info' && /is started, after 3 failed attempts/.test(line.message)));
  });

  test('a daily job whose 06:00 start fails runs that day, as soon as the database answers again', async () => {
    const clock = new VirtualClock(at('2026-03-02T05:00:00Z'));
    const shared = sharedDatabase();
    const scheduler = node(shared, clock, [definition('daily', '0 6 * * *')]);
    await scheduler.sync();
    // Down from 05:59:50 to 06:20: twenty minutes of retries, at most a minute apart.
    const outage = (now: number) => (shared.db.down = now >= at('2026-03-02T05:59:50Z') && now < at('2026-03-02T06:20:00Z'));
    await advanceTo(clock, at('2026-03-02T06:19:59Z'), outage);
    assert.equal(shared.db.runs.size, 0);
    const tries = shared.db.attempts;
    await advanceTo(clock, at('2026-03-02T06:21:00Z'), outage);
    assert.deepEqual(
      [...shared.db.runs.values()].map((run) => [run.id, run.createdAt]),
      [['daily@2026-03-02T06:00:00.000Z', at('2026-03-02T06:20:03Z')]],
    );
    // Capped back-off: about one try a minute, not a storm, and none once the run started.
    assert.ok(tries < 40, `${tries} tries in 20 minutes`);
    await advanceTo(clock, at('2026-03-03T06:00:00Z'));
    scheduler.stop();
    assert.deepEqual([...shared.db.runs.keys()], ['daily@2026-03-02T06:00:00.000Z', 'daily@2026-03-03T06:00:00.000Z']);
  });

  test('a tick that still fails when the next one is due is superseded by it: one run for the ticks missed, and the log names the lost tick', async () => {
    const clock = new VirtualClock(at('2026-03-02T04:12:20Z'));
    const shared = sharedDatabase();
    const lines: LogEntry[] = [];
    const scheduler = node(shared, clock, [definition('every15s', '*/15 * * * * *')], lines);
    await scheduler.sync();
    // A 20 s outage from 04:12:25: the 04:12:30 tick cannot start before 04:12:45 is due.
    const outage = (now: number) => (shared.db.down = now >= at('2026-03-02T04:12:25Z') && now < at('2026-03-02T04:12:45Z'));
    await advanceTo(clock, at('2026-03-02T04:13:00Z'), outage);
    scheduler.stop();
    assert.deepEqual([...shared.db.runs.keys()], ['every15s@2026-03-02T04:12:45.000Z', 'every15s@2026-03-02T04:13:00.000Z']);
    const superseded = lines.find((line) => line.level === 'error');
    assert.match(superseded?.message ?? '', /the next tick, 2026-03-02T04:12:45.000Z, comes before another try and starts in its place/);
    assert.ok(
      lines.some((line) => line.level === 'warn' && /no run of every15s was started for 2026-03-02T04:12:30.000Z/.test(line.message)),
    );
  });

  test('three nodes that all fail the same tick retry it and start it once', async () => {
    const clock = new VirtualClock(at('2026-03-02T04:12:20Z'));
    const shared = sharedDatabase();
    const nodes = [1, 2, 3].map(() => node(shared, clock, [definition('every15s', '*/15 * * * * *')]));
    for (const scheduler of nodes) await scheduler.sync();
    const outage = (now: number) => (shared.db.down = now >= at('2026-03-02T04:12:29Z') && now < at('2026-03-02T04:12:32Z'));
    await advanceTo(clock, at('2026-03-02T04:12:40Z'), outage);
    for (const scheduler of nodes) scheduler.stop();
    assert.deepEqual([...shared.db.runs.keys()], ['every15s@2026-03-02T04:12:30.000Z']);
  });

  test('a schedule whose first catch-up fails (the database is away at start) is armed all the same', async () => {
    const clock = new VirtualClock(at('2026-03-02T05:59:58Z'));
    const shared = sharedDatabase();
    const scheduler = node(shared, clock, [definition('daily', '0 6 * * *')]);
    shared.db.down = true;
    await scheduler.sync();
    await advanceTo(clock, at('2026-03-02T06:00:30Z'), (now) => (shared.db.down = now < at('2026-03-02T06:00:05Z')));
    scheduler.stop();
    // It existed before 06:00 (since sync), so the 06:00 tick is its own even though its mark was written after.
    assert.deepEqual([...shared.db.runs.keys()], ['daily@2026-03-02T06:00:00.000Z']);
  });

  test('a start that outlasts the next tick (a query that hung) is followed at once by the tick it passed', async () => {
    const clock = new VirtualClock(at('2026-03-02T04:12:20Z'));
    const shared = sharedDatabase();
    let hang: (() => void) | undefined;
    const engine = shared.engineFor([definition('every15s', '*/15 * * * * *')]);
    const submit = engine.submitRun.bind(engine);
    engine.submitRun = async (run) => {
      if (run.id.endsWith('04:12:30.000Z') && !hang) await new Promise<void>((resolve) => (hang = resolve));
      return submit(run);
    };
    const scheduler = new Scheduler({ engine, store: shared.store, clock, logger: memoryLogger([]) });
    await scheduler.sync();
    await advanceTo(clock, at('2026-03-02T04:12:50Z'));
    hang?.();
    await flush();
    await advanceTo(clock, at('2026-03-02T04:12:51Z'));
    scheduler.stop();
    assert.deepEqual([...shared.db.runs.keys()], ['every15s@2026-03-02T04:12:30.000Z', 'every15s@2026-03-02T04:12:45.000Z']);
  });
});

test('a deployed version whose cron the scheduler cannot parse (deployed before deploys refused it) is logged and left out; the others run', async () => {
  const clock = new VirtualClock(at('2026-03-02T04:12:20Z'));
  const shared = sharedDatabase();
  const lines: LogEntry[] = [];
  const scheduler = node(shared, clock, [definition('broken', '0 6 * * 1-5x'), definition('every15s', '*/15 * * * * *')], lines);
  await scheduler.sync();
  await advanceTo(clock, at('2026-03-02T04:12:31Z'));
  scheduler.stop();
  assert.deepEqual([...shared.db.runs.keys()], ['every15s@2026-03-02T04:12:30.000Z']);
  const error = lines.find((line) => line.level === 'error');
  assert.equal(
    error?.message,
    `the cron trigger "0 6 * * 1-5x" of workflow 'broken' cannot be scheduled; fix it in the workflow's file and deploy it again`,
  );
  assert.deepEqual([error?.data.workflow, error?.data.version], ['broken', 'broken-v1']);
});

function withTriggers(
  name: string,
  version: string,
  triggers: Array<{ cron: string; input?: Record<string, string> } | { event: string }>,
): DeployedDefinition {
  return { version, name, manifest: { name, triggers, permissions: {}, validatesInput: false }, bundle: '', deployedAt: 0 };
}

describe('schedules across deploys', () => {
  test('two cron triggers of one workflow that fire at the same tick start a run each, with its own input', async () => {
    const clock = new VirtualClock(at('2026-03-02T04:00:30Z'));
    const shared = sharedDatabase();
    const twice = withTriggers('reports', 'v1', [
      { cron: '* * * * *', input: { tag: 'every minute' } },
      { cron: '*/2 * * * *', input: { tag: 'every other minute' } },
    ]);
    const scheduler = node(shared, clock, [twice]);
    await scheduler.sync();
    await advanceTo(clock, at('2026-03-02T04:02:00Z'));
    scheduler.stop();
    assert.deepEqual([...shared.db.runs.values()].map((run) => [run.id, run.input]).sort(), [
      ['reports:2@2026-03-02T04:02:00.000Z', { tag: 'every other minute' }],
      ['reports@2026-03-02T04:01:00.000Z', { tag: 'every minute' }],
      ['reports@2026-03-02T04:02:00.000Z', { tag: 'every minute' }],
    ]);
  });

  test('a version that gives the same pattern another input starts the next tick with it', async () => {
    const clock = new VirtualClock(at('2026-03-02T04:00:30Z'));
    const shared = sharedDatabase();
    const deployed = [withTriggers('reports', 'v1', [{ cron: '* * * * *', input: { tag: 'old' } }])];
    const scheduler = node(shared, clock, deployed);
    await scheduler.sync();
    await advanceTo(clock, at('2026-03-02T04:01:30Z'));
    deployed[0] = withTriggers('reports', 'v2', [{ cron: '* * * * *', input: { tag: 'new' } }]);
    await scheduler.sync();
    await advanceTo(clock, at('2026-03-02T04:02:30Z'));
    scheduler.stop();
    assert.deepEqual(
      [...shared.db.runs.values()].map((run) => [run.version, run.input]),
      [
        ['v1', { tag: 'old' }],
        ['v2', { tag: 'new' }],
      ],
    );
  });

  test('a cron trigger that an event trigger now comes before is the same schedule: the tick it missed while down still fires', async () => {
    const clock = new VirtualClock(at('2026-03-02T05:00:00Z'));
    const shared = sharedDatabase();
    const before = withTriggers('digest', 'v1', [{ cron: '0 6 * * *' }]);
    const first = node(shared, clock, [before]);
    await first.deployed(undefined, before);
    await first.sync();
    first.stop();
    // Down across the 06:00 tick; back with a version that reacts to an event too, listed first.
    clock.advanceTo(at('2026-03-02T07:00:00Z'));
    const after = withTriggers('digest', 'v2', [{ event: 'com.example.poke' }, { cron: '0 6 * * *' }]);
    const second = node(shared, clock, [after]);
    await second.deployed(before, after);
    await second.sync();
    await flush();
    second.stop();
    assert.deepEqual([...shared.db.runs.keys()], ['digest@2026-03-02T06:00:00.000Z']);
  });

  test('a workflow restored after it was retired does not start a run for a tick that passed meanwhile; after downtime it does', async () => {
    const clock = new VirtualClock(at('2026-03-02T05:00:00Z'));
    const shared = sharedDatabase();
    const daily = withTriggers('digest', 'v1', [{ cron: '0 6 * * *' }]);
    const deployed: DeployedDefinition[] = [daily];
    const scheduler = node(shared, clock, deployed);
    await scheduler.deployed(undefined, daily);
    await scheduler.sync();
    await advanceTo(clock, at('2026-03-02T07:00:00Z'));
    deployed.length = 0;
    await scheduler.sync();
    await advanceTo(clock, at('2026-03-05T07:00:00Z'));
    deployed.push(daily);
    await scheduler.deployed(undefined, daily);
    await scheduler.sync();
    await flush();
    assert.deepEqual([...shared.db.runs.keys()], ['digest@2026-03-02T06:00:00.000Z'], 'nothing for the days it was retired');
    // Down from here, the same version still deployed: the tick it missed starts once when it is back.
    scheduler.stop();
    clock.advanceTo(at('2026-03-07T09:00:00Z'));
    const restarted = node(shared, clock, deployed);
    await restarted.sync();
    await flush();
    restarted.stop();
    assert.deepEqual([...shared.db.runs.keys()], ['digest@2026-03-02T06:00:00.000Z', 'digest@2026-03-07T06:00:00.000Z']);
  });
});

describe('a tick whose run id is taken', () => {
  const squatter = (id: string, fields: Partial<NewRun>): NewRun => ({
    id,
    workflow: 'team-b',
    version: 'team-b-v1',
    input: null,
    createdAt: 0,
    ...fields,
  });

  test("a run the schedule did not start under a tick's id is a warning naming the workflow, the tick and that run", async () => {
    const clock = new VirtualClock(at('2026-12-07T14:00:00Z'));
    const shared = sharedDatabase();
    const tick = '2026-12-07T14:07:00.000Z';
    // Runs started through the API under the schedule's ids before the tick, as POST /api/v1/runs used to allow.
    shared.db.runs.set(`cron-wf@${tick}`, squatter(`cron-wf@${tick}`, { createdAt: at('2026-12-07T14:01:00Z') }));
    const lines: LogEntry[] = [];
    const scheduler = node(shared, clock, [definition('cron-wf', '7 14 * * *')], lines);
    await scheduler.sync();
    await advanceTo(clock, at('2026-12-07T14:08:00Z'));
    scheduler.stop();
    const warnings = lines.filter((line) => line.level === 'warn');
    assert.deepEqual(
      warnings.map((line) => line.data),
      [{ workflow: 'cron-wf', tick, runId: `cron-wf@${tick}`, runWorkflow: 'team-b' }],
    );
    assert.equal(
      warnings[0]?.message,
      `no run of cron-wf was started for ${tick}: its id cron-wf@${tick} is taken by a run the schedule did not start ` +
        "(of workflow team-b, created 2026-12-07T14:01:00.000Z); ids ending in @ and an ISO time are the schedules' own",
    );
  });

  test('a run of the same workflow created before its tick was not started by the schedule either', async () => {
    const clock = new VirtualClock(at('2026-12-07T14:00:00Z'));
    const shared = sharedDatabase();
    const tick = '2026-12-07T14:07:00.000Z';
    shared.db.runs.set(`cron-wf@${tick}`, squatter(`cron-wf@${tick}`, { workflow: 'cron-wf', createdAt: at('2026-12-07T14:02:00Z') }));
    const lines: LogEntry[] = [];
    const scheduler = node(shared, clock, [definition('cron-wf', '7 14 * * *')], lines);
    await scheduler.sync();
    await advanceTo(clock, at('2026-12-07T14:08:00Z'));
    scheduler.stop();
    assert.deepEqual(
      lines.filter((line) => line.level === 'warn').map((line) => line.data),
      [{ workflow: 'cron-wf', tick, runId: `cron-wf@${tick}`, runWorkflow: 'cron-wf' }],
    );
  });

  test('the run another node started for the same tick is its own: no warning', async () => {
    const clock = new VirtualClock(at('2026-12-07T14:00:00Z'));
    const shared = sharedDatabase();
    const lines: LogEntry[] = [];
    const nodes = [
      node(shared, clock, [definition('cron-wf', '7 14 * * *')], lines),
      node(shared, clock, [definition('cron-wf', '7 14 * * *')], lines),
    ];
    for (const scheduler of nodes) await scheduler.sync();
    await advanceTo(clock, at('2026-12-07T14:08:00Z'));
    for (const scheduler of nodes) scheduler.stop();
    assert.deepEqual([...shared.db.runs.keys()], ['cron-wf@2026-12-07T14:07:00.000Z']);
    assert.deepEqual(
      lines.filter((line) => line.level === 'warn'),
      [],
    );
  });
});
