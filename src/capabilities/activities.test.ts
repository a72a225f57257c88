import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capabilityContext } from '../../test/helpers/capability-context.js';
import { CapabilityError, toErrorInfo } from '../core/errors.js';
import { createActivitiesCapability } from './activities.js';

const context = capabilityContext({ permissions: { activities: ['fatal', 'flaky'] } });

class TicketError extends Error {
  override name = 'TicketError';
  details = { ticket: 42 };
}

test("an activity's error keeps its name, message, details and cause; nonRetryable is not retried", async () => {
  const activities = createActivitiesCapability({
    fatal: () =>
      Promise.reject(
        Object.assign(new TicketError('ticket system refused', { cause: new Error('root cause: quota') }), { nonRetryable: true }),
      ),
  });
  const error = await activities.invoke('fatal', null, context).catch((e: unknown) => e);
  assert.ok(error instanceof CapabilityError && !error.retryable, String(error));
  const { stack, ...info } = toErrorInfo(error);
  assert.match(stack ?? '', /^TicketError: ticket system refused\n/, "the activity's own stack, for the server's logs");
  assert.deepEqual(info, {
    name: 'TicketError',
    message: 'ticket system refused',
    details: { ticket: 42, code: 'activity_failed' },
    cause: { name: 'Error', message: 'root cause: quota' },
  });
});

test("an activity's details keep a code of their own; a thrown non-error is retried as an Error", async () => {
  const activities = createActivitiesCapability({
    fatal: () => Promise.reject(Object.assign(new Error('refused'), { details: { code: 'QUOTA' } })),
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- what an activity written carelessly throws
    flaky: () => Promise.reject('try again'),
  });
  const fatal = await activities.invoke('fatal', null, context).catch((e: unknown) => e);
  assert.deepEqual(toErrorInfo(fatal).details, { code: 'QUOTA' });
  const flaky = await activities.invoke('flaky', null, context).catch((e: unknown) => e);
  assert.ok(flaky instanceof CapabilityError && flaky.retryable);
  assert.deepEqual([flaky.name, flaky.message], ['Error', 'try again']);
});

test('an activity that is not registered says where to register it: autoflow.config.ts, or what the embedding says', async () => {
  const allowed = capabilityContext({ permissions: { activities: ['openTicket'] } });
  const messageOf = (error: unknown): string => (error instanceof CapabilityError && !error.retryable ? error.message : String(error));
  assert.equal(
    messageOf(
      await createActivitiesCapability({})
        .invoke('openTicket', null, allowed)
        .catch((e: unknown) => e),
    ),
    "no activity 'openTicket' is registered; add it to activities in autoflow.config.ts",
  );
  const embedded = createActivitiesCapability({}, { howToRegister: (name) => `pass { ${name} } to the harness` });
  assert.equal(
    messageOf(await embedded.invoke('openTicket', null, allowed).catch((e: unknown) => e)),
    "no activity 'openTicket' is registered; pass { openTicket } to the harness",
  );
});
