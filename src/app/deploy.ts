import { watch as watchPaths } from 'chokidar';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Engine } from '../core/engine.js';
import { DefinitionError, toError } from '../core/errors.js';
import type { DeployedDefinition } from '../core/model.js';
import type { Sandbox } from '../core/ports.js';
import { bundleWorkflow, versionOf } from '../sandbox/bundle.js';
import { createQuickJsSandbox } from '../sandbox/quickjs-sandbox.js';

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

/** Bundles one workflow file and reads its declaration: what deploying it would store, and what bundling warned of. */
async function build(file: string, sandbox: Sandbox, now: number): Promise<{ definition: DeployedDefinition; warnings: string[] }> {
  const { bundle, sourceMap, warnings } = await bundleWorkflow(resolve(file));
  const manifest = sandbox.inspect(bundle, { sourceMap, origin: file });
  const definition = { version: versionOf(bundle, manifest), name: manifest.name, manifest, bundle, sourceMap, origin: file, deployedAt: now };
  return { definition, warnings };
}

/** Bundles one workflow file and reads its declaration: what deploying it would store. */
export async function buildDefinition(file: string, sandbox: Sandbox, now: number): Promise<DeployedDefinition> {
  return (await build(file, sandbox, now)).definition;
}

export interface FileResult {
  file: string;
  name?: string;
  version?: string;
  error?: string;
  /** Accepted, but worth the author's attention (`file:line: message`). */
  warnings?: string[];
  definition?: DeployedDefinition;
  /** Its version was new to the engine and is now the active one (false: already active, or not built). */
  deployed?: boolean;
}

/** Builds workflow files; a name declared by two files is an error on the second. */
export async function buildWorkflows(files: readonly string[], sandbox: Sandbox, now: number): Promise<FileResult[]> {
  const results: FileResult[] = [];
  const owners = new Map<string, string>();
  for (const file of files) {
    try {
      const { definition, warnings } = await build(file, sandbox, now);
      const owner = owners.get(definition.name);
      if (owner) throw new DefinitionError(`workflow name '${definition.name}' is already declared by ${owner}; names must be unique`);
      owners.set(definition.name, file);
      results.push({ file, name: definition.name, version: definition.version, definition, ...(warnings.length > 0 ? { warnings } : {}) });
    } catch (caught) {
      results.push({ file, error: toError(caught).message });
    }
  }
  return results;
}

/**
 * `autoflow check`: bundle and validate every workflow in a folder, or the one workflow file
 * `path` names, without deploying anything.
 */
export async function checkWorkflowDirectory(path: string): Promise<Omit<FileResult, 'definition'>[]> {
  if (!existsSync(path)) return [{ file: path, error: `folder ${path} does not exist` }];
  const sandbox = await createQuickJsSandbox();
  const results = await buildWorkflows(statSync(path).isDirectory() ? findWorkflowFiles(path) : [path], sandbox, Date.now());
  if (results.length === 0) return [{ file: path, error: `no workflow files (*.ts, *.js) in ${path}` }];
  return results.map(({ definition: _definition, ...rest }) => rest);
}

/** Builds and deploys workflow files. Runs in flight keep their versions; new runs get the new ones. */
export async function deployWorkflows(files: readonly string[], engine: Engine, sandbox: Sandbox, now: number): Promise<FileResult[]> {
  const results = await buildWorkflows(files, sandbox, now);
  for (const result of results) {
    if (!result.definition) continue;
    if (engine.activeDefinition(result.definition.name)?.version === result.definition.version) continue;
    await engine.deploy(result.definition);
    result.deployed = true;
  }
  return results;
}

/**
 * The active workflows deployed from `dir` that no file there declares any more: the file is gone, is no longer a
 * workflow file, or declares another name. A file that failed to build still counts as declaring its workflow, so
 * that a typo never retires one.
 */
export function undeclaredWorkflows(dir: string, results: readonly FileResult[], active: readonly DeployedDefinition[]): string[] {
  const folder = resolve(dir);
  const declared = new Map(results.flatMap((result) => (result.name === undefined ? [] : [[resolve(result.file), result.name] as const])));
  const failed = new Set(results.filter((result) => result.error !== undefined).map((result) => resolve(result.file)));
  return active
    .filter((definition) => {
      if (definition.origin === undefined) return false;
      const file = resolve(definition.origin);
      return dirname(file) === folder && !failed.has(file) && declared.get(file) !== definition.name;
    })
    .map((definition) => definition.name);
}

/** Dev mode's watch on the workflows folder. */
export interface DirectoryWatch {
  /** Stops watching; resolves once the watches are released. */
  close(): Promise<void>;
}

/**
 * Calls `onChange` (debounced) when anything in the folder or its subfolders changes: dev mode's redeploy. Resolves
 * once the folder is watched. With chokidar: node 20's `fs.watch(dir, { recursive: true })` on Linux loses a file for
 * good once an editor saves it atomically (writes a temporary file and renames it over), so later edits and the
 * file's deletion went unseen.
 */
export async function watchWorkflowDirectory(
  dir: string,
  onChange: () => void,
  options: { onError: (error: Error) => void; debounceMs?: number },
): Promise<DirectoryWatch> {
  let timer: NodeJS.Timeout | undefined;
  // `atomic` (chokidar's default) reports a file renamed over another as one change, not a deletion and an addition.
  const watcher = watchPaths(dir, { ignoreInitial: true, atomic: true });
  watcher.on('all', () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(onChange, options.debounceMs ?? 200);
  });
  watcher.on('error', (error) => options.onError(toError(error)));
  await new Promise<void>((resolve) => watcher.once('ready', resolve));
  return {
    async close() {
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
}
