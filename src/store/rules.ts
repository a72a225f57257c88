/**
 * Rules of the Store contract that do not depend on how rows are kept, shared by every
 * implementation so that they cannot drift apart.
 */
import { StoreError } from '../core/errors.js';
import type { RunStatus } from '../core/model.js';
import { TERMINAL_STATUSES } from '../core/model.js';
import type { TaskCommit } from '../core/ports.js';

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/**
 * Checks what a commit says about itself before anything is written: its history must continue
 * the run's history without a gap, the rows it adds must belong to its run, and a run it creates
 * must be that run, with no history yet. A violation is an engine bug, reported as such.
 */
export function checkTaskCommit(commit: TaskCommit): void {
  if (commit.create && (commit.create.run.id !== commit.runId || commit.expectedHistoryLength !== 0)) {
    throw new StoreError(
      `commit for run '${commit.runId}' creates run '${commit.create.run.id}' at history length ${commit.expectedHistoryLength}: ` +
        'a commit may only create its own run, as its first task (this is an engine bug)',
      { details: { runId: commit.runId, createdRunId: commit.create.run.id } },
    );
  }
  const rows = [...commit.calls, ...commit.timers, ...commit.waits, ...commit.logs];
  const foreign = rows.find((row) => row.runId !== commit.runId);
  if (foreign) {
    throw new StoreError(
      `commit for run '${commit.runId}' adds a row of run '${foreign.runId}': a task may only add calls, ` +
        'timers, waits and logs of its own run (this is an engine bug)',
      { details: { runId: commit.runId, foreignRunId: foreign.runId } },
    );
  }
  commit.history.forEach((event, i) => {
    const expected = commit.expectedHistoryLength + i;
    if (event.seq !== expected) {
      throw new StoreError(
        `commit for run '${commit.runId}' has history event ${i} with seq ${event.seq}, expected ${expected}: ` +
          'history seqs must continue from expectedHistoryLength (this is an engine bug)',
        { details: { runId: commit.runId, index: i, seq: event.seq, expected } },
      );
    }
  });
}
