/**
 * Builds a workflow file into the single script the sandbox evaluates: TypeScript, relative
 * imports and npm packages in JavaScript or TypeScript (resolved from the workflow's folder; shared
 * blocks are such packages, docs/blocks.md), with `'autoflow'` aliased to src/sdk wherever it is
 * imported. Node built-ins are refused with a message that says what to use instead.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { DefinitionError } from '../core/errors.js';
import { canonicalJson } from '../core/json.js';
import type { Json, WorkflowManifest } from '../core/model.js';
import { BUNDLE_FILENAME, INTERNAL_SOURCE_PREFIX } from './source-map.js';
import { readTriagePolicies } from './triage-policy-file.js';

const SDK_DIR = fileURLToPath(new URL('../sdk/', import.meta.url));
/** AutoFlow's own sources that workflows bundle: the SDK, the blocks and the core modules they import. */
const AUTOFLOW_SRC = fileURLToPath(new URL('../', import.meta.url));
const BLOCKS_DIR = join(AUTOFLOW_SRC, 'blocks');
const SDK_ENTRY = join(SDK_DIR, 'index.ts');
/** `autoflow/blocks` is the built-in library, resolved like `autoflow` to this AutoFlow's own copy (one SDK runtime per bundle). */
const BLOCKS_ENTRY = join(BLOCKS_DIR, 'index.ts');
const SDK_BOOTSTRAP = join(SDK_DIR, 'bootstrap.ts');
/** Name of the generated entry in the source map. */
const ENTRY_SOURCE = `${INTERNAL_SOURCE_PREFIX}entry.js`;

/**
 * The most code a workflow's bundle may hold. Every run compiles its bundle in a fresh sandbox (≈90 ns per byte, on
 * the event loop), and each version is stored whole: a 40 MB string constant cost 5 s per run and 80 MB of database.
 * Our examples bundle to 28–66 KiB (the SDK alone ≈19 KiB), so this leaves room for big libraries, not for data.
 * Not configurable: `autoflow check` and `autoflow replay` build bundles without a server's configuration, and must
 * refuse what a deploy refuses.
 */
export const MAX_BUNDLE_BYTES = 5 * 1024 * 1024;

const BUILTINS = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]));
const isBuiltin = (specifier: string): boolean =>
  specifier.startsWith('node:') || BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0] as string);

export interface WorkflowBundle {
  /** The script: one function expression, called. */
  bundle: string;
  /** Its source map (v3, with sourcesContent); the author's files relative to the workflow's folder. */
  sourceMap: string;
  /** What bundling accepted but the author should hear about (a policy file's ignored keys), `file:line: message`. */
  warnings: string[];
}

/**
 * gitlab-triage policy files, imported as data: read, checked and normalized here, on the host (docs/triage.md). Every
 * YAML file a workflow imports is one, whatever its name (`.triage-policies.yml`, `policies/stale.yml`).
 */
const TRIAGE_POLICY_FILE = /\.ya?ml$/;

const MIB = 1024 * 1024;
const mib = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;
/** What to do about a bundle too big. */
const KEEP_DATA_OUT =
  "Keep data out of the workflow's code: fetch it when the run needs it (http.request, gitlab, an activity) or pass it in the run's input";

/**
 * Why a file of the author's is too big for any bundle, refused before esbuild parses it (a 40 MB one took it 8 s). A
 * package's file may be bigger than what it adds to the bundle (esbuild leaves out what is not imported): the
 * bundle's own check covers packages.
 */
async function oversizedFile(path: string, entryDir: string): Promise<string | undefined> {
  if (path.split(sep).includes('node_modules')) return undefined;
  const { size } = await stat(path);
  if (size <= MAX_BUNDLE_BYTES) return undefined;
  const file = relative(entryDir, path).split(sep).join('/');
  return `${file} is ${mib(size)}, more than a workflow's bundle may hold (${mib(MAX_BUNDLE_BYTES)}). ${KEEP_DATA_OUT}.`;
}

const sandboxResolution = (entryDir: string): esbuild.Plugin => ({
  name: 'autoflow-sandbox',
  setup(build) {
    // Before the loaders below, which run when this one returns nothing.
    build.onLoad({ filter: /.*/, namespace: 'file' }, async (args) => {
      const problem = await oversizedFile(args.path, entryDir);
      return problem === undefined ? undefined : { errors: [{ text: problem }] };
    });
    build.onLoad({ filter: TRIAGE_POLICY_FILE }, async (args) => {
      const file = relative(entryDir, args.path).split(sep).join('/');
      try {
        const { policies, warnings } = readTriagePolicies(await readFile(args.path, 'utf8'), file);
        return { contents: `export default ${JSON.stringify(policies)};`, loader: 'js', warnings: warnings.map((text) => ({ text })) };
      } catch (error) {
        if (!(error instanceof DefinitionError)) throw error;
        return { errors: [{ text: error.message }] };
      }
    });
    build.onResolve({ filter: /^autoflow$/ }, () => ({ path: SDK_ENTRY }));
    build.onResolve({ filter: /^autoflow\/blocks$/ }, () => ({ path: BLOCKS_ENTRY }));
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (!isBuiltin(args.path)) return undefined;
      return {
        errors: [
          {
            text:
              `'${args.path}' is a Node.js module, and workflows run without Node.js. ` +
              "The sandbox has no file system/network: use http.request / gitlab / activities from 'autoflow' instead.",
          },
        ],
      };
    });
  },
});

/**
 * esbuild wraps a bundle in `(()=>{…})();`. Where an expression starts with `(`, QuickJS scans ahead to the
 * matching `)` to learn whether an arrow function follows: over the whole bundle, for every new instance (measured:
 * ≈400 µs of ≈2.2 ms for the SDK alone). `void function(){…}();` starts with no parenthesis. The new opening gets a
 * line of its own and the old one becomes spaces, so every other column stays put and the source map only gains an
 * empty first line.
 */
const ESBUILD_OPENING = '(()=>{';
const ESBUILD_CLOSING = '})();\n';

/** The fields of a source map (v3) that bundling rewrites. */
interface SourceMapFields {
  sources: string[];
  mappings: string;
}

/** Rewrites the wrapper, and shifts `map` one line down to match. */
function withoutLookahead(bundle: string, map: SourceMapFields): string {
  if (!bundle.startsWith(ESBUILD_OPENING) || !bundle.endsWith(ESBUILD_CLOSING)) {
    throw new Error(`esbuild's bundle no longer has the shape ${ESBUILD_OPENING}…${ESBUILD_CLOSING.trim()} that bundle.ts rewrites`);
  }
  map.mappings = `;${map.mappings}`;
  const body = bundle.slice(ESBUILD_OPENING.length, -ESBUILD_CLOSING.length);
  return `void function(){\n${' '.repeat(ESBUILD_OPENING.length)}${body}}();\n`;
}

function formatMessage(message: esbuild.Message): string {
  const where = message.location ? `${message.location.file}:${message.location.line}:${message.location.column + 1}: ` : '';
  return `  ${where}${message.text}`;
}

const PACKAGES_FOLDER = '/node_modules/';

/**
 * Renames the sources of the source map, so that none names where AutoFlow or a package is
 * installed: the built-in blocks become `autoflow/blocks/…`, named like a package's files (their
 * call sites show, as a shared block's do: a gate's calls have no other frame to show); AutoFlow's
 * other files become `autoflow:sdk/…` and `autoflow:core/…` (so that stack mapping skips them); a
 * package's become `<package>/<file>` (a shared block's call sites name the block, wherever npm
 * installed it); the author's stay relative to the workflow's folder.
 */
function renameSources(map: SourceMapFields, entryDir: string): void {
  map.sources = map.sources.map((source) => sourceName(source, entryDir));
}

/** A source's name in the source map (see renameSources); `source` is relative to the workflow's folder. */
function sourceName(source: string, entryDir: string): string {
  const portableFrom = (from: string, absolute: string): string => relative(from, absolute).split(sep).join('/');
  const absolute = resolve(entryDir, source);
  if (absolute.startsWith(BLOCKS_DIR)) return `autoflow/blocks/${portableFrom(BLOCKS_DIR, absolute)}`;
  if (absolute.startsWith(AUTOFLOW_SRC)) return `${INTERNAL_SOURCE_PREFIX}${portableFrom(AUTOFLOW_SRC, absolute)}`;
  if (basename(source) === ENTRY_SOURCE.slice(INTERNAL_SOURCE_PREFIX.length)) return ENTRY_SOURCE;
  const portable = absolute.split(sep).join('/');
  const packages = portable.lastIndexOf(PACKAGES_FOLDER);
  return packages === -1 ? source : portable.slice(packages + PACKAGES_FOLDER.length);
}

/**
 * Bundles `entryFile` for the sandbox. Throws DefinitionError listing every problem with its
 * `file:line:column`.
 */
export async function bundleWorkflow(entryFile: string): Promise<WorkflowBundle> {
  const entry = resolve(entryFile);
  const entryDir = dirname(entry);
  // Checked here, not when esbuild loads it: esbuild would place the error in the generated entry, which is no line
  // of the author's. A file that cannot be read is left to esbuild, which says so.
  const entryProblem = await oversizedFile(entry, entryDir).catch(() => undefined);
  if (entryProblem !== undefined) {
    throw new DefinitionError(`Cannot bundle the workflow ${entryFile}:\n  ${entryProblem}`, {
      details: { file: entryFile, errors: [entryProblem] },
    });
  }
  let result: esbuild.BuildResult<{ write: false; sourcemap: 'external'; outfile: string; metafile: true }>;
  try {
    result = await esbuild.build({
      // The generated entry imports the SDK's bootstrap first: it makes Date, Math.random and the
      // timers deterministic before any module of the workflow (or a library it uses) runs.
      stdin: {
        contents: [
          `import { registerWorkflowModule } from ${JSON.stringify(SDK_BOOTSTRAP)};`,
          `import * as workflowModule from ${JSON.stringify(`./${basename(entry)}`)};`,
          'registerWorkflowModule(workflowModule);',
        ].join('\n'),
        resolveDir: entryDir,
        sourcefile: ENTRY_SOURCE.slice(INTERNAL_SOURCE_PREFIX.length),
        loader: 'js',
      },
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      target: 'es2022',
      // QuickJS parses every new instance's bundle; without whitespace it parses ≈35% faster
      // (measured: 3.2 → 2.0 ms for the SDK alone). Names stay, so stacks stay readable.
      minifyWhitespace: true,
      sourcemap: 'external',
      sourcesContent: true,
      outfile: join(entryDir, BUNDLE_FILENAME),
      // Libraries that branch on it expect it to exist; there is no `process` in the sandbox.
      define: { 'process.env.NODE_ENV': '"production"' },
      plugins: [sandboxResolution(entryDir)],
      // What each file adds to the bundle, to name the biggest when it is too big.
      metafile: true,
      logLevel: 'silent',
    });
  } catch (error) {
    const failure = error as Partial<esbuild.BuildFailure>;
    if (!Array.isArray(failure.errors)) throw error;
    throw new DefinitionError(`Cannot bundle the workflow ${entryFile}:\n${failure.errors.map(formatMessage).join('\n')}`, {
      cause: error,
      details: { file: entryFile, errors: failure.errors.map(formatMessage) },
    });
  }
  const bundle = result.outputFiles.find((file) => file.path.endsWith('.js'));
  const map = result.outputFiles.find((file) => file.path.endsWith('.js.map'));
  if (!bundle || !map) throw new Error(`esbuild produced no bundle for ${entryFile}`);
  // Bytes, before the text is decoded (for UTF-8 code, within a few % of the characters QuickJS compiles).
  if (bundle.contents.byteLength > MAX_BUNDLE_BYTES) throw bundleTooBig(entryFile, entryDir, bundle.contents.byteLength, result.metafile);
  const sourceMap = JSON.parse(map.text) as SourceMapFields;
  renameSources(sourceMap, entryDir);
  return {
    bundle: withoutLookahead(bundle.text, sourceMap),
    sourceMap: JSON.stringify(sourceMap),
    warnings: result.warnings.map((warning) => formatMessage(warning).trim()),
  };
}

/** The refusal of a bundle over MAX_BUNDLE_BYTES, naming the files that put the most in it. */
function bundleTooBig(entryFile: string, entryDir: string, bytes: number, metafile: esbuild.Metafile): DefinitionError {
  // The metafile's paths are relative to the working directory; named as in stack traces instead.
  const biggest = Object.values(metafile.outputs)
    .flatMap((output) => Object.entries(output.inputs))
    .filter(([, input]) => input.bytesInOutput >= MIB / 10)
    .sort(([, a], [, b]) => b.bytesInOutput - a.bytesInOutput)
    .slice(0, 3)
    .map(([path, input]) => `${sourceName(relative(entryDir, resolve(path)), entryDir)} ${mib(input.bytesInOutput)}`);
  return new DefinitionError(
    `Cannot bundle the workflow ${entryFile}: its bundle is ${mib(bytes)}, more than a workflow may hold (${mib(MAX_BUNDLE_BYTES)})` +
      `${biggest.length > 0 ? `, the most from ${biggest.join(', ')}` : ''}. ${KEEP_DATA_OUT}.`,
    { details: { file: entryFile, bytes, limit: MAX_BUNDLE_BYTES } },
  );
}

/** A definition's version: sha256 (hex) of the bundle and the canonical JSON of its manifest. */
export function versionOf(bundle: string, manifest: WorkflowManifest): string {
  // A manifest is plain JSON data: its optional fields are absent, never undefined.
  return createHash('sha256')
    .update(bundle)
    .update('\n')
    .update(canonicalJson(manifest as unknown as Json))
    .digest('hex');
}
