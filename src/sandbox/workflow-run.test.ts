import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CloudEvent, Command, DeployedDefinition } from '../core/model.js';
import { createQuickJsSandbox } from './quickjs-sandbox.js';
import { T0, deploy, durable, ending, resume, runThrough, startActivation, workflowFolder } from './test-support.js';

const sandbox = await createQuickJsSandbox();
const folder = workflowFolder();
after(() => folder.remove());

async function define(name: string, source: string): Promise<DeployedDefinition> {
  return deploy(sandbox, folder.write(name, source));
}

describe('a workflow run, activation by activation', () => {
  let definition: DeployedDefinition;
  before(async () => {
    definition = await define(
      'order.ts',
      `import { workflow, http, sleep, waitFor, race, now } from 'autoflow';
export default workflow({
  name: 'order',
  async run(input: { id: number }) {
    const [page, _] = await Promise.all([
      http.request({ url: 'https://shop.example/orders/' + input.id }, { retry: { maxAttempts: 3 } }),
      sleep('90s'),
    ]);
    const first = await race({
      paid: waitFor('shop.order_paid', { match: { 'data.id': input.id }, timeout: '2h' }),
      reminder: sleep('15m'),
    });
    return { status: page.status, first: first.key, at: now().toISOString() };
  },
});
`,
    );
  });

  test('issues the calls, timers and waits in order, and completes when they resolve', () => {
    const instance = sandbox.createInstanceNow(definition, { runId: 'order-1', seed: 'order-1' });
    try {
      const first = instance.activateNow(startActivation({ id: 7 })).commands;
      assert.deepEqual(
        first.map(({ site: _site, ...rest }: Command & { site?: string }) => rest),
        [
          {
            kind: 'call',
            step: 1,
            capability: 'http',
            method: 'request',
            args: { url: 'https://shop.example/orders/7' },
            options: { retry: { maxAttempts: 3 } },
          },
          { kind: 'timer', step: 2, fireAt: T0 + 90_000 },
        ],
      );

      // Only the call resolved: Promise.all still waits for the timer.
      const time2 = T0 + 5_000;
      assert.deepEqual(
        instance.activateNow(resume([{ kind: 'call', step: 1, ok: true, value: { status: 200, headers: {}, body: '' } }], time2)).commands,
        [],
      );

      const time3 = T0 + 90_000;
      const third = durable(instance.activateNow(resume([{ kind: 'timer', step: 2 }], time3)).commands);
      assert.deepEqual(
        third.map(({ site: _site, ...rest }: Command & { site?: string }) => rest),
        [
          { kind: 'wait', step: 3, eventType: 'shop.order_paid', match: { 'data.id': 7 }, timeoutAt: time3 + 7_200_000 },
          { kind: 'timer', step: 4, fireAt: time3 + 900_000 },
        ],
      );

      const time4 = time3 + 60_000;
      const event = { specversion: '1.0' as const, id: 'e1', source: 'shop', type: 'shop.order_paid', data: { id: 7 } };
      const last = instance.activateNow(resume([{ kind: 'wait', step: 3, event }], time4)).commands;
      assert.deepEqual(last, [{ kind: 'complete', result: { status: 200, first: 'paid', at: new Date(time4).toISOString() } }]);
    } finally {
      instance.dispose();
    }
  });

  test('every durable command names the line of the workflow source that issued it', () => {
    const [commands] = runThrough(sandbox, definition, [startActivation({ id: 1 })]);
    assert.deepEqual(
      (commands ?? []).map((command) => ('site' in command ? command.site?.replace(/:\d+$/, '') : undefined)),
      ['order.ts:6', 'order.ts:7'],
    );
  });

  test('a timed-out wait resolves to null and the race goes to the other branch', () => {
    const commands = runThrough(sandbox, definition, [
      startActivation({ id: 1 }),
      resume([
        { kind: 'call', step: 1, ok: true, value: { status: 404, headers: {}, body: '' } },
        { kind: 'timer', step: 2 },
      ]),
      resume([{ kind: 'timer', step: 4 }], T0 + 2_000),
    ]);
    assert.deepEqual(ending(commands[2] ?? []), {
      kind: 'complete',
      result: { status: 404, first: 'reminder', at: new Date(T0 + 2_000).toISOString() },
    });
  });

  test('a resolution for a step that does not exist, or was already settled, is ignored', () => {
    const commands = runThrough(sandbox, definition, [
      startActivation({ id: 1 }),
      resume([
        { kind: 'timer', step: 99 },
        { kind: 'timer', step: 2 },
        { kind: 'timer', step: 2 },
      ]),
    ]);
    assert.deepEqual(commands[1], []);
  });
});

describe('failures', () => {
  test('a failed call rejects with the remote name, message and details, so authors can match on the name', async () => {
    const definition = await define(
      'catcher.ts',
      `import { workflow, http } from 'autoflow';
export default workflow({
  name: 'catcher',
  async run() {
    try {
      await http.request({ url: 'https://down.example' });
      return 'unreachable';
    } catch (e: any) {
      return { name: e.name, message: e.message, details: e.details, isError: e instanceof Error };
    }
  },
});
`,
    );
    const commands = runThrough(sandbox, definition, [
      startActivation(null),
      resume([
        {
          kind: 'call',
          step: 1,
          ok: false,
          error: { name: 'HttpError', message: 'connect ECONNREFUSED', details: { status: 503 } },
        },
      ]),
    ]);
    assert.deepEqual(ending(commands[1] ?? []), {
      kind: 'complete',
      result: { name: 'HttpError', message: 'connect ECONNREFUSED', details: { status: 503 }, isError: true },
    });
  });

  test("an uncaught error fails the run with a stack that points at the author's TypeScript line", async () => {
    const definition = await define(
      'thrower.ts',
      `import { workflow } from 'autoflow';

function check(order: { total: number }): void {
  if (order.total < 0) {
    throw new RangeError('negative total: ' + order.total);
  }
}

export default workflow({
  name: 'thrower',
  async run(input: { total: number }) {
    check(input);
    return 'fine';
  },
});
`,
    );
    const [commands] = runThrough(sandbox, definition, [startActivation({ total: -5 })]);
    const failed = ending(commands ?? []);
    assert.equal(failed?.kind, 'fail');
    assert.ok(failed?.kind === 'fail');
    assert.equal(failed.error.name, 'RangeError');
    assert.equal(failed.error.message, 'negative total: -5');
    const lines = failed.error.stack?.split('\n') ?? [];
    assert.equal(lines[0], 'RangeError: negative total: -5');
    assert.match(lines[1] ?? '', /^ {4}at check \(thrower\.ts:5:\d+\)$/);
    assert.match(lines[2] ?? '', /thrower\.ts:12:\d+/);
    assert.ok(!failed.error.stack?.includes('autoflow:'), 'SDK frames are left out');
  });

  test('invalid durations and non-JSON arguments fail with a message that says what to write instead', async () => {
    const definition = await define(
      'mistakes.ts',
      `import { workflow, sleep, callCapability } from 'autoflow';
export default workflow({
  name: 'mistakes',
  async run() {
    const messages: string[] = [];
    for (const attempt of [() => sleep('5 minutes'), () => sleep(-1), () => callCapability('x', 'y', { n: 10n } as any)]) {
      try { await attempt(); } catch (e: any) { messages.push(e.name + ': ' + e.message); }
    }
    return messages;
  },
});
`,
    );
    const [commands] = runThrough(sandbox, definition, [startActivation(null)]);
    const result = ending(commands ?? []);
    assert.ok(result?.kind === 'complete');
    const [minutes, negative, bigint] = result.result as string[];
    assert.match(minutes ?? '', /^TypeError: Invalid duration '5 minutes': use milliseconds or a string like '500ms', '90s'/);
    assert.match(negative ?? '', /^TypeError: Invalid duration -1/);
    assert.match(bigint ?? '', /^TypeError: x\.y\(\): its arguments are not JSON-serialisable/);
    assert.deepEqual(durable(commands ?? []), [result], 'no command was issued for the mistakes');
  });

  test('a result that is not JSON fails the run instead of losing data', async () => {
    const definition = await define(
      'bigint.ts',
      `import { workflow } from 'autoflow';
export default workflow({ name: 'bigint', async run() { return { n: 1n }; } });
`,
    );
    const [commands] = runThrough(sandbox, definition, [startActivation(null)]);
    const failed = ending(commands ?? []);
    assert.ok(failed?.kind === 'fail');
    assert.match(failed.error.message, /result is not JSON-serialisable/);
  });
});

describe('child workflows', () => {
  test('startChild gives the handle at once, with a deterministic id; result() settles with the child', async () => {
    const definition = await define(
      'parent.ts',
      `import { workflow, startChild, executeChild } from 'autoflow';
export default workflow({
  name: 'parent',
  async run() {
    const handle = await startChild('child', { n: 1 });
    const named = await startChild('child', { n: 2 }, { id: 'my-child' });
    let failure = '';
    try { await executeChild('child', { n: 3 }); } catch (e: any) { failure = e.name + ': ' + e.message; }
    return { ids: [handle.id, named.id], results: [await handle.result(), await named.result()], failure };
  },
});
`,
    );
    const commands = runThrough(
      sandbox,
      definition,
      [
        startActivation(null),
        resume([
          { kind: 'child', step: 3, ok: false, error: { name: 'ChildFailed', message: 'it broke' } },
          { kind: 'child', step: 1, ok: true, value: 'one' },
          { kind: 'child', step: 2, ok: true, value: 'two' },
        ]),
      ],
      'parent-run',
    );
    assert.deepEqual(
      durable(commands[0] ?? []).map(({ site: _site, ...rest }: Command & { site?: string }) => rest),
      [
        { kind: 'child', step: 1, workflow: 'child', input: { n: 1 }, childId: 'parent-run.1' },
        { kind: 'child', step: 2, workflow: 'child', input: { n: 2 }, childId: 'my-child' },
        { kind: 'child', step: 3, workflow: 'child', input: { n: 3 }, childId: 'parent-run.3' },
      ],
    );
    assert.deepEqual(ending(commands[1] ?? []), {
      kind: 'complete',
      result: { ids: ['parent-run.1', 'my-child'], results: ['one', 'two'], failure: 'ChildFailed: it broke' },
    });
  });
});

describe('signals', () => {
  test('a signal wait is addressed to the run by subject, and signal() returns the payload', async () => {
    const definition = await define(
      'approval.ts',
      `import { workflow, signal, waitFor } from 'autoflow';
export default workflow({
  name: 'approval',
  async run() {
    const decision = await signal<{ approved: boolean }>('approve', { timeout: '1d' });
    const other = await waitFor('autoflow.signal.note', { match: { subject: 'someone-else' } });
    return { decision, other: other?.data ?? null };
  },
});
`,
    );
    const event = (type: string, data: unknown) => ({ specversion: '1.0' as const, id: type, source: 'api', type, data: data as never });
    const commands = runThrough(
      sandbox,
      definition,
      [
        startActivation(null),
        resume([{ kind: 'wait', step: 1, event: event('autoflow.signal.approve', { approved: true }) }]),
        resume([{ kind: 'wait', step: 2, event: event('autoflow.signal.note', 'hi') }]),
      ],
      'approval-7',
    );
    const [wait1] = durable(commands[0] ?? []);
    const [wait2] = durable(commands[1] ?? []);
    assert.ok(wait1?.kind === 'wait' && wait2?.kind === 'wait');
    assert.deepEqual(wait1.match, { subject: 'approval-7' });
    assert.equal(wait1.timeoutAt, T0 + 86_400_000);
    assert.deepEqual(wait2.match, { subject: 'someone-else' }, 'an explicit subject is kept');
    assert.deepEqual(ending(commands[2] ?? []), { kind: 'complete', result: { decision: { approved: true }, other: 'hi' } });
  });
});

describe('cancellation', () => {
  test('pending operations reject with CancelledError, finally blocks can still call out, and the run ends cancelled', async () => {
    const definition = await define(
      'cancellable.ts',
      `import { workflow, sleep, activities } from 'autoflow';
export default workflow({
  name: 'cancellable',
  async run() {
    try {
      await sleep('7d');
    } catch (e: any) {
      await activities.record({ caught: e.name });
      throw e;
    } finally {
      await activities.cleanUp({ reason: 'done' });
    }
  },
});
`,
    );
    const commands = runThrough(sandbox, definition, [
      startActivation(null),
      resume([{ kind: 'cancel', reason: 'operator request' }]),
      resume([{ kind: 'call', step: 2, ok: true, value: null }]),
      resume([{ kind: 'call', step: 3, ok: true, value: null }]),
    ]);
    assert.deepEqual(
      (commands[1] ?? []).map((command) => command.kind === 'call' && [command.method, command.args]),
      [['record', { caught: 'CancelledError' }]],
    );
    assert.deepEqual(
      (commands[2] ?? []).map((command) => command.kind === 'call' && [command.method, command.args]),
      [['cleanUp', { reason: 'done' }]],
    );
    assert.deepEqual(commands[3], [{ kind: 'cancelled', reason: 'operator request' }], 'the run ends cancelled, saying why');
  });

  test('a run that handles the cancellation and returns normally completes', async () => {
    const definition = await define(
      'stubborn.ts',
      `import { workflow, sleep } from 'autoflow';
export default workflow({
  name: 'stubborn',
  async run() {
    try { await sleep('1d'); return 'slept'; } catch { return 'cancelled, but finished cleanly'; }
  },
});
`,
    );
    const commands = runThrough(sandbox, definition, [startActivation(null), resume([{ kind: 'cancel' }])]);
    assert.deepEqual(commands[1], [{ kind: 'complete', result: 'cancelled, but finished cleanly' }]);
  });
});

describe('continueAsNew', () => {
  test('ends the run with a continueAsNew command carrying the new input', async () => {
    const definition = await define(
      'looper.ts',
      `import { workflow, continueAsNew } from 'autoflow';
export default workflow({
  name: 'looper',
  async run(input: { round: number }) {
    if (input.round < 3) continueAsNew({ round: input.round + 1 });
    return 'done';
  },
});
`,
    );
    assert.deepEqual(runThrough(sandbox, definition, [startActivation({ round: 1 })])[0], [{ kind: 'continueAsNew', input: { round: 2 } }]);
    assert.deepEqual(runThrough(sandbox, definition, [startActivation({ round: 3 })])[0], [{ kind: 'complete', result: 'done' }]);
  });

  test('hands the successor the signals the run received and never took, not those it took', async () => {
    const definition = await define(
      'relay.ts',
      `import { workflow, continueAsNew, race, signal, sleep } from 'autoflow';
export default workflow({
  name: 'relay',
  async run() {
    const taken = await signal('go');
    // The signal() of this race loses to the timer; the signals its wait brings afterwards are kept.
    await race({ signal: signal('go'), timer: sleep('1m') });
    await sleep('1m');
    continueAsNew({ taken });
  },
});
`,
    );
    const go = (id: string): CloudEvent => ({
      specversion: '1.0',
      id,
      source: 'autoflow:api',
      type: 'autoflow.signal.go',
      subject: 'run-1',
      data: id,
    });
    const commands = runThrough(sandbox, definition, [
      startActivation(null),
      resume([{ kind: 'wait', step: 1, event: go('first') }]),
      resume([{ kind: 'timer', step: 3 }]),
      resume([
        { kind: 'wait', step: 2, event: go('second') },
        { kind: 'timer', step: 4 },
      ]),
    ]);
    assert.deepEqual(ending(commands[3]!), {
      kind: 'continueAsNew',
      input: { taken: 'first' },
      carry: [{ source: 'autoflow:api', id: 'second' }],
    });
  });
});

describe('logging', () => {
  let definition: DeployedDefinition;
  before(async () => {
    definition = await define(
      'chatty.ts',
      `import { workflow, log, sleep } from 'autoflow';
export default workflow({
  name: 'chatty',
  async run() {
    console.log('hello', { a: 1 }, 2);
    log.warn('careful', new TypeError('bad'));
    await sleep(1000);
    console.error('after the timer');
    return 'ok';
  },
});
`,
    );
  });

  test('console and log become log commands', () => {
    const commands = runThrough(sandbox, definition, [startActivation(null), resume([{ kind: 'timer', step: 1 }])]);
    assert.deepEqual(
      commands.flat().filter((command) => command.kind === 'log'),
      [
        { kind: 'log', level: 'info', message: 'hello {"a":1} 2' },
        { kind: 'log', level: 'warn', message: 'careful TypeError: bad' },
        { kind: 'log', level: 'error', message: 'after the timer' },
      ],
    );
  });

  test('a replay does not log again', () => {
    const commands = runThrough(sandbox, definition, [
      { ...startActivation(null), replaying: true },
      { ...resume([{ kind: 'timer', step: 1 }]), replaying: true },
    ]);
    assert.equal(commands.flat().filter((command) => command.kind === 'log').length, 0);
    assert.deepEqual(ending(commands[1] ?? []), { kind: 'complete', result: 'ok' });
  });
});
