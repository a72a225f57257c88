import type { Command } from 'commander';
import { closeSync, fchmodSync, openSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { toError } from '../../core/errors.js';
import type { ExportedRun } from '../../testing/replay.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
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
      throw new UsageError(`cannot write --out ${options.out}: ${toError(caught).message}`);
    }
    context.err(`run ${id} (${run.workflow}, ${run.status}, ${history.length} history events) written to ${options.out}`);
  });
}

/**
 * Writes `text` to `path` readable by its owner only (0600), as `autoflow backup` writes: a run's input, results and
 * history are what the database holds. A file that was there already is made so before it is written.
 */
function writeOwnerOnly(path: string, text: string): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeFileSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
