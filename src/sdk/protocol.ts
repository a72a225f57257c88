/**
 * The host ↔ sandbox protocol. The SDK installs these global functions inside the sandbox; the
 * host (src/sandbox) calls them with JSON strings and reads JSON strings back. No host function is
 * exposed to the sandbox, so workflow code has no way out except the commands it returns.
 *
 * Both sides import this file: keep it plain data, free of I/O and of sandbox globals.
 */
import type { Json } from '../core/model.js';

export const PROTOCOL_GLOBALS = {
  /** `(init: InitPayload as JSON) → void`. Once per instance, before the first activation. */
  init: '__autoflow_init',
  /** `(activation: Activation as JSON) → void`. The host then drains the job queue. */
  activate: '__autoflow_activate',
  /** `() → Command[] as JSON`: the commands issued since the previous collect. */
  collect: '__autoflow_collect',
  /** `() → ManifestReply as JSON`: the `workflow({...})` declaration of the default export. */
  manifest: '__autoflow_manifest',
  /** `(input: Json as JSON) → Promise<InputCheck as JSON>`: runs the definition's validator. */
  checkInput: '__autoflow_check_input',
} as const;

/**
 * Every global the SDK adds besides the ECMAScript built-ins. The sandbox's allow-list is the
 * built-ins plus these; a test checks that nothing else is reachable.
 */
export const SDK_GLOBALS: readonly string[] = [
  ...Object.values(PROTOCOL_GLOBALS),
  'console',
  'queueMicrotask',
  // Present only to throw NondeterministicApiError (or, for the clear* functions, to do nothing)
  // instead of an unhelpful "setTimeout is not defined".
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'clearImmediate',
];

export interface InitPayload {
  runId: string;
  /** Seeds `Math.random` and `uuid4()`. */
  seed: string;
  /** The workflow's name, for `runInfo()`. */
  workflow: string;
}

/** The manifest is unvalidated data from untrusted code: the host checks every field. */
export type ManifestReply = { ok: true; manifest: Json } | { ok: false; problem: string };
