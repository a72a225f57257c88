import type { Command } from 'commander';
import { closeSync, fchmodSync, fstatSync, openSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { AutoflowError, toError } from '../../core/errors.js';
import type { ExportedRun } from '../../testing/replay.js';
import type { CliContext } from '../context.js';
import { formatJson } from '../format.js';
import { addClientOptions, clientOptionsShape, connect, parseOptions } from '../options.js';

const optionsSchema = z.strictObject({ ...clientOptionsShape, out: z.string().optional() });

export function registerExport(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('export')
      .description('write a run and its whole history as JSON: the input of `autoflow replay`')
      .argument('<id>', 'run id')
      .option('--out <file>', 'write to this file instead of standard output'),
  ).action(async (id: string, raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const client = connect(options, context);
    const [run, history] = await Promise.all([client.getRun(id), client.getHistory(id)]);
    const exported: ExportedRun = { run, history };
    if (options.out === undefined) {
      context.out(formatJson(exported));
      return;
    }
    try {
      writeOwnerOnly(resolve(context.cwd, options.out), `${formatJson(exported)}\n`);
    } catch (caught) {
      throw new OutputNotWrittenError(`--out ${options.out}`, caught);
    }
    context.err(`run ${id} (${run.workflow}, ${run.status}, ${history.length} history events) written to ${options.out}`);
  });
}

/**
 * The output could not be written (a full disk, a missing folder): a failure of the command (exit 1), not of its
 * command line, which may be right and work once there is room.
 */
export class OutputNotWrittenError extends AutoflowError {
  constructor(where: string, cause: unknown) {
    super('output_not_written', `cannot write ${where}: ${toError(cause).message}`, { cause });
  }
}

/**
 * Writes `text` to `path` readable by its owner only (0600), as `autoflow backup` writes: a run's input, results and
 * history are what the database holds. A file that was there already is made so before it is written; a device or a
 * pipe (`/dev/stdout`) keeps its mode, which is not the export's to change.
 */
function writeOwnerOnly(path: string, text: string): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    if (fstatSync(fd).isFile()) fchmodSync(fd, 0o600);
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
