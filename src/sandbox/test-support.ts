/**
 * Helpers for the sandbox's tests: workflow files written to a temporary folder inside the repo
 * (`.tmp/`, git-ignored) so that their npm imports resolve from the repo's node_modules, bundled
 * and deployed for real.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Activation, Command, DeployedDefinition, Json, Resolution } from '../core/model.js';
import type { Sandbox } from '../core/ports.js';
import { bundleWorkflow, versionOf } from './bundle.js';
import type { QuickJsSandbox } from './quickjs-sandbox.js';

const TMP_ROOT = fileURLToPath(new URL('../../.tmp/', import.meta.url));

export interface WorkflowFolder {
  dir: string;
  /** Writes `source` to `name` (sub-folders are created) and returns its path. */
  write(name: string, source: string): string;
  remove(): void;
}

export function workflowFolder(): WorkflowFolder {
  mkdirSync(TMP_ROOT, { recursive: true });
  const dir = mkdtempSync(join(TMP_ROOT, 'sandbox-test-'));
  return {
    dir,
    write(name, source) {
      const path = join(dir, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, source);
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function deploy(sandbox: Sandbox, file: string): Promise<DeployedDefinition> {
  const { bundle, sourceMap } = await bundleWorkflow(file);
  const manifest = sandbox.inspect(bundle, { sourceMap, origin: file });
  return { version: versionOf(bundle, manifest), name: manifest.name, manifest, bundle, sourceMap, origin: file, deployedAt: 0 };
}

export const T0 = Date.UTC(2030, 0, 1, 9, 0, 0);

export function startActivation(input: Json, time = T0): Activation {
  return { time, start: { input }, resolutions: [], replaying: false };
}

export function resume(resolutions: Resolution[], time = T0 + 1000): Activation {
  return { time, resolutions, replaying: false };
}

/** The commands of one activation, without logs. */
export function durable(commands: Command[]): Command[] {
  return commands.filter((command) => command.kind !== 'log');
}

/** The terminal command of a list, if any. */
export function ending(commands: Command[]): Command | undefined {
  return commands.find((command) => ['complete', 'fail', 'cancelled', 'continueAsNew'].includes(command.kind));
}

/** Runs `activations` through a fresh instance and returns every activation's commands. */
export function runThrough(sandbox: QuickJsSandbox, definition: DeployedDefinition, activations: Activation[], runId = 'run-1'): Command[][] {
  const instance = sandbox.createInstanceNow(definition, { runId, seed: runId });
  try {
    return activations.map((activation) => instance.activateNow(activation).commands);
  } finally {
    instance.dispose();
  }
}
