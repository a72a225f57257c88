import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { formatJson, formatColumns, formatTime, formatTriggers } from '../format.js';
import { addClientOptions, clientOptionsShape, connect, parseOptions } from '../options.js';

const optionsSchema = z.strictObject({ ...clientOptionsShape, json: z.boolean().optional() });

export function registerWorkflows(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('workflows')
      .description('list the deployed workflows and their active versions')
      .option('--json', 'print them as JSON'),
  ).action(async (raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const workflows = await connect(options, context).listWorkflows();
    if (options.json) {
      context.out(formatJson(workflows));
      return;
    }
    if (workflows.length === 0) {
      context.err('no workflows deployed; put workflow files in the folder `autoflow server --workflows` points at');
      return;
    }
    const rows = workflows.map((workflow) => [
      workflow.name,
      workflow.version.slice(0, 12),
      formatTime(workflow.deployedAt),
      formatTriggers(workflow.triggers),
    ]);
    context.out(formatColumns([['NAME', 'VERSION', 'DEPLOYED', 'TRIGGERS'], ...rows]));
  });
}
