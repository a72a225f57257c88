/**
 * Which workflows the operator lets read each secret (`secretAccess` in autoflow.config.ts): a workflow's own
 * `permissions.secrets` is what its author asks for, and on a server shared by several teams any author could ask for
 * another team's deploy key. A secret the operator does not list stays readable by every workflow that asks for it.
 */
import { globMatches } from './glob.js';
import type { Permissions, WorkflowManifest } from './model.js';

/** Secret name → the workflow names (or globs: `team-a-*`) that may read it. */
export type SecretAccess = Readonly<Record<string, readonly string[]>>;

/** Whether `workflow` may read `secret` as far as the operator is concerned. */
export function secretAllowed(access: SecretAccess, secret: string, workflow: string): boolean {
  const allowed = Object.hasOwn(access, secret) ? access[secret] : undefined;
  return allowed === undefined || allowed.some((glob) => globMatches(glob, workflow));
}

/** A definition's permissions as its runs have them, with the secrets it asks for that the operator keeps from it. */
export interface GrantedPermissions extends Permissions {
  /** Asked for in `permissions.secrets`, kept from it by `secretAccess`: a reference to one is refused, not sent as text. */
  withheldSecrets?: readonly string[];
}

const granted = new WeakMap<WorkflowManifest, GrantedPermissions>();

/**
 * The permissions a definition's runs have: what its manifest asks for, without the secrets the operator keeps from
 * it. Worked out once per manifest (per version); the manifest itself stays as declared, which views show.
 */
export function grantedPermissions(manifest: WorkflowManifest, access: SecretAccess): GrantedPermissions {
  const known = granted.get(manifest);
  if (known !== undefined) return known;
  const { secrets, ...rest } = manifest.permissions;
  const withheld = (secrets ?? []).filter((name) => !secretAllowed(access, name, manifest.name));
  const permissions: GrantedPermissions =
    withheld.length === 0
      ? manifest.permissions
      : { ...rest, secrets: (secrets ?? []).filter((name) => !withheld.includes(name)), withheldSecrets: withheld };
  granted.set(manifest, permissions);
  return permissions;
}
