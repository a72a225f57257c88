import { log, signal, workflow } from 'autoflow';

/**
 * Greets, then waits up to a day for a reply:
 *   npx autoflow run hello --input '{"name":"Ada"}'
 *   npx autoflow signal <run-id> reply --data '"Hi!"'
 */
export default workflow({
  name: 'hello',
  description: 'Greets, and waits up to a day for a reply',
  input: {
    type: 'object',
    properties: { name: { type: 'string', minLength: 1 } },
    additionalProperties: false,
  },
  async run(input: { name?: string }) {
    const name = input.name ?? 'world';
    log.info(`hello, ${name}`);
    // A durable wait: the run costs nothing while it waits, and survives restarts.
    const reply = await signal<string>('reply', { timeout: '1d' });
    return { greeting: `Hello, ${name}!`, reply: reply ?? 'no reply within a day' };
  },
});
