import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FormField } from '../core/human-task.js';
import { Field, SubmittedValues, formatValue, postedValues, strictPostErrors } from './form.js';
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
  assert.match(html, /id="e-title">too long</);
  assert.match(html, /aria-invalid="true"/);
  assert.match(html, /aria-describedby="h-title e-title"/);
});

test('a multichoice is a fieldset named by its legend; an invalid field takes the focus when asked', () => {
  const html = render(Field({ field: fields[1]!, values: { tags: [] }, error: 'pick one', disabled: false, focus: true }));
  assert.match(html, /<fieldset class="field group invalid"[^>]*aria-describedby="h-tags e-tags"/);
  assert.match(html, /<legend class="title">Tags/);
  assert.match(html, /id="f-tags-0"[^>]*aria-invalid="true"[^>]*autofocus/);
  assert.doesNotMatch(html, /id="f-tags-1"[^>]*autofocus/, 'only the first box takes the focus');
  assert.doesNotMatch(render(Field({ field: fields[0]!, values: undefined, error: undefined, disabled: false })), /aria-invalid|autofocus/);
});

test('a crafted post is refused where the operations would coerce it: hex numbers, checkbox values other than true', () => {
  const spec: FormField[] = [
    { name: 'count', label: 'Count', type: 'number' },
    { name: 'urgent', label: 'Urgent', type: 'boolean' },
  ];
  assert.deepEqual(Object.keys(strictPostErrors(spec, { count: '0x5', urgent: 'yes' })).sort(), ['count', 'urgent']);
  for (const count of ['Infinity', '5 5', '1_000', '0b1', '+5', '1.']) assert.ok(strictPostErrors(spec, { count }).count, count);
  assert.deepEqual(strictPostErrors(spec, { count: '12' }), {});
  assert.deepEqual(strictPostErrors(spec, { count: '-4.5', urgent: 'true' }), {});
  assert.deepEqual(strictPostErrors(spec, { count: '.5' }), {});
  assert.deepEqual(strictPostErrors(spec, { count: '1e3' }), {}, 'an HTML number input may send an exponent');
  assert.deepEqual(strictPostErrors(spec, { count: '' }), {}, 'empty is for the required check');
  assert.ok(strictPostErrors(spec, { urgent: 'false' }).urgent, 'the box never posts false');
  assert.ok(strictPostErrors(spec, { urgent: ['true', 'true'] }).urgent);
});

test('submitted values read as label → value, formatted per field type', () => {
  const spec: FormField[] = [
    { name: 'sev', label: 'Severity', type: 'choice', options: ['low', { value: 'high', label: 'High!' }] },
    { name: 'areas', label: 'Areas', type: 'multichoice', options: [{ value: 'api', label: 'The API' }, 'ui'] },
    { name: 'paged', label: 'Paged?', type: 'boolean' },
    { name: 'since', label: 'Since', type: 'date', required: false },
  ];
  assert.equal(formatValue(spec[0], 'high'), 'High!');
  assert.equal(formatValue(spec[1], ['api', 'ui']), 'The API, ui');
  assert.equal(formatValue(spec[2], false), 'no');
  assert.equal(formatValue(spec[3], undefined), '—');
  const html = render(SubmittedValues({ fields: spec, values: { sev: 'high', areas: ['api'], paged: true, gone: 3 } }));
  assert.match(html, /<dt>Severity<\/dt><dd data-answer="sev">High!<\/dd>/);
  assert.match(html, /<dt>Paged\?<\/dt><dd data-answer="paged">yes<\/dd>/);
  assert.match(html, /<dt class="mono">gone<\/dt><dd data-answer="gone">3<\/dd>/, 'a value the spec no longer names is still shown');
  assert.doesNotMatch(html, /"sev":/, 'no raw JSON');
});

test('a checkbox that must be ticked is marked required, says so, and is marked invalid when left unticked', () => {
  const agree: FormField = { name: 'agree', label: 'I have read the runbook', type: 'boolean', required: true };
  const html = render(Field({ field: agree, values: { agree: 'false' }, error: 'must be ticked', disabled: false }));
  assert.match(
    html,
    /<input type="checkbox"[^>]*required=""[^>]*\/?> I have read the runbook<span class="req" title="required"> \*<\/span>/,
  );
  assert.match(html, /tick it to submit the form/);
  assert.match(html, /id="e-agree">must be ticked</);
  assert.doesNotMatch(
    render(Field({ field: fields[2]!, values: undefined, error: undefined, disabled: false })),
    /class="req"|required=""/,
    'an optional box has no marker',
  );
});
