/**
 * Replay checks: does this code still produce the commands a recorded run made? The same
 * `replayHistory` the engine runs when it rebuilds a run, against a bundle of the given files, so
 * that "this change would strand runs in flight" shows up in a test or in CI instead of as a
 * `stuck` run in production.
 */
import type { RunView } from '../app/operations.js';
import { buildWorkflows } from '../app/deploy.js';
import { createSecretSource } from '../capabilities/secrets.js';
import { DefinitionError, NondeterminismError, ValidationError } from '../core/errors.js';
import type { DeployedDefinition, HistoryEvent, JsonObject } from '../core/model.js';
import { replayHistory } from '../core/replay.js';
import { lastTaskStart } from '../core/run-retry.js';
import { revealResolution } from '../core/secrets.js';
import type { Sandbox } from '../core/ports.js';
import { createQuickJsSandbox } from '../sandbox/quickjs-sandbox.js';
import { toPath } from './file-path.js';

const NO_SECRETS = createSecretSource({});

/** What `autoflow export` writes: the run as the API shows it, and its history. */
export interface ExportedRun {
  run: RunView;
  history: HistoryEvent[];
}

/** Where the code now differs from the history, as precisely as replay can tell. */
export interface Divergence {
  /** The workflow task (1-based) whose commands differ. */
  task: number;
  /** The step (sequence number of the durable call, timer, wait…) where they differ. */
  step: number | null;
  /** What history has there, e.g. `call http.request (step 3) at hello.ts:12:11`; null when the code issues more. */
  expected: string | null;
  /** What the code now issues there; null when it no longer issues anything. */
  got: string | null;
  /** Both call sites in the author's source (`file:line:column`), when known. */
  sites: { expected: string | null; got: string | null };
  /** The engine's full message, with what to do about it. */
  message: string;
}

export type ReplayReport =
  | {
      ok: true;
      runId: string;
      workflow: string;
      tasks: number;
      /** The run failed, and the workflow task that failed it was not replayed: a retry runs it again (`autoflow retry`). */
      failedTaskLeftOut?: true;
    }
  | { ok: false; runId: string; workflow: string; divergence: Divergence };

export interface ReplayOptions {
  /** A run's history: its events, or what `autoflow export` wrote (`{ run, history }`). */
  history: readonly HistoryEvent[] | ExportedRun;
  /** The workflow file (path or `file:` URL) whose code is checked against the history. */
  workflow: string | URL;
  /**
   * The run's id, which seeds its `Math.random`. Only code that branches on random numbers needs
   * it right. @default the exported run's id, else `'replay'`
   */
  runId?: string;
}

/** Replays recorded histories against workflow files, bundled once. */
export interface Replayer {
  /** Names of the workflows the files define. */
  readonly workflows: readonly string[];
  /** Rejects with ValidationError when no file defines the history's workflow. */
  replay(history: readonly HistoryEvent[] | ExportedRun, runId?: string): Promise<ReplayReport>;
}

/**
 * Bundles `files` (each must define a workflow) for replaying histories against them.
 *
 * @example
 * const replayer = await createReplayer(['workflows/release.ts', 'workflows/triage.ts']);
 * for (const exported of histories) console.log(await replayer.replay(exported));
 */
export async function createReplayer(files: readonly (string | URL)[], sandbox?: Sandbox): Promise<Replayer> {
  const box = sandbox ?? (await createQuickJsSandbox());
  const built = await buildWorkflows(files.map(toPath), box, 0);
  const failed = built.filter((result) => result.error !== undefined);
  if (failed.length > 0) throw new DefinitionError(failed.map((result) => `${result.file}: ${result.error}`).join('\n'));
  const definitions = new Map(built.map((result) => [result.name as string, result.definition as DeployedDefinition]));
  return {
    workflows: [...definitions.keys()],
    async replay(input, runId) {
      const history = 'history' in input ? input.history : input;
      const id = runId ?? ('run' in input ? input.run.id : 'replay');
      const first = history[0];
      if (first?.type !== 'run_started') {
        throw new ValidationError(
          `the history of run ${id} does not begin with run_started; is it a whole history from \`autoflow export\`?`,
        );
      }
      const definition = definitions.get(first.workflow);
      if (!definition) {
        throw new ValidationError(
          `run ${id} is a run of workflow '${first.workflow}', but the files given define ${[...definitions.keys()].map((name) => `'${name}'`).join(', ')}`,
        );
      }
      // As a retry takes a failed run to new code: from the task that failed it, which the new code makes again, and
      // may rightly make otherwise (the fix of what failed it).
      if (history.at(-1)?.type === 'run_failed') {
        const report = await replayOne(box, definition, history.slice(0, lastTaskStart(history)), id);
        return report.ok ? { ...report, failedTaskLeftOut: true } : report;
      }
      return replayOne(box, definition, history, id);
    },
  };
}

async function replayOne(
  sandbox: Sandbox,
  definition: DeployedDefinition,
  history: readonly HistoryEvent[],
  runId: string,
): Promise<ReplayReport> {
  // Seeded like the engine seeds a run (by its id), so Math.random gives the recorded numbers.
  const instance = await sandbox.createInstance(definition, { runId, seed: runId });
  try {
    // As the engine delivers them, with no secret granted: a call's outcome is un-escaped, never revealed.
    const outcome = await replayHistory(instance, history, {
      runId,
      workflow: definition.name,
      prepare: (resolution) => revealResolution(resolution, NO_SECRETS, []),
    });
    return { ok: true, runId, workflow: definition.name, tasks: outcome.tasks };
  } catch (caught) {
    if (!(caught instanceof NondeterminismError)) throw caught;
    const details = caught.details as JsonObject & Omit<Divergence, 'message'>;
    const { task, step, expected, got, sites } = details;
    return { ok: false, runId, workflow: definition.name, divergence: { task, step, expected, got, sites, message: caught.message } };
  } finally {
    instance.dispose();
  }
}

/**
 * Replays one recorded history against the code of `workflow`: `ok`, or where the code now
 * diverges (task, step, what history has, what the code does, both call sites).
 *
 * @example
 * const report = await replay({ history: JSON.parse(readFileSync('run.json', 'utf8')), workflow: 'workflows/release.ts' });
 * assert.ok(report.ok, report.ok ? '' : report.divergence.message);
 */
export async function replay(options: ReplayOptions): Promise<ReplayReport> {
  const replayer = await createReplayer([options.workflow]);
  return replayer.replay(options.history, options.runId);
}
