import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { addClientOptions, clientOptionsShape, connect, parseOptions } from '../options.js';

const optionsSchema = z.strictObject({ ...clientOptionsShape });

export function registerUndeploy(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('undeploy')
      .description('retire a workflow: no new runs, its triggers and schedules stop; its runs in flight finish on their version')
      .argument('<workflow>', 'workflow name'),
  ).action(async (name: string, raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    await connect(options, context).retireWorkflow(name);
    context.out(
      `workflow ${name} retired: its triggers and schedules stopped; its runs in flight go on. Deploying a file that declares it makes it active again.`,
    );
  });
}
