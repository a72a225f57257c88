import { AutoflowError, toError } from '../core/errors.js';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';

/** Some of the runs a command was given could not be acted on; each was named on stderr as it failed. */
export class SomeRunsFailedError extends AutoflowError {
  constructor(failed: readonly string[], total: number, done: string) {
    super('some_runs_failed', `${failed.length} of ${total} runs could not be ${done}`, { details: { failed: [...failed] } });
  }
}

/**
 * Acts on each run in turn and goes on past one that fails, so that ids piped in (`autoflow runs -q | xargs autoflow
 * cancel`) are all tried: each failure is said on stderr as it happens (`error: run <id>: …`), then the command fails
 * with the count. `done` says what was not done to a run that failed: `cancelled`, `retried`. One run's failure is
 * its error alone, which names the run already.
 */
export async function actOnEachRun(
  ids: readonly string[],
  done: string,
  context: CliContext,
  act: (id: string) => Promise<void>,
): Promise<void> {
  // An empty id is an unset shell variable, never a run: refused before anything is done.
  if (ids.some((id) => id.trim() === '')) throw new UsageError('a run id is empty; give the ids of runs');
  const [only] = ids;
  if (ids.length === 1 && only !== undefined) return act(only);
  const failed: string[] = [];
  for (const id of ids) {
    try {
      await act(id);
    } catch (caught) {
      failed.push(id);
      context.err(`error: run ${id}: ${toError(caught).message}`);
    }
  }
  if (failed.length > 0) throw new SomeRunsFailedError(failed, ids.length, done);
}
