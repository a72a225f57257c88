import type { Command } from 'commander';
import { z } from 'zod';
import type { CliContext } from '../context.js';
import { addClientOptions, addJsonFlags, clientOptionsShape, connect, jsonFromFlags, parseOptions } from '../options.js';

const optionsSchema = z.strictObject({
  ...clientOptionsShape,
  data: z.string().optional(),
  dataFile: z.string().optional(),
  idempotencyKey: z.string().optional(),
});

export function registerSignal(program: Command, context: CliContext): void {
  addClientOptions(
    addJsonFlags(
      program
        .command('signal')
        .description(
          'send a signal to a running run (it receives the event autoflow.signal.<name>); to a run that continued as new, its latest run gets it',
        )
        .argument('<id>', 'run id')
        .argument('<name>', 'signal name'),
      'data',
      'the payload of the signal',
    ).option(
      '--idempotency-key <key>',
      'a key of yours for this signal (e.g. a UUID): sent again with the same key, the signal is not delivered twice',
    ),
  ).action(async (id: string, name: string, raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    // Without --data the request has no body: the run's signal() gets `true`, where `--data null` gives it `null`.
    const payload = jsonFromFlags('data', { inline: options.data, file: options.dataFile }, context);
    const { runId, duplicate } = await connect(options, context).signalRun(id, name, payload, { idempotencyKey: options.idempotencyKey });
    // A run that continued as new goes on under another id: say which run got the signal.
    const to = runId === id ? `run ${id}` : `run ${runId} (run ${id} continued as it)`;
    if (duplicate) context.out(`signal ${name} was sent to ${to} before under this key; not sent again`);
    else context.out(`signal ${name} sent to ${to}; the run receives it at its next signal('${name}')`);
  });
}
