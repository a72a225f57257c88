/**
 * `workflow({...})`: the declaration a workflow module exports, and what the runtime reads from
 * it — the manifest for the host, and the input check that runs before `run`.
 */
import type { Json } from '../core/model.js';
import type { InputCheck } from '../core/ports.js';
import { toMilliseconds, type Duration } from './duration.js';
import { InputValidationError } from './errors.js';
import type { ManifestReply } from './protocol.js';
import type {
  InputSpec,
  SafeParseValidator,
  StandardSchemaIssue,
  StandardSchemaResult,
  StandardSchemaV1,
  WorkflowDefinition,
  WorkflowOptions,
} from './types.js';

/** Definitions made by `workflow()`; a default export that is not one is refused at deploy. */
const definitions = new WeakSet<object>();

/**
 * Declares a workflow. Export the result as the module's default export.
 *
 * @example
 * export default workflow({
 *   name: 'nightly-report',
 *   triggers: [{ cron: '0 6 * * *' }],
 *   async run() {
 *     await sleep('1h');
 *   },
 * });
 */
// `any` as the default input type lets `run(event)` be written without annotations; authors who
// want checking give `input` a validator (the type is inferred from it) or annotate `run`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function workflow<TInput = any, TResult = unknown>(options: WorkflowOptions<TInput, TResult>): WorkflowDefinition<TInput, TResult> {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('workflow() takes an object: workflow({ name, triggers?, permissions?, input?, run })');
  }
  if (typeof options.run !== 'function') {
    throw new TypeError(`workflow({ name: ${JSON.stringify(options.name)} }): 'run' must be a function`);
  }
  if (options.timeout !== undefined) runTimeoutMs(options.timeout, options.name);
  const definition: WorkflowDefinition<TInput, TResult> = Object.freeze({
    ...options,
    triggers: options.triggers ?? [],
    permissions: options.permissions ?? {},
  });
  definitions.add(definition);
  return definition;
}

/** The shortest and longest `timeout` a workflow may declare: below a second it is a mistake (`timeout: 30` for 30 s). */
const MIN_RUN_TIMEOUT_MS = 1000;
const MAX_RUN_TIMEOUT_MS = 3650 * 86_400_000;

/** A declaration's `timeout` in milliseconds; a TypeError naming the workflow when it is not a duration in range. */
export function runTimeoutMs(timeout: Duration, workflowName: unknown): number {
  const ms = toMilliseconds(timeout, `timeout of workflow ${JSON.stringify(workflowName)}`);
  if (ms < MIN_RUN_TIMEOUT_MS || ms > MAX_RUN_TIMEOUT_MS) {
    throw new TypeError(
      `workflow({ name: ${JSON.stringify(workflowName)} }): timeout ${JSON.stringify(timeout)} is out of range: it must be between '1s' and '3650d' (a number is milliseconds)`,
    );
  }
  return ms;
}

export function isWorkflowDefinition(value: unknown): value is WorkflowDefinition {
  return typeof value === 'object' && value !== null && definitions.has(value);
}

type InputKind = 'none' | 'standard' | 'safeParse' | 'jsonSchema' | 'invalid';

function inputKind(spec: unknown): InputKind {
  if (spec === undefined) return 'none';
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return 'invalid';
  const standard = (spec as Partial<StandardSchemaV1>)['~standard'];
  if (typeof standard?.validate === 'function') return 'standard';
  if (typeof (spec as Partial<SafeParseValidator>).safeParse === 'function') return 'safeParse';
  return 'jsonSchema';
}

/** The JSON Schema of a validator that implements Standard JSON Schema (zod 4 does). */
function jsonSchemaOf(spec: object): Json | undefined {
  const converter = (spec as { '~standard'?: { jsonSchema?: { input?: (options: object) => unknown } } })['~standard']?.jsonSchema?.input;
  if (typeof converter !== 'function') return undefined;
  try {
    return JSON.parse(JSON.stringify(converter({ target: 'draft-2020-12' }))) as Json;
  } catch {
    // Some schemas (transforms, custom checks) have no JSON Schema form; the validator still runs.
    return undefined;
  }
}

/**
 * What the host learns of a definition at deploy. The host validates every field. `declaredKeys`, the keys given to
 * `workflow({...})`, let it refuse a mistyped one (`trigger`), which would otherwise be ignored.
 */
export function manifestOf(definition: WorkflowDefinition): ManifestReply {
  const manifest: Record<string, unknown> = {
    name: definition.name,
    triggers: definition.triggers,
    permissions: definition.permissions,
    validatesInput: false,
    declaredKeys: Object.keys(definition),
  };
  if (definition.description !== undefined) manifest.description = definition.description;
  if (definition.concurrency !== undefined) manifest.concurrency = definition.concurrency;
  const kind = inputKind(definition.input);
  if (kind === 'invalid') {
    return {
      ok: false,
      problem: "'input' must be a JSON Schema object or a validator (zod, any Standard Schema, or an object with safeParse)",
    };
  }
  if (kind === 'jsonSchema') manifest.inputSchema = definition.input;
  if (kind === 'standard' || kind === 'safeParse') {
    manifest.validatesInput = true;
    const schema = jsonSchemaOf(definition.input as object);
    if (schema !== undefined) manifest.inputSchema = schema;
  }
  try {
    return { ok: true, manifest: JSON.parse(JSON.stringify(manifest)) as Json };
  } catch (error) {
    return { ok: false, problem: `the declaration is not plain JSON data (${(error as Error).message})` };
  }
}

type Checked = { ok: true; value: unknown } | { ok: false; issues: string[] };

function formatIssue(issue: StandardSchemaIssue): string {
  const path = (issue.path ?? []).map((segment) => String(typeof segment === 'object' && segment !== null ? segment.key : segment));
  return `${path.length ? path.join('.') : '(root)'}: ${issue.message}`;
}

function fromStandard(result: StandardSchemaResult<unknown>): Checked {
  return result.issues ? { ok: false, issues: result.issues.map(formatIssue) } : { ok: true, value: result.value };
}

/**
 * Runs the definition's validator. Synchronous when the validator is, so that `run` starts in
 * the same turn as the start activation.
 */
function validate(spec: InputSpec<unknown> | undefined, input: Json): Checked | Promise<Checked> {
  switch (inputKind(spec)) {
    case 'standard': {
      const result = (spec as StandardSchemaV1)['~standard'].validate(input);
      return result instanceof Promise ? result.then(fromStandard) : fromStandard(result);
    }
    case 'safeParse': {
      const result = (spec as SafeParseValidator).safeParse(input);
      return result.success ? { ok: true, value: result.data } : { ok: false, issues: result.error.issues.map(formatIssue) };
    }
    default:
      // A JSON Schema is checked by the engine before the run starts.
      return { ok: true, value: input };
  }
}

function runChecked(definition: WorkflowDefinition, checked: Checked): unknown {
  if (!checked.ok) throw new InputValidationError(checked.issues);
  return definition.run(checked.value);
}

/** Validates the input and calls `run` (in this turn); the promise settles with the run's outcome. */
export function startRun(definition: WorkflowDefinition, input: Json): Promise<unknown> {
  // The executor runs synchronously, and whatever it throws rejects the promise.
  return new Promise((resolve) => {
    const checked = validate(definition.input, input);
    resolve(checked instanceof Promise ? checked.then((result) => runChecked(definition, result)) : runChecked(definition, checked));
  });
}

/** The definition's own verdict on an input, for `Sandbox.checkInput`. */
export async function checkInput(definition: WorkflowDefinition, input: Json): Promise<InputCheck> {
  try {
    const checked = await validate(definition.input, input);
    return checked.ok ? { ok: true } : { ok: false, issues: checked.issues };
  } catch (error) {
    return { ok: false, issues: [`the input validator threw: ${String(error)}`] };
  }
}
