/**
 * Validates the manifest a bundle declares. It comes from untrusted code, so every field is
 * checked here, on the host, and each problem is reported with its path (`triggers[1].cron`).
 * Hand-written rather than a schema library: the sandbox layer depends on nothing but QuickJS,
 * esbuild, source maps, YAML and the cron parser the scheduler uses (test/architecture.test.ts).
 */
import { Cron } from 'croner';
import { cronPatternProblem, cronPatternWarning, invalidCronPattern } from '../core/cron-pattern.js';
import { DefinitionError, toError } from '../core/errors.js';
import { closestWord, filterProblems } from '../core/filter.js';
import { TASK_CLOSED_EVENT } from '../core/human-task.js';
import { matchesOnlyAddressedTypes } from '../core/router.js';
import { timeZoneProblem } from '../core/time-zone.js';
import type { ConcurrencySpec, WorkflowManifest } from '../core/model.js';
import { unknownGitLabEventType } from './gitlab-event-types.js';

const NAME = /^[a-z0-9][a-z0-9-_.]*$/;

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Why a cron pattern cannot schedule runs, or undefined when it can: one of the forms core/cron-pattern.ts allows,
 * parsed as the scheduler parses it (croner, as `app/schedules.ts` uses it), matching some date.
 */
function cronProblem(pattern: unknown): string | undefined {
  const syntax = cronPatternProblem(pattern);
  if (syntax !== undefined || typeof pattern !== 'string') return syntax;
  let cron: Cron;
  try {
    cron = new Cron(pattern, { paused: true });
  } catch (error) {
    return `${invalidCronPattern(pattern)}: ${toError(error).message}`;
  }
  return cron.nextRun() === null ? `matches no date (${JSON.stringify(pattern)}), so it would never start a run` : undefined;
}

class Problems {
  readonly list: string[] = [];

  add(path: string, message: string): void {
    this.list.push(`${path}: ${message}`);
  }

  /** Each key not `allowed`, with the allowed one it most likely meant: a mistyped one, or one of `meanings`. */
  onlyKeys(keys: readonly string[], path: string, allowed: readonly string[], meanings: Readonly<Record<string, string>> = {}): void {
    for (const key of keys) {
      if (allowed.includes(key)) continue;
      const meant = Object.hasOwn(meanings, key) ? meanings[key] : closestWord(key, allowed);
      this.add(path, `unknown field '${key}' (expected ${allowed.join(', ')})${meant === undefined ? '' : `; did you mean '${meant}'?`}`);
    }
  }

  names(value: unknown, path: string): void {
    if (value === undefined) return;
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item !== '')) {
      this.add(path, 'must be a list of non-empty strings');
    }
  }
}

const quoted = (field: string): string => `'${field.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * Each condition of a trigger's filter, checked here so that a malformed one is refused at deploy rather than found
 * by the router: `triggers[0].filter['status'].in: operator 'in' of field 'status': expected …; got "paid"`.
 */
function checkFilter(problems: Problems, filter: Fields, path: string, event: unknown): void {
  const on = typeof event === 'string' ? ` (in the trigger on ${event})` : '';
  for (const problem of filterProblems(filter)) {
    const where = `${path}.filter[${quoted(problem.field)}]${problem.operator === undefined ? '' : `.${problem.operator}`}`;
    problems.add(where, `${problem.what} of field ${quoted(problem.field)}: expected ${problem.expected}; got ${problem.got}${on}`);
  }
}

function checkTrigger(problems: Problems, trigger: unknown, path: string): void {
  if (isObject(trigger) && 'event' in trigger) {
    problems.onlyKeys(Object.keys(trigger), path, ['event', 'filter', 'runKey', 'includeOwnEvents']);
    if (typeof trigger.event !== 'string' || trigger.event === '') {
      problems.add(`${path}.event`, 'must name an event type, such as com.gitlab.events.issue_updated');
    }
    const { runKey } = trigger;
    if (
      runKey !== undefined &&
      (!Array.isArray(runKey) || runKey.length === 0 || runKey.some((key) => typeof key !== 'string' || key.split('.').includes('')))
    ) {
      problems.add(`${path}.runKey`, "must be a list of event paths, such as ['project_id', 'checkout_sha']");
    }
    if (trigger.includeOwnEvents !== undefined && typeof trigger.includeOwnEvents !== 'boolean') {
      problems.add(
        `${path}.includeOwnEvents`,
        `must be true or false (true: the events AutoFlow's own GitLab account caused start runs too), got ${JSON.stringify(trigger.includeOwnEvents)}`,
      );
    }
    if (trigger.filter !== undefined && !isObject(trigger.filter)) problems.add(`${path}.filter`, 'must be an object of path → condition');
    else if (trigger.filter !== undefined) checkFilter(problems, trigger.filter, path, trigger.event);
  } else if (isObject(trigger) && 'cron' in trigger) {
    problems.onlyKeys(Object.keys(trigger), path, ['cron', 'timezone', 'input']);
    const cron = cronProblem(trigger.cron);
    if (cron !== undefined) problems.add(`${path}.cron`, cron);
    if (trigger.timezone !== undefined) {
      const zone =
        typeof trigger.timezone === 'string'
          ? timeZoneProblem(trigger.timezone)
          : 'must be the IANA name of a place, such as "Europe/Berlin"';
      if (zone !== undefined) problems.add(`${path}.timezone`, zone);
    }
  } else {
    problems.add(path, 'a trigger is { event, filter?, runKey?, includeOwnEvents? } or { cron, timezone?, input? }');
  }
}

function checkPermissions(problems: Problems, permissions: unknown): void {
  if (!isObject(permissions)) {
    problems.add('permissions', 'must be an object');
    return;
  }
  problems.onlyKeys(Object.keys(permissions), 'permissions', ['http', 'secrets', 'activities', 'signals', 'gitlab', 'kubernetes']);
  for (const key of ['http', 'secrets', 'activities', 'signals']) problems.names(permissions[key], `permissions.${key}`);
  checkKubernetesPermissions(problems, permissions.kubernetes);
  const { gitlab } = permissions;
  if (gitlab === undefined) return;
  if (!isObject(gitlab)) {
    problems.add('permissions.gitlab', 'must be an object');
    return;
  }
  problems.onlyKeys(Object.keys(gitlab), 'permissions.gitlab', ['projects', 'groups', 'access']);
  problems.names(gitlab.projects, 'permissions.gitlab.projects');
  problems.names(gitlab.groups, 'permissions.gitlab.groups');
  if (gitlab.access !== undefined && gitlab.access !== 'read' && gitlab.access !== 'write') {
    problems.add('permissions.gitlab.access', `must be 'read' or 'write', got ${JSON.stringify(gitlab.access)}`);
  }
}

function checkKubernetesPermissions(problems: Problems, kubernetes: unknown): void {
  if (kubernetes === undefined) return;
  if (!isObject(kubernetes)) {
    problems.add('permissions.kubernetes', 'must be an object');
    return;
  }
  problems.onlyKeys(Object.keys(kubernetes), 'permissions.kubernetes', ['namespaces', 'kinds', 'access']);
  problems.names(kubernetes.namespaces, 'permissions.kubernetes.namespaces');
  problems.names(kubernetes.kinds, 'permissions.kubernetes.kinds');
  if (kubernetes.access !== undefined && kubernetes.access !== 'read' && kubernetes.access !== 'write') {
    problems.add('permissions.kubernetes.access', `must be 'read' or 'write', got ${JSON.stringify(kubernetes.access)}`);
  }
}

/** The fields of the manifest the SDK makes of a declaration (src/sdk/workflow.ts, manifestOf), `declaredKeys` aside. */
const MANIFEST_KEYS = ['name', 'description', 'triggers', 'permissions', 'inputSchema', 'validatesInput', 'concurrency'];
/** The keys `workflow({...})` takes (src/sdk/types.ts, WorkflowOptions). */
const WORKFLOW_KEYS = ['name', 'description', 'triggers', 'permissions', 'input', 'timeout', 'concurrency', 'run'];
/** Keys of other tools' declarations, or of AutoFlow's manifest, that a workflow's author may write for one of those. */
const WORKFLOW_KEY_MEANINGS: Record<string, string> = {
  inputSchema: 'input',
  schema: 'input',
  schedule: 'triggers',
  cron: 'triggers',
  on: 'triggers',
  concurrencyLimit: 'concurrency',
  maxConcurrency: 'concurrency',
};

/**
 * The keys given to `workflow({...})`, which the SDK reports as `declaredKeys` (bundles made before it did report
 * none): the SDK reads only the keys it knows, so a mistyped one (`trigger`, `permisions`) would be ignored.
 */
function checkDeclaredKeys(problems: Problems, keys: unknown): void {
  if (keys === undefined) return;
  if (!Array.isArray(keys) || !keys.every((key) => typeof key === 'string')) problems.add('declaredKeys', 'must be a list of strings');
  else problems.onlyKeys(keys, '(declaration)', WORKFLOW_KEYS, WORKFLOW_KEY_MEANINGS);
}

/** Most runs of one concurrency group that may run at once. */
const MAX_CONCURRENCY_LIMIT = 1000;
/** A `concurrency.key`: names joined by dots, each letters, digits, `_` or `-` (array items by number). */
const INPUT_PATH = /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/;

/** `concurrency` with its `limit` defaulted (1), or undefined when it has problems (added to `problems`). */
function checkConcurrency(problems: Problems, concurrency: unknown): ConcurrencySpec | undefined {
  if (!isObject(concurrency)) {
    problems.add(
      'concurrency',
      "must be an object: { limit?, key?, group?, queue?, cancelInProgress? }, for example { limit: 1, key: 'environment' }",
    );
    return undefined;
  }
  const before = problems.list.length;
  problems.onlyKeys(Object.keys(concurrency), 'concurrency', ['limit', 'key', 'group', 'queue', 'cancelInProgress'], {
    max: 'limit',
    maxRuns: 'limit',
    scope: 'group',
    cancelPending: 'queue',
    'cancel-in-progress': 'cancelInProgress',
    cancelRunning: 'cancelInProgress',
  });
  const { limit = 1, key, group, queue = 'all', cancelInProgress = false } = concurrency;
  if (queue !== 'all' && queue !== 'latest') {
    problems.add(
      'concurrency.queue',
      `must be 'all' (every run waits its turn) or 'latest' (only the newest waits), got ${JSON.stringify(queue)}`,
    );
  }
  if (typeof cancelInProgress !== 'boolean') {
    problems.add('concurrency.cancelInProgress', `must be true or false, got ${JSON.stringify(cancelInProgress)}`);
  } else if (cancelInProgress && concurrency.queue !== undefined) {
    problems.add(
      'concurrency.cancelInProgress',
      'decides which runs wait by itself — the newest `limit` runs of the group run, older ones are cancelled whether ' +
        'running or waiting — so leave out queue',
    );
  }
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_CONCURRENCY_LIMIT) {
    problems.add('concurrency.limit', `must be a whole number from 1 to ${MAX_CONCURRENCY_LIMIT}, got ${JSON.stringify(limit)}`);
  }
  if (key !== undefined && (typeof key !== 'string' || key.length > 200 || !INPUT_PATH.test(key))) {
    problems.add(
      'concurrency.key',
      `must be a dot path into the run's input, such as 'environment' or 'data.project.id', got ${JSON.stringify(key)}`,
    );
  }
  if (group !== undefined && (typeof group !== 'string' || group.length > 100 || !NAME.test(group))) {
    problems.add(
      'concurrency.group',
      `must be lower case letters, digits, '-', '_' or '.', starting with a letter or digit, at most 100 (got ${JSON.stringify(group)})`,
    );
  }
  if (problems.list.length > before) return undefined;
  return {
    limit: limit as number,
    ...(key !== undefined && { key: key as string }),
    ...(group !== undefined && { group: group as string }),
    ...(queue === 'latest' && { queue }),
    ...(cancelInProgress === true && { cancelInProgress }),
  };
}

/** The manifest, or a DefinitionError naming the origin file and every bad field. */
export function parseManifest(raw: unknown, origin: string): WorkflowManifest {
  const problems = new Problems();
  const { declaredKeys, ...manifest } = isObject(raw) ? raw : {};
  if (!isObject(raw)) problems.add('(declaration)', 'must be an object');
  checkDeclaredKeys(problems, declaredKeys);
  problems.onlyKeys(Object.keys(manifest), '(declaration)', MANIFEST_KEYS);
  if (manifest.name === undefined) problems.add('name', 'is required: give the workflow a name');
  else if (typeof manifest.name !== 'string' || !NAME.test(manifest.name)) {
    problems.add(
      'name',
      `must be lower case letters, digits, '-', '_' or '.', starting with a letter or digit (got ${JSON.stringify(manifest.name)})`,
    );
  }
  if (manifest.description !== undefined && typeof manifest.description !== 'string') problems.add('description', 'must be a string');
  if (!Array.isArray(manifest.triggers)) problems.add('triggers', 'must be a list');
  else manifest.triggers.forEach((trigger, index) => checkTrigger(problems, trigger, `triggers[${index}]`));
  checkPermissions(problems, manifest.permissions);
  if (manifest.inputSchema !== undefined && !isObject(manifest.inputSchema)) problems.add('inputSchema', 'must be a JSON Schema object');
  if (typeof manifest.validatesInput !== 'boolean') problems.add('validatesInput', 'must be true or false');
  const concurrency = manifest.concurrency === undefined ? undefined : checkConcurrency(problems, manifest.concurrency);

  if (problems.list.length > 0) {
    const of = typeof manifest.name === 'string' && NAME.test(manifest.name) ? ` of workflow '${manifest.name}'` : '';
    throw new DefinitionError(
      `${origin}: the workflow({...}) declaration${of} is invalid:\n${problems.list.map((line) => `  ${line}`).join('\n')}`,
      {
        details: { origin, problems: problems.list },
      },
    );
  }
  return { ...manifest, ...(concurrency !== undefined && { concurrency }) } as unknown as WorkflowManifest;
}

/**
 * Why a trigger on `pattern` never starts a run, as it matches only events addressed to one run (core/router.ts), or
 * undefined when it may.
 */
function addressedTypeWarning(pattern: string): string | undefined {
  if (!matchesOnlyAddressedTypes(pattern)) return undefined;
  const what =
    pattern === TASK_CLOSED_EVENT
      ? `${pattern} is the answer to a form or approval, which goes only to the run that opened it`
      : pattern.includes('*')
        ? `${pattern} matches only signals, which go only to the run each is sent to`
        : `${pattern} is a signal, which goes only to the run it is sent to`;
  return (
    `${what}, so the trigger never starts a run; to start runs, trigger on a type a workflow emits, or on ` +
    'autoflow.task.opened or autoflow.task.reminder (docs/engine.md#chains-of-events)'
  );
}

/**
 * What a valid declaration may still have wrong, for `autoflow check` and deploy to warn of beside the bundler's
 * warnings (`FileResult.warnings`): a trigger on a GitLab event type that GitLab never sends, or on an event type
 * that only ever goes to one waiting run.
 */
export function manifestWarnings(manifest: WorkflowManifest): string[] {
  const triggers = manifest.triggers.flatMap((trigger, index) => {
    const [field, warning] =
      'event' in trigger
        ? ['event', unknownGitLabEventType(trigger.event) ?? addressedTypeWarning(trigger.event)]
        : ['cron', cronPatternWarning(trigger.cron)];
    return warning === undefined ? [] : [`triggers[${index}].${field}: ${warning}`];
  });
  const key = concurrencyKeyWarning(manifest);
  return key === undefined ? triggers : [...triggers, `concurrency.key: ${key}`];
}

/**
 * Why `concurrency.key` likely names nothing: its first name is not a property of the input schema (a misspelt key puts
 * every run in the group of `null`, one at a time). Not for a workflow that events start: their runs read the event.
 */
function concurrencyKeyWarning(manifest: WorkflowManifest): string | undefined {
  const key = manifest.concurrency?.key;
  const properties = manifest.inputSchema?.properties;
  if (key === undefined || !isObject(properties) || manifest.triggers.some((trigger) => 'event' in trigger)) return undefined;
  const [first = ''] = key.split('.');
  if (Object.hasOwn(properties, first)) return undefined;
  const names = Object.keys(properties);
  const meant = closestWord(first, names);
  return (
    `'${first}' is not a property of the input schema (${names.join(', ') || 'none'})${meant === undefined ? '' : `; did you mean '${meant}'?`}: ` +
    'runs whose input lacks it all share the group of null, one at a time'
  );
}
