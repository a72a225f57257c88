import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import type { z } from 'zod';
import { ConfigError, toError } from '../core/errors.js';
import { flagName } from './flag-names.js';
import { unreadableFileProblem } from './readable-file.js';
import { configSchema } from './schema.js';
import { CONFIG_FILE_VARIABLE, SECRET_PREFIX, SETTINGS, type ConfigFlags } from './settings.js';
import { unknownVariables, type UnknownVariable } from './unknown-variables.js';

type DeepReadonly<T> = T extends (...args: never[]) => unknown ? T : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** The configuration every part of AutoFlow receives: validated, with absolute paths, frozen. */
export type ResolvedConfig = DeepReadonly<
  z.output<typeof configSchema> & {
    /** Absolute path of the config file that was loaded, if any. */
    configFile?: string;
    /** `AUTOFLOW_*` variables nothing reads (likely misspelt), for the server to warn of at start. */
    unknownVariables: readonly UnknownVariable[];
  }
>;

export interface LoadConfigOptions {
  flags?: ConfigFlags;
  /** The process environment; the CLI passes `process.env` (nothing else reads it). */
  env: Readonly<Record<string, string | undefined>>;
  /** Relative paths from flags and the environment resolve against it. */
  cwd: string;
}

export const DEFAULT_CONFIG_FILE = 'autoflow.config.ts';

type Origin = { kind: 'flag'; name: string } | { kind: 'env'; name: string } | { kind: 'file'; path: string };

function describeOrigin(origin: Origin | undefined): string {
  if (!origin) return 'the defaults';
  return origin.kind === 'file' ? origin.path : `${origin.kind} ${origin.name}`;
}

/**
 * Loads the configuration: flags > environment > config file > defaults, validated by one schema.
 * Throws ConfigError naming the key, its source, the bad value and the expected form.
 *
 * @example
 * const config = await loadConfig({ flags: { port: '9000' }, env: process.env, cwd: process.cwd() });
 */
export async function loadConfig(options: LoadConfigOptions): Promise<ResolvedConfig> {
  const { flags = {}, cwd } = options;
  // Shells and compose files often export variables as empty strings: those count as unset.
  const env = (name: string): string | undefined => (options.env[name] === '' ? undefined : options.env[name]);

  const configFile = findConfigFile(flags, env, cwd);
  const fileOrigin: Origin | undefined = configFile === undefined ? undefined : { kind: 'file', path: configFile };
  const raw: Record<string, unknown> = configFile === undefined ? {} : { ...(await readConfigFile(configFile)) };
  const origins = new Map<string, Origin>(fileOrigin ? Object.keys(raw).map((key) => [key, fileOrigin]) : []);

  for (const { key, env: envName, flag, coerce = String } of SETTINGS) {
    const fromFlag = flag === undefined ? undefined : flags[flag];
    const fromEnv = env(envName);
    if (fromFlag !== undefined) {
      raw[key] = typeof fromFlag === 'string' ? coerce(fromFlag) : fromFlag;
      origins.set(key, { kind: 'flag', name: flagName(flag as string) });
    } else if (fromEnv !== undefined) {
      raw[key] = coerce(fromEnv);
      origins.set(key, { kind: 'env', name: envName });
    }
  }

  // Environment secrets are strings and cannot be invalid, so `secrets` keeps the file as its origin.
  const envSecrets = Object.keys(options.env).flatMap((name) => {
    const value = name.startsWith(SECRET_PREFIX) ? env(name) : undefined;
    return value === undefined ? [] : [[name, value] as const];
  });
  if (envSecrets.length > 0) {
    const secrets: Record<string, unknown> = isRecord(raw.secrets) ? { ...raw.secrets } : {};
    for (const [name, value] of envSecrets) {
      if (name === SECRET_PREFIX) throw new ConfigError(`env ${SECRET_PREFIX} names no secret; call the variable ${SECRET_PREFIX}<NAME>`);
      secrets[name.slice(SECRET_PREFIX.length)] = value;
    }
    raw.secrets = secrets;
  }

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => describeIssue(issue, raw, origins, configFile));
    throw new ConfigError(`invalid configuration: ${issues.join('; ')}`, { details: { issues } });
  }

  // A relative path means "relative to whoever wrote it": the config file's folder for the file.
  const baseOf = (key: string): string => {
    const origin = origins.get(key);
    return origin?.kind === 'file' ? dirname(origin.path) : cwd;
  };
  const values = parsed.data;
  const resolved = {
    ...values,
    workflowsDir: resolve(baseOf('workflowsDir'), values.workflowsDir),
    db: values.db.kind === 'sqlite' ? { kind: 'sqlite' as const, path: resolve(baseOf('db'), values.db.path) } : values.db,
    ...(values.kubernetes && { kubernetes: readableKubernetesFiles(values.kubernetes, baseOf('kubernetes'), origins.get('kubernetes')) }),
    ...(configFile === undefined ? {} : { configFile }),
    unknownVariables: unknownVariables(options.env),
  };
  return deepFreeze(resolved);
}

/** The files the kubernetes capability reads (a kubeconfig, a CA's certificate). */
const KUBERNETES_FILES = ['kubeconfig', 'caFile'] as const;

/**
 * `kubernetes` with its files' paths made absolute, each checked readable: the capability reads them only when a
 * workflow first calls it, and a path that leads nowhere would then fail a GitOps run instead of the start.
 */
function readableKubernetesFiles<Kubernetes extends Partial<Record<(typeof KUBERNETES_FILES)[number], string>>>(
  kubernetes: Kubernetes,
  base: string,
  origin: Origin | undefined,
): Kubernetes {
  const resolved = { ...kubernetes };
  const issues: string[] = [];
  for (const key of KUBERNETES_FILES) {
    const given = kubernetes[key];
    if (given === undefined) continue;
    const path = resolve(base, given);
    resolved[key] = path;
    const problem = unreadableFileProblem(path);
    if (problem !== undefined) {
      issues.push(
        `kubernetes.${key} from ${describeOrigin(origin)} is ${JSON.stringify(given)}, expected a file this server can read: ${problem}`,
      );
    }
  }
  if (issues.length > 0) throw new ConfigError(`invalid configuration: ${issues.join('; ')}`, { details: { issues } });
  return resolved;
}

function findConfigFile(flags: ConfigFlags, env: (name: string) => string | undefined, cwd: string): string | undefined {
  const fromEnv = env(CONFIG_FILE_VARIABLE);
  const explicit = flags.config ?? fromEnv;
  if (explicit !== undefined) {
    const path = resolve(cwd, explicit);
    const origin = flags.config !== undefined ? 'flag --config' : `env ${CONFIG_FILE_VARIABLE}`;
    if (!existsSync(path)) throw new ConfigError(`config file ${path} (from ${origin}) does not exist; fix the path or leave it out`);
    return path;
  }
  const conventional = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(conventional) ? conventional : undefined;
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  let module: { default?: unknown };
  try {
    // tsImport, not import(): the CLI's global tsx hooks cannot load a `.ts` file with ESM syntax that
    // no `"type": "module"` package.json covers (/etc/autoflow, say): Node fails with "Cannot require()
    // ES Module … in a cycle". tsImport compiles such a file to CommonJS and loads it fresh each time.
    module = exportsOf((await tsImport(pathToFileURL(path).href, import.meta.url)) as { default?: unknown });
  } catch (caught) {
    const error = toError(caught);
    // Node's require stack would name the file again, with tsx's namespace query in it.
    const message = error.message.split('\nRequire stack:')[0] ?? error.message;
    throw new ConfigError(`cannot load config file ${path}: ${message}${loadHint(message)}`, { cause: error });
  }
  if (!isRecord(module.default)) {
    const found = module.default === undefined ? 'missing' : Array.isArray(module.default) ? 'an array' : typeof module.default;
    throw new ConfigError(`config file ${path} must end with \`export default defineConfig({ ... })\`; its default export is ${found}`);
  }
  return module.default;
}

/** A file compiled to CommonJS arrives as its `module.exports`, which esbuild marks `__esModule`. */
function exportsOf(namespace: { default?: unknown }): { default?: unknown } {
  const inner = namespace.default;
  return isRecord(inner) && inner.__esModule === true ? inner : namespace;
}

/** What to do about the failures a config file outside a Node project runs into. */
function loadHint(message: string): string {
  if (/top-level await/i.test(message)) {
    return '. The file is compiled to CommonJS, which has no top-level await, because no package.json with "type": "module" is in its folder or above: add one beside it, or rename the file to .mts';
  }
  const specifier = /Cannot find (?:module|package) '([^'./][^']*)'/.exec(message)?.[1];
  if (specifier === undefined) return '';
  const name = specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
  const install = `. Install the package ${name} where Node finds it from the config file (in a node_modules folder beside it or above)`;
  return name === 'autoflow'
    ? `${install}, or remove the import: defineConfig only adds types, so \`export default { ... }\` works the same`
    : install;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((segment, index) => (typeof segment === 'number' ? `[${segment}]` : `${index === 0 ? '' : '.'}${String(segment)}`))
    .join('');
}

// Secret values must not end up in a terminal or a log because they were mistyped: keys that name a
// secret (apiToken, gitlabToken, sessionSecret, secrets…) and the password in a URL.
const SENSITIVE_KEY = /token|secret|password/i;

const isSensitive = (segment: PropertyKey): boolean => typeof segment === 'string' && SENSITIVE_KEY.test(segment);

function withoutPassword(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(text)) return text;
  try {
    const url = new URL(text);
    if (url.password !== '') url.password = '(hidden)';
    return url.href;
  } catch {
    return text;
  }
}

function describeValue(path: readonly PropertyKey[], root: unknown): string {
  const value = path.reduce<unknown>(
    (node, segment) => (isRecord(node) || Array.isArray(node) ? (node as Record<PropertyKey, unknown>)[segment] : undefined),
    root,
  );
  if (path.some(isSensitive)) {
    // Nothing to hide, and the likely cause is worth saying: a file that reads the value from an unset variable.
    if (value === '') return 'empty (is its environment variable set?)';
    if (value === undefined) return 'not set (is its environment variable set?)';
    return '(hidden)';
  }
  if (typeof value === 'function') return 'a function';
  const text =
    JSON.stringify(value, (key, inner: unknown) =>
      isSensitive(key) ? '(hidden)' : typeof inner === 'string' ? withoutPassword(inner) : inner,
    ) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function describeIssue(
  issue: z.core.$ZodIssue,
  raw: Record<string, unknown>,
  origins: ReadonlyMap<string, Origin>,
  configFile: string | undefined,
): string {
  if (issue.code === 'unrecognized_keys') {
    // Only the file can hold keys of its own choosing; flags and variables have fixed names.
    return `${configFile ?? 'the configuration'}${issue.path.length ? ` (in ${formatPath(issue.path)})` : ''}: ${issue.message}`;
  }
  const top = issue.path[0];
  const origin = typeof top === 'string' ? origins.get(top) : undefined;
  return `${formatPath(issue.path)} from ${describeOrigin(origin)} is ${describeValue(issue.path, raw)}, expected ${issue.message}`;
}

function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value as DeepReadonly<T>;
}
