import { Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { flagName } from '../config/flag-names.js';
import { toError } from '../core/errors.js';
import type { Json } from '../core/model.js';
import { createClient, type ApiClientWithSimulator } from './client.js';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';
import { decodeUtf8File } from './text-file.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

/**
 * Checks what commander parsed against a command's options schema. Commander knows the flags;
 * the schema knows what their values must be. A violation names the flag, the value and the
 * expected form: `--limit is "ten", expected a positive integer`.
 */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const values = raw as Record<string, unknown>;
  const problems = result.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? '');
    return key === '' ? issue.message : `${flagName(key)} is ${JSON.stringify(values[key])}, expected ${issue.message}`;
  });
  throw new UsageError(problems.join('; '));
}

/** A flag holding an integer of at least `min`. */
export function integerFlag(min: number) {
  const expected = min === 1 ? 'a positive integer' : `an integer of at least ${min}`;
  return z.string().regex(/^\d+$/, expected).transform(Number).pipe(z.number().int().min(min, expected));
}

/** A flag holding a number of seconds greater than zero. */
export const secondsFlag = z
  .string()
  .regex(/^\d+(\.\d+)?$/, 'a number of seconds')
  .transform(Number)
  .pipe(z.number().positive('a number of seconds greater than 0'));

/** Parses the JSON text of a flag; the message names the flag so that the user knows which one. */
function parseJsonFlag(label: string, text: string): Json {
  try {
    return JSON.parse(text) as Json;
  } catch (caught) {
    throw new UsageError(`${label} is not valid JSON: ${toError(caught).message}`);
  }
}

/** The JSON in file `path`, or in standard input when `path` is `-`: UTF-8, with or without a BOM (text-file.ts). */
export function readJsonFile(flag: string, path: string, context: CliContext): Json {
  let bytes: Uint8Array;
  try {
    bytes = path === '-' ? context.readStdin() : readFileSync(resolve(context.cwd, path));
  } catch (caught) {
    throw new UsageError(`cannot read ${flag} ${path}: ${toError(caught).message}`, { cause: caught });
  }
  const text = decodeUtf8File(bytes, path === '-' ? `${flag} - (standard input)` : `${flag} ${path}`);
  return parseJsonFlag(`${flag} ${path}`, text);
}

/** `--<name> <json>` and `--<name>-file <file>`, which exclude each other; jsonFromFlags reads them. */
export function addJsonFlags(command: Command, name: string, what: string): Command {
  return command
    .option(`--${name} <json>`, `${what}, as JSON`)
    .addOption(new Option(`--${name}-file <file>`, `read ${what} from a JSON file (- for standard input)`).conflicts(name));
}

/**
 * The JSON a command takes inline (`--data '{…}'`) or from a file (`--data-file x.json`, `-` for standard input),
 * which has no limit on its size where an argument has one (Linux refuses one over 128 KiB): undefined without
 * either. Commander refuses the two together (`.conflicts()`).
 */
export function jsonFromFlags(
  name: string,
  values: { inline: string | undefined; file: string | undefined },
  context: CliContext,
): Json | undefined {
  if (values.inline !== undefined) return parseJsonFlag(`--${name}`, values.inline);
  if (values.file !== undefined) return readJsonFile(`--${name}-file`, values.file, context);
  return undefined;
}

/** The options of every command that talks to a running server. */
export const clientOptionsShape = {
  url: z.string().optional(),
  token: z.string().optional(),
};

export function addClientOptions(command: Command): Command {
  return command
    .addOption(new Option('--url <url>', `server URL (env AUTOFLOW_URL, default ${DEFAULT_URL})`))
    .addOption(new Option('--token <token>', 'API token (env AUTOFLOW_API_TOKEN)'));
}

/** A client for the server named by `--url`, then AUTOFLOW_URL, then the default. */
export function connect(options: { url?: string | undefined; token?: string | undefined }, context: CliContext): ApiClientWithSimulator {
  const url = options.url ?? (context.env.AUTOFLOW_URL || DEFAULT_URL);
  if (!/^https?:\/\/./.test(url) || !URL.canParse(url)) {
    const source = options.url === undefined ? 'AUTOFLOW_URL' : '--url';
    throw new UsageError(`${source} is ${JSON.stringify(url)}, expected an http:// or https:// URL such as ${DEFAULT_URL}`);
  }
  return createClient({ url, token: options.token ?? (context.env.AUTOFLOW_API_TOKEN || undefined) });
}
