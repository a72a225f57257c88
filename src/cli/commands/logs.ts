import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { formatJson, formatTime, printable } from '../format.js';
import { addClientOptions, clientOptionsShape, connect, integerFlag, parseOptions } from '../options.js';

const optionsSchema = z.strictObject({ ...clientOptionsShape, after: integerFlag(0).optional(), json: z.boolean().optional() });

export function registerLogs(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('logs')
      .description("print a run's log lines")
      .argument('<id>', 'run id')
      .option('--after <index>', 'only lines after this index (from a previous --json output)')
      .option('--json', 'print the lines as JSON, with their indexes'),
  ).action(async (id: string, raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const client = connect(options, context);
    const logs = [];
    for (let after = options.after; ;) {
      const page = await client.getLogs(id, after);
      logs.push(...page.logs);
      if (page.next === undefined) break;
      after = page.next;
    }
    if (options.json) context.out(formatJson(logs));
    // Like `runs` and `tasks`: an empty list is said on stderr, so that a script still reads nothing.
    else if (logs.length === 0) context.err(options.after === undefined ? 'no log lines' : `no log lines after index ${options.after}`);
    else for (const line of logs) context.out(`${formatTime(line.at)}  ${line.level.padEnd(5)}  ${printable(line.message)}`);
  });
}
