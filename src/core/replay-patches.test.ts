/**
 * Patch markers in replay: `patched(id)` → `deprecatePatch(id)` → no call at all (docs/engine.md,
 * "Changing a workflow's code"). A recorded marker the code no longer asks about is skipped; code
 * that still asks is held to where the run asked, so that a run that took the new branch never
 * replays the old one.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createQuickJsSandbox } from '../sandbox/quickjs-sandbox.js';
import { T0, deploy, workflowFolder } from '../sandbox/test-support.js';
import { NondeterminismError } from './errors.js';
import { commandToHistory, resolutionToHistory } from './history.js';
import type { Command, DeployedDefinition, HistoryEvent, HistoryPayload, Json, Resolution } from './model.js';
import type { WorkflowInstance } from './ports.js';
import { replayHistory } from './replay.js';

const sandbox = await createQuickJsSandbox();
const folder = workflowFolder();
after(() => folder.remove());

/** A workflow named 'ver' whose run() is `body`; every version of it is a file of its own. */
function version(file: string, body: string): string {
  return folder.write(
    file,
    `import { activities, deprecatePatch, patched, sleep, workflow } from 'autoflow';
export default workflow({
  name: 'ver',
  permissions: { activities: ['record', 'other'] },
  async run() {
${body}
    return 'done';
  },
});
`,
  );
}

const BEFORE = "    await activities.record('a');\n    await sleep('3s');\n";
const SOURCES = {
  old: `${BEFORE}    await activities.record('old');`,
  patched: `${BEFORE}    if (patched('fix')) await activities.record('fixed');\n    else await activities.record('old');`,
  deprecated: `${BEFORE}    deprecatePatch('fix');\n    await activities.record('fixed');`,
  removed: `${BEFORE}    await activities.record('fixed');`,
  // Still asks, in the first task instead of the third.
  askedEarlier: `    const fix = patched('fix');\n${BEFORE}    await activities.record(fix ? 'fixed' : 'old');`,
  // Still asks, in the last task instead of the third.
  askedLater: `${BEFORE}    await activities.record('fixed');\n    if (patched('fix')) await activities.record('again');`,
  // Still asks where the run did, but its new branch calls something else now.
  newBranchChanged: `${BEFORE}    if (patched('fix')) await activities.other('fixed');\n    else await activities.record('old');`,
};
type Name = keyof typeof SOURCES;
const definitions = {} as Record<Name, DeployedDefinition>;

/** Runs `definition` live to its end (calls answer with their arguments, timers fire at once) and writes its history. */
function record(definition: DeployedDefinition, runId: string): HistoryEvent[] {
  const history: HistoryEvent[] = [];
  const push = (payload: HistoryPayload, at: number) => history.push({ ...payload, seq: history.length, at });
  push({ type: 'run_started', workflow: definition.name, version: definition.version, input: null }, T0);
  const instance = sandbox.createInstanceNow(definition, { runId, seed: runId });
  try {
    let resolutions: Resolution[] = [];
    for (let task = 0; ; task++) {
      const time = T0 + task * 1000;
      for (const resolution of resolutions) push(resolutionToHistory(resolution, undefined), time);
      push({ type: 'workflow_task', time }, time);
      const { commands } = instance.activateNow({ time, ...(task === 0 ? { start: { input: null } } : {}), resolutions, replaying: false });
      resolutions = [];
      for (const command of commands) {
        const payload = commandToHistory(command);
        if (payload) push(payload, time);
        if (command.kind === 'timer') resolutions.push({ kind: 'timer', step: command.step });
        if (command.kind === 'call') resolutions.push({ kind: 'call', step: command.step, ok: true, value: command.args });
      }
      if (resolutions.length === 0) return history;
    }
  } finally {
    instance.dispose();
  }
}

/** `history` replayed against the code of `name`: the commands it issued, or the divergence it threw. */
async function replayAgainst(name: Name, history: HistoryEvent[]): Promise<Command[] | NondeterminismError> {
  const instance = sandbox.createInstanceNow(definitions[name], { runId: 'run-1', seed: 'run-1' });
  try {
    return (await replayHistory(instance, history, { runId: 'run-1', workflow: 'ver' })).commands;
  } catch (caught) {
    if (caught instanceof NondeterminismError) return caught;
    throw caught;
  } finally {
    instance.dispose();
  }
}

function recordedArgs(commands: Command[] | NondeterminismError): unknown[] {
  assert.ok(Array.isArray(commands), commands instanceof Error ? commands.message : '');
  return commands.flatMap((command) => (command.kind === 'call' ? [command.args] : []));
}

/** What a replay that should have diverged threw: the report's fields. */
function divergenceOf(outcome: Command[] | NondeterminismError): { message: string; details: Record<string, Json> } {
  assert.ok(outcome instanceof NondeterminismError, 'the replay passed, but it should have diverged');
  return { message: outcome.message, details: outcome.details as Record<string, Json> };
}

/** The call site (`file:line:column`) of `text` in the file of `name`: where `text` begins. */
function siteIn(name: Name, text: string): string {
  const lines = (sources.get(name) ?? '').split('\n');
  const line = lines.findIndex((candidate) => candidate.includes(text));
  assert.ok(line >= 0, `${name}.ts has no ${text}`);
  return `${name}.ts:${line + 1}:${(lines[line] as string).indexOf(text) + 1}`;
}

/**
 * The code's marker line: `patched('fix')`, and its call site once the SDK's patch command carries
 * one (the runtime does not add it yet; replay shows it when it is there, see the last test).
 */
function assertPatchLine(got: Json | undefined, name: Name): void {
  const line = "patched('fix')";
  assert.ok(got === line || got === `${line} at ${siteIn(name, line)}`, `the marker's line is ${JSON.stringify(got)}`);
}

const sources = new Map<Name, string>();
let withMarker: HistoryEvent[];
let withoutMarker: HistoryEvent[];
let fromDeprecated: HistoryEvent[];

before(async () => {
  for (const name of Object.keys(SOURCES) as Name[]) {
    const path = version(`${name}.ts`, SOURCES[name]);
    sources.set(name, readFileSync(path, 'utf8'));
    definitions[name] = await deploy(sandbox, path);
  }
  withMarker = record(definitions.patched, 'run-1');
  withoutMarker = record(definitions.old, 'run-1');
  fromDeprecated = record(definitions.deprecated, 'run-1');
});

describe('replaying patch markers', () => {
  test('a live run of patched() or deprecatePatch() records the marker in the task that asked', () => {
    const types = (history: HistoryEvent[]) => history.filter((event) => event.type !== 'workflow_task').map((event) => event.type);
    const expected = ['run_started', 'call_scheduled', 'call_completed', 'timer_started', 'timer_fired', 'patch_marker', 'call_scheduled'];
    assert.deepEqual(types(withMarker).slice(0, 7), expected);
    assert.deepEqual(types(fromDeprecated).slice(0, 7), expected);
    assert.deepEqual(types(withoutMarker).slice(0, 6), [...expected.slice(0, 5), 'call_scheduled']);
  });

  test('code that no longer calls patched() replays a run that recorded the marker: the marker is skipped', async () => {
    assert.deepEqual(recordedArgs(await replayAgainst('removed', withMarker)), ['a', 'fixed']);
    assert.deepEqual(recordedArgs(await replayAgainst('removed', fromDeprecated)), ['a', 'fixed']);
  });

  test('deprecatePatch() replays runs with the marker and runs without it', async () => {
    assert.deepEqual(recordedArgs(await replayAgainst('deprecated', withMarker)), ['a', 'fixed']);
    // A run that asked before the patch existed: the arguments differ, and arguments are not compared.
    assert.deepEqual(recordedArgs(await replayAgainst('deprecated', withoutMarker)), ['a', 'fixed']);
    // A run still sleeping when it is replayed, that has not got to the patch yet.
    const sleeping = withMarker.slice(
      0,
      withMarker.findIndex((event) => event.type === 'timer_fired'),
    );
    assert.deepEqual(recordedArgs(await replayAgainst('deprecated', sleeping)), ['a']);
  });

  test('code that calls patched() takes the new branch for a run that deprecatePatch() recorded', async () => {
    assert.deepEqual(recordedArgs(await replayAgainst('patched', fromDeprecated)), ['a', 'fixed']);
    assert.deepEqual(recordedArgs(await replayAgainst('patched', withoutMarker)), ['a', 'old']);
  });

  test('code that asks patched() in an earlier task than the run did diverges there, instead of taking the old branch', async () => {
    const error = divergenceOf(await replayAgainst('askedEarlier', withMarker));
    assert.deepEqual(
      { task: error.details.task, step: error.details.step, expected: error.details.expected },
      { task: 1, step: 1, expected: `call activities.record (step 1) at ${siteIn('patched', "record('a')")}` },
    );
    assertPatchLine(error.details.got, 'askedEarlier');
    assert.match(error.message, /The run recorded patched\('fix'\) in workflow task 3: patched\(\) and deprecatePatch\(\) must be called/);
  });

  test('code that asks patched() in a later task than the run did diverges there', async () => {
    const error = divergenceOf(await replayAgainst('askedLater', withMarker));
    assert.deepEqual([error.details.task, error.details.expected], [4, 'completion of the run']);
    assertPatchLine(error.details.got, 'askedLater');
    assert.match(error.message, /The run recorded patched\('fix'\) in workflow task 3/);
  });

  test('code that still calls patched() where the run did is compared strictly, with both call sites', async () => {
    const error = divergenceOf(await replayAgainst('newBranchChanged', withMarker));
    const expectedSite = siteIn('patched', "record('fixed')");
    const gotSite = siteIn('newBranchChanged', "other('fixed')");
    assert.deepEqual(error.details, {
      runId: 'run-1',
      workflow: 'ver',
      task: 3,
      step: 3,
      expected: `call activities.record (step 3) at ${expectedSite}`,
      got: `call activities.other (step 3) at ${gotSite}`,
      sites: { expected: expectedSite, got: gotSite },
    });
  });

  test("a patch marker's line has the call site the code's patch command carries", async () => {
    const history: HistoryEvent[] = [
      { type: 'run_started', workflow: 'ver', version: 'v', input: null, seq: 0, at: T0 },
      { type: 'workflow_task', time: T0, seq: 1, at: T0 },
      { type: 'call_scheduled', step: 1, capability: 'activities', method: 'record', args: 'a', site: 'ver.ts:6:22', seq: 2, at: T0 },
    ];
    const commands = [
      { kind: 'patch', patchId: 'fix', site: 'ver.ts:5:9' } as Command,
      { kind: 'call', step: 1, capability: 'activities', method: 'record', args: 'a', site: 'ver.ts:6:22' } as Command,
    ];
    const instance: WorkflowInstance = {
      activate: () => Promise.reject(new Error('not used')),
      replay: (activations) => Promise.resolve({ results: activations.map(() => ({ commands })) }),
      memoryUsage: () => 0,
      dispose: () => {},
    };
    const error = divergenceOf(
      await replayHistory(instance, history, { runId: 'run-1', workflow: 'ver' }).then(
        (outcome) => outcome.commands,
        (caught: unknown) => caught as NondeterminismError,
      ),
    );
    assert.equal(error.details.got, "patched('fix') at ver.ts:5:9");
    assert.deepEqual(error.details.sites, { expected: 'ver.ts:6:22', got: 'ver.ts:5:9' });
  });
});
