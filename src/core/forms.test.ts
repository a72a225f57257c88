import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkFormFields, validateFormValues } from './forms.js';
import type { FormField } from './human-task.js';

const fields: FormField[] = [
  { name: 'title', label: 'Title', type: 'text', minLength: 3, maxLength: 10 },
  { name: 'body', label: 'Body', type: 'textarea', required: false },
  { name: 'count', label: 'Count', type: 'number', min: 1, max: 5 },
  { name: 'ok', label: 'OK?', type: 'boolean' },
  { name: 'tags', label: 'Tags', type: 'multichoice', options: ['a', { value: 'b', label: 'Bee' }, 'c'], minSelected: 1, maxSelected: 2 },
  { name: 'day', label: 'Day', type: 'date', min: '2026-01-01', max: '2026-12-31', required: false },
];

describe('form fields', () => {
  test('a valid field list has no problems; each broken definition is named', () => {
    assert.deepEqual(checkFormFields(fields), []);
    assert.deepEqual(checkFormFields([]), ['fields must be a non-empty list']);
    assert.deepEqual(
      checkFormFields([
        { name: 'a', label: 'A', type: 'choice', options: ['x', 'x'] },
        { name: 'a', label: 'Again', type: 'text' },
        { name: 'n', label: 'N', type: 'number', min: 'one' },
        { name: 'd', label: 'D', type: 'date', default: 'tomorrow' },
      ]),
      [
        "field 'a': option 'x' appears twice",
        "field 'a': the name is used twice",
        "field 'n': min and max must be numbers",
        "field 'd': the default is invalid (must be a date written YYYY-MM-DD)",
      ],
    );
  });

  test('values from an HTML post are coerced to their types; empty optional fields are left out', () => {
    const result = validateFormValues(fields, { title: 'Hello', body: '  ', count: '3', ok: 'on', tags: 'b', csrf: 'ignored' });
    assert.deepEqual(result, { ok: true, values: { title: 'Hello', count: 3, ok: true, tags: ['b'] } });
    assert.deepEqual(validateFormValues(fields, { title: 'Hello', count: 1, ok: false, tags: ['a', 'a'] }), {
      ok: true,
      values: { title: 'Hello', count: 1, ok: false, tags: ['a'] },
    });
  });

  test('every rule a field sets is enforced with a message for that field', () => {
    assert.deepEqual(validateFormValues(fields, { title: 'Hi\nthere', count: '9', ok: 'maybe', tags: ['a', 'b', 'c'], day: '2027-01-01' }), {
      ok: false,
      errors: {
        title: 'must be a single line',
        count: 'must be at most 5',
        ok: 'must be yes or no',
        tags: 'pick at most 2',
        day: 'must be on or before 2026-12-31',
      },
    });
    assert.deepEqual(validateFormValues(fields, { title: 'x'.repeat(11), count: 'abc', tags: ['z'] }), {
      ok: false,
      errors: { title: 'must be at most 10 characters', count: 'must be a number', tags: 'must use only the offered choices' },
    });
    assert.deepEqual(validateFormValues(fields, {}), { ok: false, errors: { title: 'is required', count: 'is required', tags: 'is required' } });
  });
});
