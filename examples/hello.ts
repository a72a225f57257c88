import { log, sleep, workflow } from 'autoflow';

/** The smallest durable workflow: greet, wait a moment, greet again. Start it with `autoflow run hello`. */
export default workflow({
  name: 'hello',
  description: 'Greets, sleeps one second durably, and returns the greeting',
  // No input at all (`autoflow run hello`) greets the world.
  input: {
    type: ['object', 'null'],
    properties: { name: { type: 'string', minLength: 1 } },
    additionalProperties: false,
  },
  async run(input: { name?: string } | null) {
    const name = input?.name ?? 'world';
    log.info(`hello, ${name}`);
    await sleep('1s');
    return { greeting: `Hello, ${name}!` };
  },
});
