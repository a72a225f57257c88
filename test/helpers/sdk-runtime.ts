/**
 * For the SDK's own tests, which drive the workflow runtime in Node without a sandbox (it is a pure state machine:
 * each activation's resolutions in, its commands out). Importing this gives each test of the file a fresh runtime,
 * set as the current one and initialised as a sandbox's `init` does.
 */
import { beforeEach } from 'node:test';
import type { Command } from '../../src/core/model.js';
import { WorkflowRuntime, setCurrentRuntime } from '../../src/sdk/runtime.js';

const current: { runtime: WorkflowRuntime } = { runtime: new WorkflowRuntime() };

beforeEach(() => {
  current.runtime = new WorkflowRuntime();
  setCurrentRuntime(current.runtime);
  current.runtime.init({ runId: 'r', seed: 'r', workflow: 'w' });
});

/** The runtime of the test that is running. */
export const runtime = (): WorkflowRuntime => current.runtime;

/** The commands the current activation issued. */
export const collect = (): Command[] => JSON.parse(current.runtime.collect()) as Command[];
