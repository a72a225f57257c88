import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { capabilityContext } from '../../test/helpers/capability-context.js';
import { CapabilityError, toErrorInfo } from '../core/errors.js';
import { createTestEnv } from '../testing/test-env.js';
import { MAX_ACTIVITY_RESULT_BYTES, createActivitiesCapability } from './activities.js';
import { createSecretSource } from './secrets.js';

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

describe("an activity's result", () => {
  const allowed = capabilityContext({ permissions: { activities: ['report'] } });
  const refusalOf = async (value: unknown): Promise<CapabilityError> => {
    const error = await createActivitiesCapability({ report: () => Promise.resolve(value) })
      .invoke('report', null, allowed)
      .catch((e: unknown) => e);
    assert.ok(error instanceof CapabilityError, `expected a refusal, got ${JSON.stringify(error)}`);
    return error;
  };

  test('that is not JSON fails for good, naming the activity and what is not JSON', async () => {
    const bigInt = await refusalOf({ items: [{ size: 1 }, { size: 2n }] });
    assert.deepEqual(
      [bigInt.code, bigInt.retryable, bigInt.message],
      [
        'result_not_json',
        false,
        "activity 'report' returned a result that is not JSON: result.items[1].size is a BigInt (turn it into a string or a number); return plain data",
      ],
    );
    const circular: Record<string, unknown> = { name: 'loop' };
    circular.self = circular;
    assert.match(
      (await refusalOf(circular)).message,
      /^activity 'report' returned a result that is not JSON: Converting circular structure to JSON .*property 'self' closes the circle; return plain data$/,
    );
    assert.equal((await refusalOf(() => 1)).message, "activity 'report' returned a function, which is not JSON; return plain data");
    assert.equal(
      (await refusalOf({ m: new Map([['a', 1]]) })).message,
      "activity 'report' returned a result that is not JSON: result.m is a Map, which JSON writes as {} (convert it with Object.fromEntries(map) or [...map]); return plain data",
    );
    assert.match((await refusalOf([new Set([1, 2])])).message, /: result\[0\] is a Set, which JSON writes as \{\}/);
  });

  test('of more than 10 MiB of JSON fails for good, naming the activity, its size and the limit', async () => {
    const refused = await refusalOf('x'.repeat(MAX_ACTIVITY_RESULT_BYTES));
    assert.deepEqual([refused.code, refused.retryable], ['result_too_large', false]);
    assert.equal(
      refused.message,
      `activity 'report' returned 10485762 bytes of JSON, more than the 10485760 bytes an activity's result may have: return less (a page, a summary) or a reference to where the data is kept`,
    );
    assert.deepEqual(toErrorInfo(refused).details, { bytes: 10_485_762, maxBytes: 10_485_760, code: 'result_too_large' });
    const atTheLimit = 'x'.repeat(MAX_ACTIVITY_RESULT_BYTES - 2);
    assert.equal(
      await createActivitiesCapability({ report: () => Promise.resolve(atTheLimit) }).invoke('report', null, allowed),
      atTheLimit,
    );
  });

  test('a workflow gets the refusal at once: the activity, which did its work, is not called again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'autoflow-activity-result-'));
    const file = join(dir, 'count.ts');
    writeFileSync(
      file,
      `import { activities, workflow } from 'autoflow';
export default workflow({
  name: 'count',
  permissions: { activities: ['countRows'] },
  async run() {
    return await activities.countRows();
  },
});`,
    );
    let calls = 0;
    const env = await createTestEnv({ workflows: [file], activities: { countRows: () => Promise.resolve({ rows: BigInt(++calls) }) } });
    try {
      const run = await env.result(await env.start('count'));
      assert.equal(run.status, 'failed');
      assert.match(run.error?.message ?? '', /^activity 'countRows' returned a result that is not JSON: result\.rows is a BigInt/);
      assert.equal(calls, 1);
    } finally {
      await env.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test("an activity's error is cut as a cause is: its message at 2,000 characters, never through a secret, and details of more left out", async () => {
  const token = 'tok-0123456789abcdef';
  const activities = createActivitiesCapability(
    {
      fatal: () =>
        Promise.reject(
          Object.assign(new Error(`${'e'.repeat(1990)} ${token} and the rest`), { details: { code: 'QUOTA', body: 'b'.repeat(3000) } }),
        ),
    },
    { secrets: createSecretSource({ TOKEN: token }) },
  );
  const info = toErrorInfo(await activities.invoke('fatal', null, context).catch((e: unknown) => e));
  assert.equal(info.message, `${'e'.repeat(1990)} … (${token.length + 13} more characters cut)`);
  assert.deepEqual(info.details, { code: 'activity_failed' });
});
