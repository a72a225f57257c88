import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkFormFields, isRequired, validateFormValues } from './forms.js';
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
    assert.deepEqual(
      validateFormValues(fields, { title: 'Hi\nthere', count: '9', ok: 'maybe', tags: ['a', 'b', 'c'], day: '2027-01-01' }),
      {
        ok: false,
        errors: {
          title: 'must be a single line',
          count: 'must be at most 5',
          ok: 'must be yes or no',
          tags: 'pick at most 2',
          day: 'must be on or before 2026-12-31',
        },
      },
    );
    assert.deepEqual(validateFormValues(fields, { title: 'x'.repeat(11), count: 'abc', tags: ['z'] }), {
      ok: false,
      errors: { title: 'must be at most 10 characters', count: 'must be a number', tags: 'must use only the offered choices' },
    });
    assert.deepEqual(validateFormValues(fields, {}), {
      ok: false,
      errors: { title: 'is required', count: 'is required', tags: 'is required' },
    });
  });

  test('a checkbox with required: true must be ticked; without it, unticked is an answer (false)', () => {
    const agree: FormField[] = [{ name: 'agree', label: 'I have read the runbook', type: 'boolean', required: true }];
    assert.deepEqual(validateFormValues(agree, {}), { ok: false, errors: { agree: 'must be ticked' } });
    assert.deepEqual(validateFormValues(agree, { agree: 'false' }), { ok: false, errors: { agree: 'must be ticked' } });
    assert.deepEqual(validateFormValues(agree, { agree: false }), { ok: false, errors: { agree: 'must be ticked' } });
    assert.deepEqual(validateFormValues(agree, { agree: 'true' }), { ok: true, values: { agree: true } });
    assert.deepEqual(validateFormValues([{ name: 'ok', label: 'OK', type: 'boolean' }], {}), { ok: true, values: { ok: false } });
    assert.equal(isRequired(agree[0]!), true);
    assert.equal(isRequired({ name: 'ok', label: 'OK', type: 'boolean' }), false);
  });

  test('limits no answer can meet are refused when the form is defined, each named', () => {
    assert.deepEqual(
      checkFormFields([
        { name: 't', label: 'T', type: 'text', minLength: 10, maxLength: 5 },
        { name: 'a', label: 'A', type: 'textarea', minLength: 30_000 },
        { name: 'n', label: 'N', type: 'number', min: 5, max: 1 },
        { name: 'i', label: 'I', type: 'number', integer: true, min: 1.2, max: 1.8 },
        { name: 'd', label: 'D', type: 'date', min: '2026-12-01', max: '2026-01-01' },
        { name: 'm', label: 'M', type: 'multichoice', options: ['a', 'b'], minSelected: 3 },
        { name: 'k', label: 'K', type: 'multichoice', options: ['a', 'b', 'c'], minSelected: 2, maxSelected: 1 },
      ]),
      [
        "field 't': minLength 10 is more than maxLength 5",
        "field 'a': minLength 30000 is more than the 20000 characters an answer may hold",
        "field 'n': min 5 is more than max 1",
        "field 'i': no whole number lies between min 1.2 and max 1.8",
        "field 'd': min 2026-12-01 is after max 2026-01-01",
        "field 'm': minSelected 3 is more than the 2 options",
        "field 'k': minSelected 2 is more than maxSelected 1",
      ],
    );
    assert.deepEqual(checkFormFields([{ name: 'i', label: 'I', type: 'number', integer: true, min: 1.2, max: 2 }]), [], '2 is whole');
  });

  test("a textarea's line breaks count once however the browser posts them, and reach the workflow as \\n", () => {
    const notes: FormField[] = [{ name: 'notes', label: 'Notes', type: 'textarea', maxLength: 11 }];
    const typed = 'a\nb\nc\nd\ne\nf';
    assert.deepEqual(validateFormValues(notes, { notes: typed.replace(/\n/g, '\r\n') }), { ok: true, values: { notes: typed } });
    assert.deepEqual(validateFormValues(notes, { notes: 'a\rb' }), { ok: true, values: { notes: 'a\nb' } });
    assert.deepEqual(validateFormValues(fields.slice(0, 1), { title: 'a\r\nb' }), {
      ok: false,
      errors: { title: 'must be a single line' },
    });
  });

  test('a one-line text is trimmed before it is checked and stored; a textarea keeps its indentation', () => {
    const short: FormField[] = [
      { name: 'who', label: 'Who', type: 'text', minLength: 4 },
      { name: 'code', label: 'Code', type: 'textarea', required: false },
    ];
    assert.deepEqual(validateFormValues(short, { who: '   a' }), { ok: false, errors: { who: 'must be at least 4 characters' } });
    assert.deepEqual(validateFormValues(short, { who: '  alice  ', code: '  indented\n' }), {
      ok: true,
      values: { who: 'alice', code: '  indented\n' },
    });
    assert.deepEqual(
      validateFormValues(short, { who: 'alice', code: '   ' }),
      { ok: true, values: { who: 'alice' } },
      'an empty optional field is left out',
    );
  });
});
