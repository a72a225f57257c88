import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FormField } from '../core/human-task.js';
import { Field, postedValues } from './form.js';
import { render } from './static.js';

const fields: FormField[] = [
  { name: 'title', label: 'Title', type: 'text', maxLength: 10 },
  { name: 'tags', label: 'Tags', type: 'multichoice', options: ['a', 'b'] },
  { name: 'ok', label: 'OK?', type: 'boolean' },
];

test('posted values keep only the spec’s fields; one ticked box is still a list; an absent checkbox is false', () => {
  assert.deepEqual(postedValues(fields, { title: 'x', tags: 'a', _csrf: 't', extra: 'y' }), { title: 'x', tags: ['a'], ok: 'false' });
  assert.deepEqual(postedValues(fields, { tags: ['a', 'b'], ok: 'true' }), { tags: ['a', 'b'], ok: 'true' });
});

test('a field shows its required marker, limits, the posted value escaped, and its error', () => {
  const html = render(Field({ field: fields[0]!, values: { title: '"><b>x' }, error: 'too long', disabled: false }));
  assert.match(html, /class="req"/);
  assert.match(html, /at most 10 characters/);
  assert.match(html, /value="&quot;&gt;&lt;b&gt;x"/);
  assert.match(html, /role="alert">too long</);
});
