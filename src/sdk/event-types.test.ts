import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emit, waitFor, workflow } from './index.js';
import { WorkflowRuntime, setCurrentRuntime } from './runtime.js';

/** Runs `body` as a workflow's first task (the runtime is a pure state machine: no sandbox needed). */
function firstTask(body: () => unknown): { thrown: unknown; commands: Array<{ kind: string }> } {
  const runtime = new WorkflowRuntime();
  setCurrentRuntime(runtime);
  runtime.init({ runId: 'r', seed: 'r', workflow: 'w' });
  let thrown: unknown;
  runtime.registerModule({
    default: workflow({
      name: 'w',
      run: () => {
        try {
          body();
        } catch (error) {
          thrown = error;
        }
      },
    }),
  });
  runtime.activate({ time: 0, start: { input: null }, resolutions: [], replaying: false });
  return { thrown, commands: JSON.parse(runtime.collect()) as Array<{ kind: string }> };
}

for (const type of ['com.example.*', 'com.example.order created', ' com.example.x', 'com.example.\t']) {
  test(`waitFor and emit refuse the type ${JSON.stringify(type)} at the call site, saying that globs belong in triggers`, () => {
    for (const call of [() => waitFor(type), () => emit(type, { a: 1 })]) {
      const { thrown, commands } = firstTask(call);
      assert.ok(thrown instanceof TypeError, String(thrown));
      assert.match(thrown.message, /an event type has no '\*' or spaces; (waitFor|emit) takes one exact type/);
      assert.match(thrown.message, /Globs belong in a workflow's triggers/);
      assert.deepEqual(
        commands.filter((command) => command.kind === 'wait' || command.kind === 'call'),
        [],
        'no command was issued',
      );
    }
  });
}

test('an exact type is accepted', () => {
  const { thrown, commands } = firstTask(() => {
    void waitFor('com.example.approved', { match: { id: 1 } });
    void emit('com.example.approved', null);
  });
  assert.equal(thrown, undefined);
  assert.deepEqual(
    commands.map((command) => command.kind),
    ['wait', 'call'],
  );
});
