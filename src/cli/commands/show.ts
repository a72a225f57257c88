import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import {
  formatCalls,
  formatErrorLines,
  formatHistory,
  formatInline,
  formatJson,
  formatColumns,
  formatRetries,
  formatTime,
} from '../format.js';
import { addClientOptions, clientOptionsShape, connect, parseOptions } from '../options.js';

const optionsSchema = z.strictObject({ ...clientOptionsShape, json: z.boolean().optional() });

export function registerShow(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('show')
      .description(
        'show a run: status, input, result or error, its history, the calls it waits for (attempts, last error, next attempt) and its retries',
      )
      .argument('<id>', 'run id')
      .option('--json', 'print the run, its history, its open calls and its retries as JSON'),
  ).action(async (id: string, raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const client = connect(options, context);
    const [run, history, calls, retries] = await Promise.all([
      client.getRun(id),
      client.getHistory(id),
      client.listCalls(id),
      client.listRetries(id),
    ]);
    if (options.json) {
      context.out(formatJson({ run, history, calls, retries }));
      return;
    }
    const facts: string[][] = [
      ['run', run.id],
      ['workflow', `${run.workflow} (version ${run.version.slice(0, 12)})`],
      ['status', run.status],
      ['created', formatTime(run.createdAt)],
      ['updated', formatTime(run.updatedAt)],
      ['input', formatInline(run.input, 200)],
    ];
    if (run.parentId !== undefined) facts.push(['parent', run.parentId]);
    if (run.continuedFrom !== undefined) facts.push(['continued from', run.continuedFrom]);
    if (run.continuedAs !== undefined) facts.push(['continued as', run.continuedAs]);
    if (run.result !== undefined) facts.push(['result', formatInline(run.result, 200)]);
    if (run.error !== undefined) {
      const [error = '', ...more] = formatErrorLines(run.error);
      facts.push(['error', error], ...more.map((line) => ['', line]));
    }
    context.out(formatColumns(facts));
    context.out('');
    // A retry cut the failed task out of the history: the failures it answered are told here.
    if (retries.length > 0) {
      context.out('retries');
      for (const line of formatRetries(retries)) context.out(`  ${line}`);
      context.out('');
    }
    context.out('history');
    for (const line of formatHistory(history)) context.out(`  ${line}`);
    // A call that keeps failing is retried for a long time: its attempts and last error say why the run is not moving.
    if (calls.length > 0) {
      context.out('');
      context.out('open calls');
      for (const line of formatCalls(calls)) context.out(`  ${line}`);
    }
  });
}
