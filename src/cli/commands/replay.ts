import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { AutoflowError, ValidationError } from '../../core/errors.js';
import type { HistoryEvent } from '../../core/model.js';
import type { ExportedRun, ReplayReport } from '../../testing/replay.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { parseOptions, readJsonFile } from '../options.js';

const optionsSchema = z.strictObject({ workflow: z.string() });

/** At least one history does not replay against the code; each was reported on its own lines. */
export class ReplayDivergedError extends AutoflowError {
  constructor(failed: number, total: number) {
    super('replay_diverged', `${failed} of ${total} run${total === 1 ? '' : 's'} did not replay against the code`);
  }
}

/** A file of `autoflow export` (`{ run, history }`), or a bare array of history events. */
function readHistory(path: string, context: CliContext): ExportedRun | HistoryEvent[] {
  const value = readJsonFile('history file', path, context) as unknown;
  const history: unknown = Array.isArray(value) ? value : (value as { history?: unknown } | null)?.history;
  if (!Array.isArray(history))
    throw new UsageError(`${path} is not a run history: expected what \`autoflow export\` writes, { "run": …, "history": [ … ] }`);
  return value as ExportedRun | HistoryEvent[];
}

function reportLines(report: ReplayReport): string[] {
  const run = `${report.runId} (${report.workflow})`;
  if (report.ok) return [`✓ ${run}: ${report.tasks} workflow task${report.tasks === 1 ? '' : 's'} replayed`];
  const { task, step, expected, got } = report.divergence;
  return [
    `✗ ${run}: diverges in workflow task ${task}${step === null ? '' : `, step ${step}`}`,
    `    history has   ${expected ?? 'nothing more'}`,
    `    code now does ${got ?? 'nothing more'}`,
  ];
}

export function registerReplay(program: Command, context: CliContext): void {
  program
    .command('replay')
    .description('replay exported run histories against workflow code: OK, or where the code diverges (task, step, both call sites)')
    .argument('<histories...>', 'files written by `autoflow export`')
    .requiredOption('--workflow <file|dir>', 'the workflow file, or a folder whose workflows are matched to the runs by name')
    .action(async (files: string[], raw: unknown) => {
      const options = parseOptions(optionsSchema, raw);
      const target = resolve(context.cwd, options.workflow);
      if (!existsSync(target)) throw new UsageError(`--workflow ${options.workflow} does not exist`);
      const histories = files.map((file) => ({ file, history: readHistory(file, context) }));
      // Loaded on demand: the bundler and the sandbox are heavy, and the client commands never need them.
      const [{ createReplayer }, { findWorkflowFiles }] = await Promise.all([
        import('../../testing/replay.js'),
        import('../../app/deploy.js'),
      ]);
      const workflowFiles = statSync(target).isDirectory() ? findWorkflowFiles(target) : [target];
      if (workflowFiles.length === 0) throw new UsageError(`--workflow ${options.workflow} holds no workflow files (*.ts, *.js)`);
      const replayer = await createReplayer(workflowFiles);
      let failed = 0;
      for (const { file, history } of histories) {
        try {
          const report = await replayer.replay(history);
          if (!report.ok) failed++;
          for (const line of reportLines(report)) context.out(line);
        } catch (caught) {
          if (!(caught instanceof ValidationError)) throw caught;
          failed++;
          context.out(`✗ ${file}: ${caught.message}`);
        }
      }
      if (failed > 0) throw new ReplayDivergedError(failed, histories.length);
    });
}
