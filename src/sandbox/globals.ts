/**
 * The sandbox's allow-list of globals. Everything else is deleted before the workflow bundle is
 * evaluated (allow-list, not block-list: a QuickJS upgrade that adds a global adds nothing to the
 * sandbox until someone puts it here).
 */
import { SDK_GLOBALS } from '../sdk/protocol.js';

/**
 * Standard ECMAScript built-ins the sandbox keeps. Left out on purpose: `WeakRef` and
 * `FinalizationRegistry` (they expose garbage-collection timing, which differs between a run and
 * its replay) and `SharedArrayBuffer` (no threads to share with). `Date` and `Math.random` stay
 * here and are made deterministic by the SDK (src/sdk/bootstrap.ts).
 */
export const ECMASCRIPT_GLOBALS: readonly string[] = [
  'globalThis',
  'undefined',
  'NaN',
  'Infinity',
  'eval',
  'isFinite',
  'isNaN',
  'parseFloat',
  'parseInt',
  'decodeURI',
  'decodeURIComponent',
  'encodeURI',
  'encodeURIComponent',
  'escape',
  'unescape',
  'Object',
  'Function',
  'Array',
  'Number',
  'Boolean',
  'String',
  'Symbol',
  'BigInt',
  'Math',
  'JSON',
  'Reflect',
  'Proxy',
  'Promise',
  'Date',
  'RegExp',
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'Iterator',
  'Error',
  'EvalError',
  'RangeError',
  'ReferenceError',
  'SyntaxError',
  'TypeError',
  'URIError',
  'AggregateError',
  'InternalError',
  'ArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float16Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

/** Every global workflow code can reach: the built-ins above and what the SDK installs. */
export const ALLOWED_GLOBALS: ReadonlySet<string> = new Set([...ECMASCRIPT_GLOBALS, ...SDK_GLOBALS]);

/** Evaluated once in a fresh context of a QuickJS module: the names of its string-keyed globals, as JSON. */
export const GLOBAL_NAMES_PROBE = 'JSON.stringify(Reflect.ownKeys(globalThis).filter((key) => typeof key === "string"))';

/**
 * The prelude, evaluated first in every context of a module whose fresh contexts have the globals `names` (every
 * fresh context of one module has the same): it deletes those names not on the allow-list and every symbol-keyed
 * global, and returns as JSON the ones it could not delete (non-configurable), which the host treats as a fatal
 * error. Comparing with the allow-list once per module instead of in every context saves ≈120 µs per new instance.
 */
export function preludeFor(names: readonly string[]): string {
  const unwanted = names.filter((name) => !ECMASCRIPT_GLOBALS.includes(name));
  return `(() => {
  const stuck = [];
  for (const key of [...${JSON.stringify(unwanted)}, ...Object.getOwnPropertySymbols(globalThis)]) {
    if (!Reflect.deleteProperty(globalThis, key)) stuck.push(String(key));
  }
  return JSON.stringify(stuck);
})()`;
}
