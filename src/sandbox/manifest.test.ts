import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DefinitionError } from '../core/errors.js';
import { parseManifest } from './manifest.js';

const declaration = (filter: unknown) => ({
  name: 'orders',
  triggers: [{ cron: '0 6 * * *' }, { event: 'com.example.order.created', filter }],
  permissions: {},
  validatesInput: false,
});

/** The message a declaration is refused with; fails the test when it is accepted. */
function refusalOf(declared: unknown, file: string): string {
  try {
    parseManifest(declared, file);
  } catch (error) {
    assert.ok(error instanceof DefinitionError);
    return error.message;
  }
  assert.fail(`the declaration ${JSON.stringify(declared)} was accepted`);
}

const refusal = (filter: unknown): string => refusalOf(declaration(filter), 'workflows/orders.ts');

describe('trigger filters in the declaration', () => {
  test('a malformed operand is refused, naming the file, the workflow, the trigger, the field, the operator and what is expected', () => {
    const message = refusal({ status: { in: 'paid' } });
    assert.match(message, /^workflows\/orders\.ts: the workflow\(\{\.\.\.\}\) declaration of workflow 'orders' is invalid:/);
    assert.match(
      message,
      /triggers\[1\]\.filter\['status'\]\.in: operator 'in' of field 'status': expected a non-empty list of values, such as \{ in: \['opened', 'reopened'\] \}; got "paid" \(in the trigger on com\.example\.order\.created\)/,
    );
  });

  const refused: Array<[string, unknown, RegExp]> = [
    [
      'a glob that is no string',
      { ref: { glob: 5 } },
      /filter\['ref'\]\.glob: operator 'glob' of field 'ref': expected a non-empty string pattern.*; got 5/,
    ],
    [
      'an in under not that is no list',
      { label: { not: { in: null } } },
      /filter\['label'\]\.not\.in: operator 'not\.in' of field 'label': .*; got null/,
    ],
    [
      'exists with no boolean',
      { draft: { exists: 'no' } },
      /filter\['draft'\]\.exists: operator 'exists' of field 'draft': expected true or false; got "no"/,
    ],
    [
      'an unknown operator',
      { status: { inn: ['paid'] } },
      /filter\['status'\]\.inn: unknown operator 'inn' of field 'status': expected one of equals, in, exists, glob, not \(did you mean 'in'\?\)/,
    ],
    ['an empty in', { status: { in: [] } }, /filter\['status'\]\.in: .*non-empty list/],
    [
      'two operators in one condition',
      { status: { equals: 'a', glob: 'b*' } },
      /filter\['status'\]: the condition of field 'status': expected one operator/,
    ],
    ['an empty path segment', { 'object_attributes..iid': 1 }, /filter\['object_attributes\.\.iid'\]: the field path/],
  ];
  for (const [what, filter, message] of refused) {
    test(`refuses ${what}`, () => assert.match(refusal(filter), message));
  }

  test('refuses a runKey path with an empty segment, as a filter path', () => {
    const declared = { ...declaration(undefined), triggers: [{ event: 'com.gitlab.events.push', runKey: ['project_id', 'a..b'] }] };
    assert.match(refusalOf(declared, 'workflows/orders.ts'), /triggers\[0\]\.runKey: must be a list of event paths/);
  });

  test('every problem of the declaration is listed at once', () => {
    const message = refusal({ a: { in: 'x' }, b: { exists: 1 } });
    assert.match(message, /filter\['a'\]\.in/);
    assert.match(message, /filter\['b'\]\.exists/);
  });

  test('well-formed filters pass as they are', () => {
    const filter = {
      'labels.title': 'bug',
      tags: ['a', 'b'],
      status: { in: ['paid', 'shipped'] },
      'changes.milestone_id': { exists: true },
      ref: { glob: 'refs/tags/v*' },
      'object_attributes.title': { not: { glob: '*WIP*' } },
      address: { equals: { city: 'Berlin' } },
      closed_at: null,
    };
    assert.deepEqual(parseManifest(declaration(filter), 'orders.ts').triggers[1], { event: 'com.example.order.created', filter });
  });
});

describe('cron triggers', () => {
  const withCron = (cron: unknown) => ({ name: 'nightly', triggers: [{ cron }], permissions: {}, validatesInput: false });
  const cronRefusal = (cron: unknown): string => refusalOf(withCron(cron), 'nightly.ts');

  test('a pattern the scheduler could not parse is refused at check and deploy, with what the parser said', () => {
    for (const cron of ['0 6 * * 1-5x', '0 6 * * MONDAY', '0 6 * * 5-1', '*/0 * * * *', 'x 6 * * *', '0 6 * FOO *', '@reboot']) {
      assert.match(
        cronRefusal(cron),
        /triggers\[0\]\.cron: is not a valid cron expression \(five or six fields, e\.g\. "0 6 \* \* 1", or one of @yearly, .*\), got /,
        cron,
      );
    }
    assert.match(cronRefusal('0 6 * * 1-5x'), /got "0 6 \* \* 1-5x": CronPattern: .*1-5x/);
    assert.match(cronRefusal('0 6 * *'), /got "0 6 \* \*"$/);
  });

  test('a pattern that matches no date is refused: it would never start a run', () => {
    assert.match(cronRefusal('0 0 30 2 *'), /triggers\[0\]\.cron: matches no date \("0 0 30 2 \*"\), so it would never start a run/);
  });

  test('patterns the scheduler takes pass', () => {
    for (const cron of ['0 6 * * 1-5', '*/15 * * * *', '0 0 6 * * MON-FRI', '0 9 1 JAN,JUL *', '0 0 L * *', '@weekly', '@Daily']) {
      assert.deepEqual(parseManifest(withCron(cron), 'nightly.ts').triggers, [{ cron }], cron);
    }
  });
});
