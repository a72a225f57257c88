import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { CloudEvent } from '../../core/model.js';
import type { CliContext } from '../context.js';
import { addClientOptions, addJsonFlags, clientOptionsShape, connect, jsonFromFlags, parseOptions } from '../options.js';

const optionsSchema = z.strictObject({
  ...clientOptionsShape,
  type: z.string().min(1, 'an event type such as com.example.deploy_finished'),
  source: z.string().min(1, 'a non-empty source'),
  subject: z.string().optional(),
  data: z.string().optional(),
  dataFile: z.string().optional(),
  id: z.string().min(1, 'a non-empty id').optional(),
});

export function registerSendEvent(program: Command, context: CliContext): void {
  addClientOptions(
    addJsonFlags(
      program
        .command('send-event')
        .description('post a CloudEvent to the inbox, where triggers and waiting runs see it')
        .requiredOption('--type <type>', 'event type, e.g. com.example.deploy_finished')
        .option('--source <source>', 'event source', 'autoflow-cli')
        .option('--subject <subject>', 'event subject'),
      'data',
      'the event data',
    ).option('--id <id>', 'event id; the same source and id again is stored once (default: a new UUID)'),
  ).action(async (raw: unknown) => {
    const options = parseOptions(optionsSchema, raw);
    const event: CloudEvent = { specversion: '1.0', id: options.id ?? randomUUID(), source: options.source, type: options.type };
    if (options.subject !== undefined) event.subject = options.subject;
    const data = jsonFromFlags('data', { inline: options.data, file: options.dataFile }, context);
    if (data !== undefined) event.data = data;
    const { seq, duplicate } = await connect(options, context).ingestEvent(event);
    context.out(duplicate ? `event ${event.id} was already stored as #${seq}; not stored again` : `event ${event.id} stored as #${seq}`);
  });
}
