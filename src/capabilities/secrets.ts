import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CapabilityError, PermissionDeniedError } from '../core/errors.js';
import type { Json } from '../core/model.js';
import { secretAllowed, type SecretAccess } from '../core/secret-access.js';
import type { Capability, CapabilityContext, SecretSource } from '../core/ports.js';
import { parseArgs } from './args.js';

/**
 * A SecretSource over the operator's configured values. An empty value is not configured: it is what
 * `process.env.NAME ?? ''` gives when the variable is unset, and a workflow must not send it as a credential.
 */
export function createSecretSource(values: Readonly<Record<string, string>>): SecretSource {
  const entries = Object.entries(values)
    .filter(([, value]) => value !== '')
    .map(([name, value]) => ({ name, value }))
    // Longer values first, so that a secret containing another is redacted whole.
    .sort((a, b) => b.value.length - a.value.length);
  const configured = new Map(entries.map(({ name, value }) => [name, value]));
  return {
    get: (name) => configured.get(name),
    values: () => entries,
    fingerprint: (text) => createHash('sha256').update(text, 'utf8').digest('hex'),
  };
}

/**
 * What the server warns of at start when the configuration gives secrets an empty value, which counts as not
 * configured; undefined when none is empty.
 */
export function emptySecretsWarning(values: Readonly<Record<string, string>>): { names: string[]; message: string } | undefined {
  const names = Object.keys(values).filter((name) => values[name] === '');
  if (names.length === 0) return undefined;
  return {
    names,
    message:
      `secrets with an empty value count as not configured, and secrets.get fails for them (secret_missing): ${names.join(', ')}; ` +
      'set AUTOFLOW_SECRET_<NAME>, or the environment variable autoflow.config.ts reads the value from',
  };
}

/**
 * The shortest value a secret may have. Secret values are kept out of history, logs and the API by replacing them
 * wherever they occur (core/secrets.ts); a shorter one occurs in ordinary text, which would be rewritten too. GitLab
 * asks the same of a masked CI/CD variable.
 */
export const MIN_SECRET_CHARS = 8;

/** Why the server refuses the configuration's secrets (some are too short to be told from ordinary text), or undefined. */
export function shortSecretsProblem(values: Readonly<Record<string, string>>): string | undefined {
  const names = Object.keys(values).filter((name) => values[name] !== '' && values[name]!.length < MIN_SECRET_CHARS);
  if (names.length === 0) return undefined;
  return (
    `secrets shorter than ${MIN_SECRET_CHARS} characters: ${names.join(', ')}. Secret values are kept out of history, logs and the ` +
    `API by replacing them wherever they occur, and so short a value occurs in ordinary text, which would be rewritten too ` +
    `(a secret 'true' would change every 'true' a run handles); give each a longer value`
  );
}

const secretArgs = z.object({ name: z.string().min(1) });

/**
 * What `secrets.get` checks before reading a value: the method, the name, and `permissions.secrets`. Returns the
 * name. A mocked `secrets` runs it too (autoflow/testing), so that a test fails where production would.
 */
export function checkSecretRead(method: string, raw: Json, context: CapabilityContext, access: SecretAccess = {}): string {
  if (method !== 'get')
    throw new CapabilityError('unknown_method', `secrets has no method '${method}'; use secrets.get`, { retryable: false });
  const { name } = parseArgs(secretArgs, raw, 'secrets.get');
  if (!context.permissions.secrets?.includes(name)) {
    const why = secretAllowed(access, name, context.workflow)
      ? 'add it to permissions.secrets'
      : `the server's secretAccess lets only ${access[name]!.join(', ')} read it`;
    throw new PermissionDeniedError(`workflow '${context.workflow}' may not read secret '${name}': ${why}`, { secret: name });
  }
  return name;
}

/**
 * Why `secretAccess` cannot be taken, or undefined: it names a secret the server does not set. A mistyped name would
 * leave the secret it meant readable by every workflow that asks for it.
 */
export function secretAccessProblem(access: SecretAccess, secrets: Readonly<Record<string, string>>): string | undefined {
  const unknown = Object.keys(access).filter((name) => !Object.hasOwn(secrets, name));
  if (unknown.length === 0) return undefined;
  return `secretAccess names ${unknown.map((name) => `'${name}'`).join(', ')}, which ${unknown.length > 1 ? 'are' : 'is'} not among the configured secrets (${Object.keys(secrets).join(', ') || 'none'}): a misspelt name would leave the secret it meant open to every workflow; fix the name, or configure the secret`;
}

export interface SecretsCapabilityOptions {
  /**
   * What the error of a secret that is not configured says to do, where the values come from elsewhere than a
   * server's configuration (autoflow/testing: `createTestEnv({ secrets })`).
   * @default name => `set AUTOFLOW_SECRET_${name} or add it to secrets in autoflow.config.ts`
   */
  howToConfigure?: (name: string) => string;
  /** Which workflows may read which secrets (autoflow.config.ts `secretAccess`), for the refusal to say why. */
  access?: SecretAccess;
}

const configureOnServer = (name: string): string => `set AUTOFLOW_SECRET_${name} or add it to secrets in autoflow.config.ts`;

/** `secrets.get(name)`: only names listed in the definition's `permissions.secrets`. */
export function createSecretsCapability(source: SecretSource, options: SecretsCapabilityOptions = {}): Capability {
  const howToConfigure = options.howToConfigure ?? configureOnServer;
  const read = (method: string, raw: Json, context: CapabilityContext): Json => {
    const name = checkSecretRead(method, raw, context, options.access);
    const value = source.get(name);
    if (value === undefined) {
      throw new CapabilityError('secret_missing', `secret '${name}' is not configured: ${howToConfigure(name)}`, { retryable: false });
    }
    return value;
  };
  // A rejected promise, never a synchronous throw: the engine awaits every capability the same way.
  return { name: 'secrets', invoke: (method, raw, context) => Promise.resolve().then(() => read(method, raw, context)) };
}
