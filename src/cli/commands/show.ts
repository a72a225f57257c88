import type { Command } from 'commander';
import { z } from 'zod';
import { concurrencyNotes, holderNote } from '../../app/concurrency-text.js';
import type { RunView } from '../../app/operations.js';
import type { HistoryEvent } from '../../core/model.js';
import type { ApiClient } from '../client.js';
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

/**
 * The child runs run `id` started, in the order they started, page after page. Only a run whose history started a
 * child has any: the others cost no request.
 */
async function childRunsOf(client: ApiClient, id: string, history: readonly HistoryEvent[]): Promise<RunView[]> {
  if (!history.some((event) => event.type === 'child_started')) return [];
  const newestFirst: RunView[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listRuns({ parentId: id, limit: 500, ...(cursor === undefined ? {} : { cursor }) });
    newestFirst.push(...page.runs);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return newestFirst.reverse();
}

/** A child run in one line: id, workflow, status, and how it ended when that is not all its status says. */
function childLines(children: readonly RunView[]): string[] {
  const outcome = (child: RunView): string => {
    if (child.error !== undefined) return formatErrorLines(child.error)[0] ?? '';
    return child.continuedAs === undefined ? '' : `continued as ${child.continuedAs}`;
  };
  return formatColumns(children.map((child) => [child.id, child.workflow, child.status, outcome(child)])).split('\n');
}

export function registerShow(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('show')
      .description(
        'show a run: status, input, result or error, its history, its child runs (status, error), the calls it waits for (attempts, last error, next attempt) and its retries',
      )
      .argument('<id>', 'run id')
      .option('--json', 'print the run, its history, its child runs, its open calls and its retries as JSON'),
  ).action(async (id: string, raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const client = connect(options, context);
    const [run, history, calls, retries] = await Promise.all([
      client.getRun(id),
      client.getHistory(id),
      client.listCalls(id),
      client.listRetries(id),
    ]);
    const children = await childRunsOf(client, id, history);
    if (options.json) {
      context.out(formatJson({ run, history, children, calls, retries }));
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
    if (run.concurrency !== undefined) {
      facts.push(['concurrency', `${run.concurrency.group} (${concurrencyNotes(run).join('; ')})`]);
      const holders = run.concurrency.heldBy ?? [];
      if (holders.length > 0) facts.push(['held by', holders.map((holder) => `${holder.id} (${holderNote(holder)})`).join(', ')]);
    }
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
    // What became of the runs it started, which its history tells only of those it awaited, and only when they ended.
    if (children.length > 0) {
      context.out('');
      context.out('children');
      for (const line of childLines(children)) context.out(`  ${line}`);
    }
    // A call that keeps failing is retried for a long time: its attempts and last error say why the run is not moving.
    if (calls.length > 0) {
      context.out('');
      context.out('open calls');
      for (const line of formatCalls(calls)) context.out(`  ${line}`);
    }
  });
}
