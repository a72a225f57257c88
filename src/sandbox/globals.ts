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

/**
 * Evaluated first in every context: deletes each global not on the list and returns, as JSON, the
 * names it could not delete (non-configurable ones), which the host treats as a fatal error.
 */
export const PRELUDE = `(() => {
  const keep = new Set(${JSON.stringify(ECMASCRIPT_GLOBALS)});
  const stuck = [];
  for (const key of Reflect.ownKeys(globalThis)) {
    if (typeof key === 'string' && keep.has(key)) continue;
    if (!Reflect.deleteProperty(globalThis, key)) stuck.push(String(key));
  }
  return JSON.stringify(stuck);
})()`;
