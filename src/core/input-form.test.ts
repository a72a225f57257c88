import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateFormValues } from './forms.js';
import { inputFormFields } from './input-form.js';

const deploySchema = {
  type: 'object',
  required: ['environment', 'version'],
  properties: {
    environment: { type: 'string', enum: ['staging', 'production'], default: 'staging', description: 'where to deploy' },
    version: { type: 'string', title: 'Version tag', minLength: 2, maxLength: 40 },
    replicas: { type: 'integer', minimum: 1, maximum: 20, default: 2 },
    ratio: { type: 'number' },
    dryRun: { type: 'boolean', default: true },
    regions: { type: 'array', items: { type: 'string', enum: ['eu', 'us'] }, default: ['eu'] },
    freezeUntil: { type: 'string', format: 'date' },
  },
  additionalProperties: false,
};

test("an object schema's properties become form fields in order, with titles, descriptions, limits, defaults and required marks", () => {
  assert.deepEqual(inputFormFields(deploySchema), [
    {
      name: 'environment',
      label: 'environment',
      help: 'where to deploy',
      required: true,
      type: 'choice',
      options: ['staging', 'production'],
      default: 'staging',
    },
    { name: 'version', label: 'Version tag', required: true, type: 'text', minLength: 2, maxLength: 40 },
    { name: 'replicas', label: 'replicas', required: false, type: 'number', integer: true, min: 1, max: 20, default: 2 },
    { name: 'ratio', label: 'ratio', required: false, type: 'number' },
    { name: 'dryRun', label: 'dryRun', required: false, type: 'boolean', default: true },
    { name: 'regions', label: 'regions', required: false, type: 'multichoice', options: ['eu', 'us'], default: ['eu'] },
    { name: 'freezeUntil', label: 'freezeUntil', required: false, type: 'date' },
  ]);
});

test('what a person posts becomes the input: typed values, unticked boxes false, empty optional fields left out', () => {
  const fields = inputFormFields(deploySchema)!;
  const posted = { environment: 'production', version: ' v1.2 ', replicas: '3', ratio: '', dryRun: 'false', regions: ['eu', 'us'] };
  assert.deepEqual(validateFormValues(fields, posted), {
    ok: true,
    values: { environment: 'production', version: 'v1.2', replicas: 3, dryRun: false, regions: ['eu', 'us'] },
  });
  assert.deepEqual(validateFormValues(fields, { environment: 'moon', replicas: '2.5' }), {
    ok: false,
    errors: { environment: 'must be one of the offered choices', version: 'is required', replicas: 'must be a whole number' },
  });
});

test('a schema a form cannot gather has no form: the input is written as JSON', () => {
  const withProperty = (property: object) => ({ type: 'object', properties: { ok: { type: 'string' }, other: property } });
  for (const [why, schema] of [
    ['no schema', undefined],
    ['not an object', { type: 'array', items: { type: 'string' } }],
    ['no properties', { type: 'object' }],
    ['empty properties', { type: 'object', properties: {} }],
    ['a nested object', withProperty({ type: 'object', properties: { a: { type: 'string' } } })],
    ['a list of free text', withProperty({ type: 'array', items: { type: 'string' } })],
    ['a number enum', withProperty({ type: 'string', enum: [1, 2] })],
    ['a union', withProperty({ anyOf: [{ type: 'string' }, { type: 'null' }] })],
    ['a nullable type list', withProperty({ type: ['string', 'null'] })],
    ['a name a field cannot have', { type: 'object', properties: { 'project.path': { type: 'string' } } }],
  ] as const) {
    assert.equal(inputFormFields(schema as never), undefined, why);
  }
});
