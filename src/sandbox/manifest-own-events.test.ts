import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DefinitionError } from '../core/errors.js';
import { parseManifest } from './manifest.js';

const declared = (trigger: Record<string, unknown>) => ({
  name: 'labels',
  triggers: [{ event: 'com.gitlab.events.issue_updated', ...trigger }],
  permissions: {},
  validatesInput: false,
});

test('includeOwnEvents is a field of event triggers, true or false', () => {
  assert.deepEqual(parseManifest(declared({ includeOwnEvents: true }), 'workflows/labels.ts').triggers, [
    { event: 'com.gitlab.events.issue_updated', includeOwnEvents: true },
  ]);
  parseManifest(declared({ includeOwnEvents: false }), 'workflows/labels.ts');
  assert.throws(
    () => parseManifest(declared({ includeOwnEvents: 'yes' }), 'workflows/labels.ts'),
    (error: unknown) =>
      error instanceof DefinitionError &&
      /triggers\[0\]\.includeOwnEvents: must be true or false \(true: the events AutoFlow's own GitLab account caused start runs too\), got "yes"/.test(
        error.message,
      ),
  );
  const onCron = { ...declared({}), triggers: [{ cron: '0 6 * * *', includeOwnEvents: true }] };
  assert.throws(() => parseManifest(onCron, 'workflows/labels.ts'), /triggers\[0\]: unknown field 'includeOwnEvents'/);
});
