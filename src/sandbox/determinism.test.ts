import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Activation, DeployedDefinition } from '../core/model.js';
import { createQuickJsSandbox } from './quickjs-sandbox.js';
import { T0, deploy, durable, ending, resume, runThrough, startActivation, workflowFolder } from './test-support.js';

const sandbox = await createQuickJsSandbox();
const folder = workflowFolder();
after(() => folder.remove());

describe('replay', () => {
  let definition: DeployedDefinition;
  before(async () => {
    definition = await deploy(
      sandbox,
      folder.write(
        'dice.ts',
        `import { workflow, sleep, uuid4, now } from 'autoflow';
export default workflow({
  name: 'dice',
  async run() {
    const seen: unknown[] = [];
    for (let round = 0; round < 3; round++) {
      seen.push({ now: Date.now(), date: new Date().toISOString(), task: now().getTime(), random: Math.random(), id: uuid4() });
      await sleep(Math.floor(Math.random() * 10_000));
    }
    return seen;
  },
});
`,
      ),
    );
  });

  const history: Activation[] = [
    startActivation(null, T0),
    resume([{ kind: 'timer', step: 1 }], T0 + 60_000),
    resume([{ kind: 'timer', step: 2 }], T0 + 120_000),
    resume([{ kind: 'timer', step: 3 }], T0 + 180_000),
  ];

  test('a run replayed from scratch in a fresh instance issues identical commands and sees identical time and randomness', () => {
    const original = runThrough(sandbox, definition, history, 'dice-1');
    const replayed = runThrough(
      sandbox,
      definition,
      history.map((activation) => ({ ...activation, replaying: true })),
      'dice-1',
    );
    assert.deepEqual(replayed, original);
    const result = ending(original[3] ?? []);
    assert.ok(result?.kind === 'complete');
    const rounds = result.result as Array<{ now: number; date: string; task: number; random: number; id: string }>;
    assert.deepEqual(
      rounds.map((round) => round.now),
      [T0, T0 + 60_000, T0 + 120_000],
      'Date.now() is the time of the workflow task',
    );
    assert.deepEqual(
      rounds.map((round) => round.date),
      rounds.map((round) => new Date(round.now).toISOString()),
    );
    assert.ok(rounds.every((round) => round.task === round.now));
    assert.equal(new Set(rounds.map((round) => round.random)).size, 3);
    assert.ok(rounds.every((round) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(round.id)));
  });

  test('another run (another seed) draws other numbers', () => {
    const first = ending(runThrough(sandbox, definition, history, 'dice-1')[3] ?? []);
    const second = ending(runThrough(sandbox, definition, history, 'dice-2')[3] ?? []);
    assert.ok(first?.kind === 'complete' && second?.kind === 'complete');
    assert.notDeepEqual(first.result, second.result);
  });
});

describe('Date', () => {
  test('local time is UTC whatever the time zone of the host, and explicit dates work normally', async () => {
    const definition = await deploy(
      sandbox,
      folder.write(
        'clock.ts',
        `import { workflow } from 'autoflow';
export default workflow({
  name: 'clock',
  async run() {
    const now = new Date();
    const explicit = new Date(2024, 0, 5, 14, 3, 9);
    return {
      hours: now.getHours(),
      offset: now.getTimezoneOffset(),
      text: String(explicit),
      local: explicit.toLocaleString(),
      parsed: Date.parse('2024-01-05T14:03:09'),
      iso: new Date('2024-01-05T14:03:09+02:00').toISOString(),
      fromNumber: new Date(0).toISOString(),
      called: typeof Date(),
      isDate: now instanceof Date,
    };
  },
});
`,
      ),
    );
    const previous = process.env.TZ;
    // QuickJS reads the host's time zone on every local-time conversion; a replay on a node in
    // another zone must still see the same values.
    process.env.TZ = 'America/New_York';
    try {
      const [commands] = runThrough(sandbox, definition, [startActivation(null, Date.UTC(2030, 5, 1, 23, 30))]);
      assert.deepEqual(ending(commands ?? []), {
        kind: 'complete',
        result: {
          hours: 23,
          offset: 0,
          text: 'Fri Jan 05 2024 14:03:09 GMT+0000',
          local: '01/05/2024, 02:03:09 PM',
          parsed: Date.UTC(2024, 0, 5, 14, 3, 9),
          iso: '2024-01-05T12:03:09.000Z',
          fromNumber: '1970-01-01T00:00:00.000Z',
          called: 'string',
          isDate: true,
        },
      });
    } finally {
      if (previous === undefined) delete process.env.TZ;
      else process.env.TZ = previous;
    }
  });
});

describe('Date.parse', () => {
  test('reads local time as UTC on any host, also at times the host skips for summer time, and keeps the zones it names', async () => {
    const definition = await deploy(
      sandbox,
      folder.write(
        'parse.ts',
        `import { workflow } from 'autoflow';
const read = (text: string) => { const value = Date.parse(text); return Number.isNaN(value) ? 'Invalid' : new Date(value).toISOString(); };
export default workflow({
  name: 'parse',
  async run(texts: string[]) { return texts.map(read); },
});
`,
      ),
    );
    const expected: Record<string, string> = {
      '2026-03-29T02:30:00': '2026-03-29T02:30:00.000Z',
      '2026-03-29 02:30': '2026-03-29T02:30:00.000Z',
      'March 29, 2026 02:30:00': '2026-03-29T02:30:00.000Z',
      '12/25/2026 10:00 PM': '2026-12-25T22:00:00.000Z',
      '29 March 2026': '2026-03-29T00:00:00.000Z',
      'July 15, 2026 12:00:00 EST': '2026-07-15T17:00:00.000Z',
      'July 15, 2026 12:00:00 cest': '2026-07-15T10:00:00.000Z',
      'Wed Jul 15 2026 12:00:00 GMT+0200 (Central European Summer Time)': '2026-07-15T10:00:00.000Z',
      '2026-07-15T12:00:00+02:00': '2026-07-15T10:00:00.000Z',
      'July 15, 2026 12:00:00 BST': 'Invalid',
    };
    const previous = process.env.TZ;
    try {
      for (const zone of ['Europe/Berlin', 'Australia/Sydney', 'UTC']) {
        process.env.TZ = zone;
        const [commands] = runThrough(sandbox, definition, [startActivation(Object.keys(expected))]);
        assert.deepEqual(ending(commands ?? []), { kind: 'complete', result: Object.values(expected) }, `on a host in ${zone}`);
      }
    } finally {
      if (previous === undefined) delete process.env.TZ;
      else process.env.TZ = previous;
    }
  });
});

describe('patched()', () => {
  let definition: DeployedDefinition;
  before(async () => {
    definition = await deploy(
      sandbox,
      folder.write(
        'versioned.ts',
        `import { workflow, patched, sleep, activities } from 'autoflow';
export default workflow({
  name: 'versioned',
  async run() {
    await sleep(1000);
    const fixed = patched('send-twice');
    if (fixed) await activities.notify({ copy: 1 });
    await activities.notify({ copy: 2 });
    return { fixed, again: patched('send-twice') };
  },
});
`,
      ),
    );
  });

  test('a live run takes the new branch and records the patch once', () => {
    const commands = runThrough(sandbox, definition, [startActivation(null), resume([{ kind: 'timer', step: 1 }])]);
    assert.deepEqual(
      (commands[1] ?? []).map((command) => command.kind),
      ['patch', 'call'],
    );
    // With the author's line, as every durable command has, for the replay report.
    assert.deepEqual(commands[1]?.[0], { kind: 'patch', patchId: 'send-twice', site: 'versioned.ts:6:19' });
  });

  test('a replay follows history: the old branch where no patch was recorded, the new one where it was', () => {
    const replay = (patches: string[]) =>
      runThrough(sandbox, definition, [
        { ...startActivation(null), replaying: true },
        { ...resume([{ kind: 'timer', step: 1 }]), replaying: true, patches },
        resume([{ kind: 'call', step: 2, ok: true, value: null }]),
        resume([{ kind: 'call', step: 3, ok: true, value: null }]),
      ]);
    const old = replay([]);
    assert.deepEqual(
      durable(old[1] ?? []).map((command) => command.kind === 'call' && command.args),
      [{ copy: 2 }],
    );
    assert.deepEqual(ending(old[2] ?? []), { kind: 'complete', result: { fixed: false, again: false } });

    const patchedRun = replay(['send-twice']);
    assert.deepEqual(patchedRun[1]?.[0], { kind: 'patch', patchId: 'send-twice', site: 'versioned.ts:6:19' });
    assert.deepEqual(ending(patchedRun[3] ?? []), { kind: 'complete', result: { fixed: true, again: true } });
  });
});
