/**
 * A workflow's log lines are the run's (stored, `autoflow logs`); the server's own log repeats the first few of each
 * workflow task, for operators who read one stream. All of them once filled it: a run that logged 1,000 lines a task
 * wrote 116 MB to the server's stdout in 33 s.
 */
import type { LogLevel, LogRecord, RunRecord } from './model.js';
import type { Logger } from './ports.js';

/** Lines of one workflow task repeated in the server's log; the rest are counted in one line. */
export const MIRRORED_LOG_LINES = 20;

const SEVERITY: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * Repeats a task's log lines in the server's log, each with `runId`, `workflow` and `source: 'workflow'`. Past
 * MIRRORED_LOG_LINES, one line says how many more there are and where to read them, at the level of the most severe of
 * them, so that an operator who reads only warnings and errors hears of those left out.
 */
export function mirrorTaskLogs(logger: Logger, run: Pick<RunRecord, 'id' | 'workflow'>, logs: readonly LogRecord[]): void {
  const fields = { runId: run.id, workflow: run.workflow, source: 'workflow' };
  for (const line of logs.slice(0, MIRRORED_LOG_LINES)) logger[line.level](fields, line.message);
  const rest = logs.slice(MIRRORED_LOG_LINES);
  if (rest.length === 0) return;
  const level = rest.reduce<LogLevel>((most, line) => (SEVERITY[line.level] > SEVERITY[most] ? line.level : most), 'debug');
  logger[level](
    { ...fields, unmirrored: rest.length },
    `run ${run.id} logged ${rest.length} more line${rest.length === 1 ? '' : 's'} in this workflow task, not repeated here; read them with: autoflow logs ${run.id}`,
  );
}
