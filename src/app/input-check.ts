import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import draft06MetaSchema from 'ajv/dist/refs/json-schema-draft-06.json' with { type: 'json' };
import { DefinitionError, ValidationError, toError } from '../core/errors.js';
import type { DeployedDefinition, Json, JsonObject, WorkflowManifest } from '../core/model.js';
import type { Sandbox } from '../core/ports.js';
import { scheduledRunInput } from '../core/run-id.js';

/** The JSON Schema dialects Ajv checks here, by the id their meta-schema has in Ajv. */
type Dialect = 'draft-07' | 'draft-2019-09' | 'draft-2020-12';

const CANONICAL_ID: Record<Dialect, string> = {
  'draft-07': 'http://json-schema.org/draft-07/schema',
  'draft-2019-09': 'https://json-schema.org/draft/2019-09/schema',
  'draft-2020-12': 'https://json-schema.org/draft/2020-12/schema',
};

/**
 * `$schema` values as authors write them, without scheme and trailing `#` (both vary: zod writes
 * `https://…/2020-12/schema`, hand-written schemas often `http://…/draft-07/schema#`). Draft-06 is
 * read by the draft-07 build, which knows its meta-schema once it is added; draft-04 is not: its
 * `exclusiveMinimum` is a boolean, which Ajv 8 reads differently.
 */
const DIALECTS: Record<string, Dialect> = {
  'json-schema.org/draft-06/schema': 'draft-07',
  'json-schema.org/draft-07/schema': 'draft-07',
  'json-schema.org/draft/2019-09/schema': 'draft-2019-09',
  'json-schema.org/draft/2020-12/schema': 'draft-2020-12',
};

const SUPPORTED = 'draft-06, draft-07, 2019-09 or 2020-12 (https://json-schema.org/draft/2020-12/schema), or no $schema (draft-07)';

function dialectOf(schema: JsonObject): { dialect: Dialect; keepSchema: boolean } {
  const declared = schema.$schema;
  if (declared === undefined) return { dialect: 'draft-07', keepSchema: true };
  if (typeof declared !== 'string') throw new Error(`$schema must be a URI string (${SUPPORTED})`);
  const key = declared.replace(/^https?:\/\//, '').replace(/#$/, '');
  const dialect = DIALECTS[key];
  if (dialect === undefined) throw new Error(`$schema '${declared}' is not a JSON Schema dialect AutoFlow checks; use ${SUPPORTED}`);
  // Draft-06 keeps its own id (its meta-schema is added under it); the others are given Ajv's spelling of theirs.
  return { dialect, keepSchema: key.includes('draft-06') };
}

function newAjv(dialect: Dialect): Ajv {
  // verbose: an error carries the schema it broke, so that an unknown property can be answered with the known ones.
  const options = { allErrors: true, strict: false, verbose: true };
  if (dialect === 'draft-2020-12') return new Ajv2020(options);
  if (dialect === 'draft-2019-09') return new Ajv2019(options);
  const ajv = new Ajv(options);
  ajv.addMetaSchema(draft06MetaSchema);
  return ajv;
}

/**
 * Compiles a workflow's input schema with the Ajv build of its `$schema` dialect, in an Ajv of its
 * own: a schema compiled once is cached by Ajv, so a compile that failed in a shared instance could
 * pass the second time and hide the problem. Throws DefinitionError naming the workflow and what
 * Ajv (or the dialect check) said, for deploy and `autoflow check` to refuse the file.
 */
export function compileInputSchema(workflow: string, schema: JsonObject): ValidateFunction {
  try {
    const { dialect, keepSchema } = dialectOf(schema);
    return newAjv(dialect).compile(keepSchema ? schema : { ...schema, $schema: CANONICAL_ID[dialect] });
  } catch (caught) {
    throw new DefinitionError(`the input schema of workflow '${workflow}' cannot be used: ${toError(caught).message}`, {
      cause: caught,
      details: { workflow },
    });
  }
}

export type InputChecker = (definition: DeployedDefinition, input: Json) => void;

/**
 * Checks a run's input against its definition's JSON Schema, on the host (Ajv, compiled once per version). A schema
 * that does not compile (a version deployed before deploys checked it) answers every check with its
 * DefinitionError, never an internal error. The engine checks child runs and continue-as-new successors with it.
 */
export function createSchemaChecker(): InputChecker {
  const compiled = new Map<string, ValidateFunction | DefinitionError>();
  return (definition, input) => {
    const { inputSchema } = definition.manifest;
    if (!inputSchema) return;
    let validate = compiled.get(definition.version);
    if (!validate) {
      try {
        validate = compileInputSchema(definition.name, inputSchema);
      } catch (caught) {
        validate = caught instanceof DefinitionError ? caught : new DefinitionError(toError(caught).message, { cause: caught });
      }
      compiled.set(definition.version, validate);
    }
    if (validate instanceof DefinitionError) throw validate;
    if (!validate(input)) {
      const issues = (validate.errors ?? []).map(issueOf);
      throw new ValidationError(`input of workflow '${definition.name}' is invalid`, issues);
    }
  };
}

/** A tick's time, for the input a schedule without its own gives its runs. */
const SAMPLE_TICK = Date.UTC(2026, 0, 5, 6);

/**
 * Warnings for the cron triggers whose runs' input the workflow's input schema (`validate`) refuses: the trigger's
 * `input`, else `{ scheduledAt }`. A tick starts its run without checking it, so the run would get an input its
 * code does not expect; said at deploy and by `autoflow check`, before any tick.
 */
export function scheduleInputWarnings(manifest: WorkflowManifest, validate: ValidateFunction): string[] {
  return manifest.triggers.flatMap((trigger, index) => {
    if (!('cron' in trigger)) return [];
    const input = scheduledRunInput(trigger.input, SAMPLE_TICK);
    if (validate(input)) return [];
    const given = trigger.input === undefined ? 'the { scheduledAt } a schedule without input gives its runs' : 'its input';
    return [
      `triggers[${index}].input: the workflow's input schema refuses ${given} (${(validate.errors ?? []).map(issueOf).join('; ')}); ` +
        'its runs would get it all the same: give the trigger an input the schema takes, or make the schema take it',
    ];
  });
}

/**
 * One schema violation as `path: what is wrong`. Ajv's own text does not name an unknown property nor list what an
 * enum allows, and an unknown property is most often a known one mistyped (`dryrun` for `dryRun`).
 */
function issueOf(error: ErrorObject): string {
  const at = error.instancePath || '(input)';
  if (error.keyword === 'additionalProperties') {
    const unknown = String((error.params as { additionalProperty?: unknown }).additionalProperty);
    const properties = (error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
    const known = Object.keys(properties ?? {});
    const spelling = (name: string): string => name.toLowerCase().replace(/[-_]/g, '');
    const meant = known.find((name) => spelling(name) === spelling(unknown));
    const hint =
      meant !== undefined
        ? `; did you mean '${meant}'?`
        : known.length > 0
          ? `; it allows ${known.map((name) => `'${name}'`).join(', ')}`
          : '';
    return `${at}: has the property '${unknown}', which the schema does not allow${hint}`;
  }
  if (error.keyword === 'enum') {
    const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues ?? [];
    return `${at}: must be one of ${allowed.map((value) => JSON.stringify(value)).join(', ')}`;
  }
  return `${at}: ${error.message ?? 'is invalid'}`;
}

/**
 * The input of a run started without one (`autoflow run nightly`, an API body without `input`): `null`, unless the
 * workflow's checks refuse `null` and take `{}`, as an input schema of `type: object` whose properties are all optional
 * does; the web UI's start form begins with `{}` for such a workflow, and the CLI and the API did not. Nothing else is
 * filled in: a schema's `default`s are the workflow's to apply (`input.replicas ?? 2`).
 */
export function inputWhenNoneGiven(checkInput: InputChecker, definition: DeployedDefinition): Json {
  const { inputSchema, validatesInput } = definition.manifest;
  if (inputSchema === undefined && !validatesInput) return null;
  return !accepts(checkInput, definition, null) && accepts(checkInput, definition, {}) ? {} : null;
}

/** Whether `checkInput` takes `input`; any failure but a ValidationError (a schema that cannot compile) is thrown. */
function accepts(checkInput: InputChecker, definition: DeployedDefinition, input: Json): boolean {
  try {
    checkInput(definition, input);
    return true;
  } catch (caught) {
    if (caught instanceof ValidationError) return false;
    throw caught;
  }
}

/**
 * Checks a run's input before the run exists: its JSON Schema (`checkSchema`), and a validator object (zod…) inside
 * the definition's sandbox.
 */
export function createInputChecker(sandbox: Sandbox, checkSchema: InputChecker = createSchemaChecker()): InputChecker {
  return (definition, input) => {
    checkSchema(definition, input);
    if (definition.manifest.validatesInput) {
      const check = sandbox.checkInput(definition, input);
      if (!check.ok) throw new ValidationError(`input of workflow '${definition.name}' is invalid`, check.issues);
    }
  };
}
