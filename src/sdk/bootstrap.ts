/**
 * Sets the sandbox up for the workflow: the deterministic `Date` and `Math.random`, the run's
 * `console`, timers that explain themselves, and the protocol functions the host calls.
 *
 * This module works by its side effects at import: the bundler makes it the very first module
 * of every workflow bundle, so no workflow code — nor any library it imports — runs before the
 * globals are deterministic. Only bundles import it; importing 'autoflow' elsewhere (Node tests)
 * changes no global.
 */
import type { Activation, Json } from '../core/model.js';
import { createDeterministicDate } from './date.js';
import { NondeterministicApiError } from './errors.js';
import { createConsole } from './log.js';
import { PROTOCOL_GLOBALS, type InitPayload } from './protocol.js';
import { WorkflowRuntime, parseProtocolJson as parse, protocolReplyJson, setCurrentRuntime } from './runtime.js';

const runtime = new WorkflowRuntime();
setCurrentRuntime(runtime);

function defineGlobal(name: string, value: unknown): void {
  // Not writable: a workflow cannot clobber the protocol by accident (it could only hurt itself).
  Object.defineProperty(globalThis, name, { value, writable: false, enumerable: false, configurable: false });
}

function unavailable(name: string, instead: string): () => never {
  return () => {
    throw new NondeterministicApiError(`${name}() is not available in workflows: its timing is not deterministic. ${instead}`);
  };
}

// Until the entry registers the workflow module, its modules are being evaluated: no run exists, so there is no task
// time (it would be 1970) and no run's seed (every run would draw the same numbers).
let loading = true;
function inRun(api: string): WorkflowRuntime {
  if (loading) throw new NondeterministicApiError(`${api} at module scope has no run's time or seed: call it inside run()`);
  return runtime;
}

const global = globalThis as unknown as Record<string, unknown>;
global.Date = createDeterministicDate(Date, (api) => inRun(api).now());
Math.random = () => inRun('Math.random()').random();
global.console = createConsole();
global.queueMicrotask = (callback: () => void): void => {
  void Promise.resolve().then(callback);
};
global.setTimeout = unavailable('setTimeout', "Use `await sleep(ms)` from 'autoflow'.");
global.setInterval = unavailable('setInterval', "Use a loop with `await sleep(ms)` from 'autoflow'.");
global.setImmediate = unavailable('setImmediate', 'Use `await Promise.resolve()` to yield.');
// Clearing a timer that cannot exist is harmless; libraries call these in cleanup code.
global.clearTimeout = global.clearInterval = global.clearImmediate = (): void => {};

// With the SDK's own copies of JSON's functions (see runtime.ts): workflow code that replaces them changes nothing here.
defineGlobal(PROTOCOL_GLOBALS.init, (json: string) => runtime.init(parse(json) as InitPayload));
defineGlobal(PROTOCOL_GLOBALS.activate, (json: string) => runtime.activate(parse(json) as Activation));
defineGlobal(PROTOCOL_GLOBALS.collect, () => runtime.collect());
defineGlobal(PROTOCOL_GLOBALS.manifest, () => protocolReplyJson(runtime.manifest()));
defineGlobal(PROTOCOL_GLOBALS.checkInput, (json: string) => runtime.checkInput(parse(json) as Json));

/** Called by the bundle's entry with the workflow module's namespace. */
export function registerWorkflowModule(module: Record<string, unknown>): void {
  loading = false;
  runtime.registerModule(module);
}
