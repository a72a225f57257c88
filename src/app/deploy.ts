import { watch as watchPaths } from 'chokidar';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { Engine } from '../core/engine.js';
import { NotFoundError, ValidationError, toError } from '../core/errors.js';
import type { DeployedDefinition, TriggerSpec, WorkflowManifest } from '../core/model.js';
import { secretAllowed, type SecretAccess } from '../core/secret-access.js';
import type { Sandbox } from '../core/ports.js';
import { bundleWorkflow, versionOf } from '../sandbox/bundle.js';
import { manifestWarnings } from '../sandbox/manifest.js';
import { compileInputSchema, scheduleInputWarnings } from './input-check.js';
import { createQuickJsSandbox } from '../sandbox/quickjs-sandbox.js';
import { INTERNAL_SOURCE_PREFIX } from '../sandbox/source-map.js';

/**
 * Workflow files are the `.ts`/`.js` files at the top of the workflows folder; tests
 * (`*.test.ts`), declarations and anything in subfolders are not, so shared code lives in
 * subfolders and is imported relatively.
 */
export function findWorkflowFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /\.(ts|mts|js|mjs)$/.test(name) && !/\.(test|spec)\.[mc]?[tj]s$/.test(name) && !name.endsWith('.d.ts'))
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .sort();
}

/**
 * The files on disk a bundle was built from: the author's sources in its source map (those that gave it code), made
 * absolute. A package's files are named `<package>/<file>` there and are left out, unless the package is linked
 * (`npm link`, `file:`): esbuild follows the link, so its files keep their real paths, outside node_modules.
 */
function inputsOf(file: string, sourceMap: string): string[] {
  const dir = dirname(resolve(file));
  const { sources } = JSON.parse(sourceMap) as { sources: string[] };
  return sources
    .filter((source) => !source.startsWith(INTERNAL_SOURCE_PREFIX) && !source.startsWith('autoflow/'))
    .map((source) => resolve(dir, source))
    .filter((path) => !path.includes(`${sep}node_modules${sep}`) && existsSync(path));
}

/** Bundles one workflow file and reads its declaration: what deploying it would store, and what bundling warned of. */
async function build(
  file: string,
  sandbox: Sandbox,
  now: number,
): Promise<{ definition: DeployedDefinition; warnings: string[]; inputs: string[] }> {
  const { bundle, sourceMap, warnings } = await bundleWorkflow(resolve(file));
  const manifest = sandbox.inspect(bundle, { sourceMap, origin: file });
  // A schema Ajv cannot compile is refused here, at deploy and `autoflow check`, not at the first start.
  const validate = manifest.inputSchema ? compileInputSchema(manifest.name, manifest.inputSchema) : undefined;
  const definition = {
    version: versionOf(bundle, manifest),
    name: manifest.name,
    manifest,
    bundle,
    sourceMap,
    origin: file,
    deployedAt: now,
  };
  const scheduleWarnings = validate ? scheduleInputWarnings(manifest, validate) : [];
  return { definition, warnings: [...warnings, ...manifestWarnings(manifest), ...scheduleWarnings], inputs: inputsOf(file, sourceMap) };
}

/**
 * Capabilities a server has only when configured, with how to configure them. A workflow whose permissions
 * grant one of them calls it; on a server without it, every such call fails with "no capability named …".
 */
const CONFIGURED_CAPABILITIES: ReadonlyArray<{ name: keyof WorkflowManifest['permissions']; configure: string }> = [
  {
    name: 'kubernetes',
    configure:
      'configure it in autoflow.config.ts (kubernetes: { kubeconfig, context }, { server, token, caFile } or { inCluster: true }; docs/gitops.md, §4)',
  },
];

/**
 * Deploy warnings for the capabilities a workflow's permissions grant that this server does not have (`installed`):
 * said when the workflow is deployed, not first by a run that fails half-way (after asking for approvals, say).
 */
export function missingCapabilityWarnings(manifest: WorkflowManifest, installed: ReadonlySet<string>): string[] {
  return CONFIGURED_CAPABILITIES.filter(({ name }) => manifest.permissions[name] !== undefined && !installed.has(name)).map(
    ({ name, configure }) =>
      `permissions.${name}: workflow ${manifest.name} calls the '${name}' capability, but no capability named '${name}' is installed on this server, so those calls will fail; ${configure}`,
  );
}

/**
 * Deploy warnings for the activities a workflow's `permissions.activities` names that the server's configuration does
 * not register: every call of one fails (`unknown_activity`). A warning, not a refusal: the configuration may be fixed
 * and the server restarted after the workflow is deployed.
 */
export function missingActivityWarnings(manifest: WorkflowManifest, registered: ReadonlySet<string>): string[] {
  return (manifest.permissions.activities ?? [])
    .filter((name) => !registered.has(name))
    .map(
      (name) =>
        `permissions.activities: workflow ${manifest.name} may call activity '${name}', but no activity '${name}' is registered on this server, so its calls will fail (unknown_activity); add it to activities in autoflow.config.ts, or remove it from permissions.activities`,
    );
}

/**
 * Deploy warnings for the secrets a workflow's `permissions.secrets` names that the server's configuration does not
 * set: `secrets.get` of one fails (`secret_missing`). A warning, as for activities.
 */
export function missingSecretWarnings(manifest: WorkflowManifest, configured: ReadonlySet<string>): string[] {
  return (manifest.permissions.secrets ?? [])
    .filter((name) => !configured.has(name))
    .map(
      (name) =>
        `permissions.secrets: workflow ${manifest.name} may read secret '${name}', but no secret '${name}' is configured on this server, so secrets.get('${name}') will fail (secret_missing); set AUTOFLOW_SECRET_${name} or add it to secrets in autoflow.config.ts, or remove it from permissions.secrets`,
    );
}

/**
 * Deploy warnings for the secrets a workflow's `permissions.secrets` names that the operator's `secretAccess` keeps
 * from it: `secrets.get` of one is refused (a team's workflow asking for another team's key, say).
 */
export function withheldSecretWarnings(manifest: WorkflowManifest, access: SecretAccess): string[] {
  return (manifest.permissions.secrets ?? [])
    .filter((name) => !secretAllowed(access, name, manifest.name))
    .map(
      (name) =>
        `permissions.secrets: workflow ${manifest.name} asks for secret '${name}', which the server's secretAccess gives to ${access[name]!.join(', ')} only, so secrets.get('${name}') will be refused and the secret is not sent for it; remove it from permissions.secrets, or ask the operator to add the workflow to secretAccess.${name}`,
    );
}

/** What a server offers workflows, for the warnings of a deploy. */
export interface ServerOffer {
  /** The capabilities it has installed (`missingCapabilityWarnings`). */
  capabilities: ReadonlySet<string>;
  /** The activities its configuration registers (`missingActivityWarnings`); unknown: no warning. */
  activities?: ReadonlySet<string>;
  /** The secrets its configuration sets (`missingSecretWarnings`); unknown: no warning. */
  secrets?: ReadonlySet<string>;
  /** Which workflows its configuration lets read which secrets (`withheldSecretWarnings`). */
  secretAccess?: SecretAccess;
}

/** Bundles one workflow file and reads its declaration: what deploying it would store. */
export async function buildDefinition(file: string, sandbox: Sandbox, now: number): Promise<DeployedDefinition> {
  return (await build(file, sandbox, now)).definition;
}

export interface FileResult {
  file: string;
  /** The workflow it declares; also set on a file that failed because another file declares the same name. */
  name?: string;
  version?: string;
  error?: string;
  /** Accepted, but worth the author's attention (`file:line: message`). */
  warnings?: string[];
  definition?: DeployedDefinition;
  /** Its version was new to the engine and this deploy made it the active one (false: already active, or not built). */
  deployed?: boolean;
  /** When `deployed`: the version that was active under its name until then (none: new, or retired until now). */
  replaced?: DeployedDefinition;
  /**
   * When `deployed`: another node's version that was active right after this deploy (nodes starting at the same moment
   * with different files: the one that activates last wins), so its own version is not the one new runs start on.
   */
  overtakenBy?: DeployedDefinition;
  /**
   * Every file that declares `name`, when more than one does. When deploying, the file the active version of `name`
   * came from keeps the name and deploys as usual; the others are refused. Otherwise none of them is deployed.
   */
  declaredBy?: string[];
  /** A file in a disputed name's `declaredBy`, built: what deploys if the name turns out to be its own. */
  contender?: DeployedDefinition;
  /** The files on disk it was built from (itself, what it imports outside node_modules, linked packages' real paths). */
  inputs?: string[];
}

/**
 * Builds workflow files. A name declared by two files is an error on both: which one is meant cannot be told from the
 * files, and taking either would replace the live workflow with a copy (or a copy's workflow with the original)
 * behind the author's back. A deploy then gives the name to the file its active version came from (settleDispute).
 */
export async function buildWorkflows(files: readonly string[], sandbox: Sandbox, now: number): Promise<FileResult[]> {
  const results: FileResult[] = [];
  for (const file of files) {
    try {
      const { definition, warnings, inputs } = await build(file, sandbox, now);
      results.push({
        file,
        name: definition.name,
        version: definition.version,
        definition,
        inputs,
        ...(warnings.length > 0 ? { warnings } : {}),
      });
    } catch (caught) {
      results.push({ file, error: toError(caught).message });
    }
  }
  const declarers = new Map<string, FileResult[]>();
  for (const result of results) {
    if (result.definition) declarers.set(result.definition.name, [...(declarers.get(result.definition.name) ?? []), result]);
  }
  for (const [name, same] of declarers) {
    if (same.length < 2) continue;
    const declaredBy = same.map((result) => result.file);
    for (const result of same) {
      result.contender = result.definition;
      delete result.definition;
      result.declaredBy = declaredBy;
      result.error = `workflow name '${name}' is declared by ${declaredBy.join(' and ')}; names must be unique: rename or remove one of them (until then neither is deployed)`;
    }
  }
  return results;
}

/**
 * `autoflow check`: bundle and validate every workflow in a folder, or the one workflow file
 * `path` names, without deploying anything.
 */
export async function checkWorkflowDirectory(path: string): Promise<Array<Omit<FileResult, 'definition'> & { triggers?: TriggerSpec[] }>> {
  if (!existsSync(path)) throw new NotFoundError('folder', path);
  const files = statSync(path).isDirectory() ? findWorkflowFiles(path) : [path];
  if (files.length === 0) throw new ValidationError(`no workflow files (*.ts, *.js) in ${path}`);
  const results = await buildWorkflows(files, await createQuickJsSandbox(), Date.now());
  return results.map(({ definition, contender: _, ...rest }) => (definition ? { ...rest, triggers: definition.manifest.triggers } : rest));
}

/**
 * Builds and deploys workflow files. Runs in flight keep their versions; new runs get the new ones. A name two files
 * declare keeps the version deployed under it, whichever file that came from.
 */
export async function deployWorkflows(
  files: readonly string[],
  engine: Engine,
  sandbox: Sandbox,
  now: number,
  inputs?: BuildInputs,
  /** What the server offers, to warn of workflows that need what it lacks. */
  server?: ServerOffer,
): Promise<FileResult[]> {
  const results = await buildWorkflows(files, sandbox, now);
  for (const result of results) {
    if (server === undefined || result.definition === undefined) continue;
    const { manifest } = result.definition;
    const missing = [
      ...missingCapabilityWarnings(manifest, server.capabilities),
      ...(server.activities === undefined ? [] : missingActivityWarnings(manifest, server.activities)),
      ...(server.secrets === undefined ? [] : missingSecretWarnings(manifest, server.secrets)),
      ...(server.secretAccess === undefined ? [] : withheldSecretWarnings(manifest, server.secretAccess)),
    ];
    if (missing.length > 0) result.warnings = [...(result.warnings ?? []), ...missing];
  }
  // What is deployed now, also at a restart, before the engine read it: a version already active is not deployed
  // again, and the message of a disputed name names the version that stays.
  await engine.syncDefinitions();
  for (const result of results) {
    if (result.declaredBy !== undefined && result.name !== undefined)
      settleDispute(result, result.name, engine.activeDefinition(result.name));
    if (!result.definition) continue;
    const replaced = engine.activeDefinition(result.definition.name);
    if (replaced?.version === result.definition.version) continue;
    await engine.deploy(result.definition);
    result.deployed = true;
    if (replaced) result.replaced = replaced;
    // The engine read the active versions after this deploy committed: another node's deploy may have come after it.
    const active = engine.activeDefinition(result.definition.name);
    if (active !== undefined && active.version !== result.definition.version) result.overtakenBy = active;
  }
  inputs?.remember(results);
  return results;
}

/**
 * A name several files declare stays with the file its active version came from: that file deploys as usual (its
 * team's edits go on deploying), and a file that took the name since is refused. Without such a file (a first deploy,
 * or the file was renamed) none deploys and the active version, if any, stays.
 */
function settleDispute(result: FileResult, name: string, active: DeployedDefinition | undefined): void {
  const contender = result.contender;
  delete result.contender;
  const holder = active?.origin === undefined ? undefined : resolve(active.origin);
  const others = (result.declaredBy ?? []).filter((file) => resolve(file) !== resolve(result.file));
  if (holder === undefined || !result.declaredBy?.some((file) => resolve(file) === holder)) {
    result.error += active
      ? `; the deployed ${name} stays at version ${active.version.slice(0, 12)}${active.origin === undefined ? '' : ` from ${active.origin}`}`
      : `; no version of ${name} is deployed`;
  } else if (resolve(result.file) === holder && contender !== undefined) {
    delete result.error;
    result.definition = contender;
    result.warnings = [
      ...(result.warnings ?? []),
      `workflow name '${name}' is also declared by ${others.join(' and ')}, which ${others.length > 1 ? 'are' : 'is'} not deployed: the name stays with this file, whose workflow is deployed`,
    ];
  } else {
    result.error = `workflow name '${name}' belongs to ${holder}, whose workflow is deployed under it; ${result.file} also declares it and is not deployed: give its workflow another name, or remove the file`;
  }
}

/**
 * The active workflows deployed from `dir` that no file there declares any more: the file is gone, is no longer a
 * workflow file, or declares another name. A file that failed to build still counts as declaring its workflow, so
 * that a typo never retires one, and a name two files declare is kept, whichever file it was deployed from.
 */
export function undeclaredWorkflows(dir: string, results: readonly FileResult[], active: readonly DeployedDefinition[]): string[] {
  const folder = resolve(dir);
  const declared = new Map(results.flatMap((result) => (result.name === undefined ? [] : [[resolve(result.file), result.name] as const])));
  const failed = new Set(results.filter((result) => result.error !== undefined).map((result) => resolve(result.file)));
  const disputed = new Set(results.flatMap((result) => (result.declaredBy === undefined ? [] : [result.name])));
  return active
    .filter((definition) => {
      if (definition.origin === undefined || disputed.has(definition.name)) return false;
      const file = resolve(definition.origin);
      return dirname(file) === folder && !failed.has(file) && declared.get(file) !== definition.name;
    })
    .map((definition) => definition.name);
}

/**
 * The active workflows deployed from a file outside `dir`: a server started on another folder than last time leaves
 * them running, triggers and schedules included, since a folder cannot tell a workflow of another from one it lost.
 */
export function workflowsDeployedElsewhere(dir: string, active: readonly DeployedDefinition[]): DeployedDefinition[] {
  const folder = resolve(dir);
  return active.filter((definition) => definition.origin !== undefined && dirname(resolve(definition.origin)) !== folder);
}

/**
 * What each workflow file was last built from, for dev mode's watch of the files outside the folder that workflows
 * import. The runtime keeps one, and hands it to each deploy and to the watch.
 */
export class BuildInputs {
  private byFile = new Map<string, readonly string[]>();
  private readonly listeners = new Set<() => void>();

  /**
   * After a deploy: what its files were built from. A file that failed to build keeps what it was built from last,
   * so that fixing the shared file it broke redeploys it.
   */
  remember(results: readonly FileResult[]): void {
    const byFile = new Map<string, readonly string[]>();
    for (const result of results) {
      const file = resolve(result.file);
      const known = result.inputs ?? this.byFile.get(file);
      if (known) byFile.set(file, known);
    }
    this.byFile = byFile;
    for (const listener of this.listeners) listener();
  }

  /** The files outside `folder` that its workflows were last built from: shared code and linked packages. */
  outside(folder: string): Set<string> {
    const all = [...this.byFile.values()].flat();
    return new Set(all.filter((path) => relative(folder, path).startsWith(`..${sep}`)));
  }

  /** Calls `listener` after each deploy; returns what stops that. */
  follow(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** A workflow file that failed to build at the latest deploy, and why. */
export interface DeployProblem {
  /** The file, as the deploy named it. */
  file: string;
  /** The workflow it declared when it last built, when known (a new file that never built declares none yet). */
  workflow?: string;
  /** Why, with each error's `file:line:column`; paths inside the workflows folder relative to it. */
  message: string;
  /** Epoch ms: the deploy it first failed in (it failed in every deploy since). */
  since: number;
}

/**
 * The files that failed to build at the latest deploy of a folder, so that the API and the CLI show them beside the
 * version that stays active. In memory: each node knows what its own deploys found. A file that builds, or is gone,
 * at the next deploy is no longer a problem.
 */
export class DeployProblems {
  private byFile = new Map<string, DeployProblem>();

  /** `folder`: the workflows folder, whose path the messages leave out. */
  constructor(private readonly folder: string) {}

  /** After a deploy: its failed files. `active`: the definitions active since, to name a failed file's workflow. */
  remember(results: readonly FileResult[], now: number, active: readonly DeployedDefinition[]): void {
    const byFile = new Map<string, DeployProblem>();
    for (const result of results) {
      if (result.error === undefined) continue;
      const file = resolve(result.file);
      const before = this.byFile.get(file);
      const workflow =
        result.name ??
        before?.workflow ??
        active.find((definition) => definition.origin !== undefined && resolve(definition.origin) === file)?.name;
      const message = withinFolder(result.error, this.folder);
      byFile.set(file, { file: result.file, ...(workflow === undefined ? {} : { workflow }), message, since: before?.since ?? now });
    }
    this.byFile = byFile;
  }

  list(): DeployProblem[] {
    return [...this.byFile.values()];
  }
}

/**
 * `message` with the workflows folder's path left out of the paths in it, in both forms bundling writes (absolute,
 * and relative to the working directory): `greet.ts:5:15`, as the author knows the file, not where the server keeps it.
 */
function withinFolder(message: string, folder: string): string {
  const absolute = resolve(folder);
  const prefixes = [absolute, relative(process.cwd(), absolute)].filter((prefix) => prefix !== '').map((prefix) => `${prefix}${sep}`);
  return prefixes.reduce(
    (text, prefix) => text.replace(new RegExp(`(^|[\\s('"])${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'g'), '$1'),
    message,
  );
}

/** Dev mode's watch on the workflows folder. */
export interface DirectoryWatch {
  /** Stops watching; resolves once the watches are released. */
  close(): Promise<void>;
}

/**
 * Calls `onChange` (debounced) when anything in the folder or its subfolders changes, or a file outside it that a
 * workflow there was built from (`../lib/util.ts`, a linked package): dev mode's redeploy. Resolves once the folder
 * is watched. With chokidar: node 20's `fs.watch(dir, { recursive: true })` on Linux loses a file for good once an
 * editor saves it atomically (writes a temporary file and renames it over), so later edits and the file's deletion
 * went unseen.
 */
export async function watchWorkflowDirectory(
  dir: string,
  onChange: () => void,
  options: { onError: (error: Error) => void; debounceMs?: number; inputs?: BuildInputs },
): Promise<DirectoryWatch> {
  const folder = resolve(dir);
  let timer: NodeJS.Timeout | undefined;
  // `atomic` (chokidar's default) reports a file renamed over another as one change, not a deletion and an addition.
  const watcher = watchPaths(dir, { ignoreInitial: true, atomic: true });
  let outside = new Set<string>();
  // Each deploy can add or drop an import: the files outside the folder are watched as the last build says.
  const follow = (): void => {
    const wanted = options.inputs?.outside(folder) ?? new Set<string>();
    const added = [...wanted].filter((path) => !outside.has(path));
    const dropped = [...outside].filter((path) => !wanted.has(path));
    if (added.length > 0) watcher.add(added);
    if (dropped.length > 0) watcher.unwatch(dropped);
    outside = wanted;
  };
  follow();
  const unfollow = options.inputs?.follow(follow);
  watcher.on('all', () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(onChange, options.debounceMs ?? 200);
  });
  watcher.on('error', (error) => options.onError(toError(error)));
  await new Promise<void>((resolve) => watcher.once('ready', resolve));
  return {
    async close() {
      unfollow?.();
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
}
