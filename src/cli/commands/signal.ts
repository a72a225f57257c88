import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { addClientOptions, clientOptionsShape, connect, parseJsonFlag, parseOptions } from '../options.js';

const optionsSchema = z.strictObject({ ...clientOptionsShape, data: z.string().optional() });

export function registerSignal(program: Command, context: CliContext): void {
  addClientOptions(
    program
      .command('signal')
      .description('send a signal to a running run (it receives the event autoflow.signal.<name>)')
      .argument('<id>', 'run id')
      .argument('<name>', 'signal name')
      .option('--data <json>', 'payload of the signal, as JSON'),
  ).action(async (id: string, name: string, raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const payload = options.data === undefined ? null : parseJsonFlag('--data', options.data);
    await connect(options, context).signalRun(id, name, payload);
    context.out(`signal ${name} sent to run ${id}; the run receives it at its next signal('${name}')`);
  });
}
