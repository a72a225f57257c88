import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { AutoflowError, ValidationError } from '../../core/errors.js';
import type { HistoryEvent } from '../../core/model.js';
import type { Sandbox } from '../../core/ports.js';
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
  if (report.ok) {
    const leftOut = report.failedTaskLeftOut ? ', up to the task that failed it (a retry runs that one again)' : '';
    return [`✓ ${run}: ${report.tasks} workflow task${report.tasks === 1 ? '' : 's'} replayed${leftOut}`];
  }
  const { task, step, expected, got } = report.divergence;
  return [
    `✗ ${run}: diverges in workflow task ${task}${step === null ? '' : `, step ${step}`}`,
    `    history has   ${expected ?? 'nothing more'}`,
    `    code now does ${got ?? 'nothing more'}`,
  ];
}

/** The workflow a history is a run of, from its first event. */
function workflowOf(history: ExportedRun | HistoryEvent[]): string | undefined {
  const first = (Array.isArray(history) ? history : history.history)[0];
  return first?.type === 'run_started' ? first.workflow : undefined;
}

/** What replaying needs of a folder: the files that define the histories' workflows, and what the folder holds. */
interface Selection {
  files: string[];
  /** Every workflow the files that build define. */
  defined: string[];
  /** `file did not build: error`, for each file that does not. */
  failures: string[];
}

/** Builds the folder's files once, and keeps those that define a workflow a history is a run of. */
async function selectWorkflows(files: readonly string[], needed: ReadonlySet<string | undefined>, sandbox: Sandbox): Promise<Selection> {
  const { buildWorkflows } = await import('../../app/deploy.js');
  const built = await buildWorkflows(files, sandbox, 0);
  const ok = built.filter((result) => result.error === undefined);
  return {
    files: ok.filter((result) => needed.has(result.name)).map((result) => result.file),
    defined: ok.map((result) => result.name ?? '?'),
    failures: built.filter((result) => result.error !== undefined).map((result) => `${result.file} did not build: ${result.error ?? ''}`),
  };
}

export function registerReplay(program: Command, context: CliContext): void {
  program
    .command('replay')
    .description('replay exported run histories against workflow code: OK, or where the code diverges (task, step, both call sites)')
    .argument('<histories...>', 'files written by `autoflow export` (- for standard input)')
    .requiredOption('--workflow <file|dir>', 'the workflow file, or a folder whose workflows are matched to the runs by name')
    .action(async (files: string[], raw: unknown) => {
      const options = parseOptions(optionsSchema, raw);
      const target = resolve(context.cwd, options.workflow);
      if (!existsSync(target)) throw new UsageError(`--workflow ${options.workflow} does not exist`);
      const histories = files.map((file) => ({ file, history: readHistory(file, context) }));
      // Loaded on demand: the bundler and the sandbox are heavy, and the client commands never need them.
      const [{ createReplayer }, { findWorkflowFiles }, { createQuickJsSandbox }] = await Promise.all([
        import('../../testing/replay.js'),
        import('../../app/deploy.js'),
        import('../../sandbox/quickjs-sandbox.js'),
      ]);
      const isFolder = statSync(target).isDirectory();
      const workflowFiles = isFolder ? findWorkflowFiles(target) : [target];
      if (workflowFiles.length === 0) throw new UsageError(`--workflow ${options.workflow} holds no workflow files (*.ts, *.js)`);
      const sandbox = await createQuickJsSandbox();
      // From a folder, only the workflows the histories name are needed: a file that does not build
      // matters only to a history that no file that builds has the workflow of.
      const needed = new Set(histories.map(({ history }) => workflowOf(history)));
      const selection = isFolder ? await selectWorkflows(workflowFiles, needed, sandbox) : undefined;
      const replayed = selection?.files ?? workflowFiles;
      const replayer = replayed.length > 0 ? await createReplayer(replayed, sandbox) : undefined;
      let failed = 0;
      for (const { file, history } of histories) {
        try {
          const workflow = workflowOf(history);
          if (replayer === undefined || (workflow !== undefined && !replayer.workflows.includes(workflow))) {
            failed++;
            const defined = (selection?.defined ?? replayer?.workflows ?? []).map((name) => `'${name}'`).join(', ') || 'no workflow';
            context.out(`✗ ${file}: a run of workflow '${workflow ?? '?'}', but ${options.workflow} defines ${defined}`);
            for (const failure of selection?.failures ?? []) context.out(`    ${failure}`);
            continue;
          }
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
