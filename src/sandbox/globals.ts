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

const NOT_NODE = 'workflows do not run in Node.js';
const PLAIN_JS = 'use a library written in plain JavaScript, or a custom activity';
/**
 * What to use instead of the globals of Node.js and the web that workflows lack, to add to a `ReferenceError` for one
 * (docs/engine.md, "The sandbox's globals"). They are not defined to throw, as the timers are (SDK_GLOBALS): libraries
 * test `typeof fetch === 'undefined'` and fall back to something that works here.
 */
const INSTEAD: Readonly<Record<string, string>> = {
  fetch: "workflows have no fetch; use http.request from 'autoflow' (allowed by permissions.http)",
  XMLHttpRequest: "workflows have no XMLHttpRequest; use http.request from 'autoflow' (allowed by permissions.http)",
  URL: 'workflows have no URL; build URLs as strings, each part through encodeURIComponent()',
  URLSearchParams: 'workflows have no URLSearchParams; build the query as a string, each part through encodeURIComponent()',
  Intl: "workflows have no Intl (no locale or time-zone data); use calendar from 'autoflow' for times in a time zone, and format text in a custom activity",
  btoa: `workflows have no btoa; ${PLAIN_JS}`,
  atob: `workflows have no atob; ${PLAIN_JS}`,
  TextEncoder: `workflows have no TextEncoder; ${PLAIN_JS}`,
  TextDecoder: `workflows have no TextDecoder; ${PLAIN_JS}`,
  structuredClone: 'workflows have no structuredClone; copy plain data with JSON.parse(JSON.stringify(value))',
  crypto: "workflows have no crypto; uuid4() from 'autoflow' makes ids (the same on replay), and a custom activity can hash or sign",
  performance: "workflows have no performance (its clock is not deterministic); use now() from 'autoflow'",
  process: `${NOT_NODE}: there is no process; read settings from the run's input, and secrets with secrets.get from 'autoflow'`,
  require: `${NOT_NODE}: there is no require; import packages (the bundler includes them)`,
  Buffer: `${NOT_NODE}: there is no Buffer; use Uint8Array (for base64, ${PLAIN_JS})`,
  __dirname: `${NOT_NODE}: there is no __dirname; import data (JSON, policy files) instead of reading files`,
};

/**
 * The message of an error thrown inside the sandbox, with what to do instead when it is QuickJS's
 * `ReferenceError: 'fetch' is not defined` for a global workflows lack: `'fetch' is not defined: workflows have no fetch; …`.
 */
export function withMissingGlobalHint(name: string, message: string): string {
  const missing = name === 'ReferenceError' ? /^'([\w$]+)' is not defined$/.exec(message)?.[1] : undefined;
  return missing !== undefined && Object.hasOwn(INSTEAD, missing) ? `${message}: ${INSTEAD[missing]}` : message;
}
