import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SecretSource } from './ports.js';
import { redactJson, revealJson } from './secrets.js';

test('secret values are replaced by references, and references revealed only for granted names', () => {
  const values: Record<string, string> = { TOKEN: 'abc123', ADMIN: 'root-pass' };
  const source: SecretSource = { get: (name) => values[name], values: () => Object.entries(values).map(([name, value]) => ({ name, value })) };
  const stored = redactJson({ header: 'Bearer abc123', nested: ['root-pass', 1] }, source);
  assert.deepEqual(stored, { header: 'Bearer {{secret:TOKEN}}', nested: ['{{secret:ADMIN}}', 1] });
  assert.deepEqual(revealJson(stored, source, ['TOKEN']), { header: 'Bearer abc123', nested: ['{{secret:ADMIN}}', 1] });
  assert.deepEqual(revealJson('{{secret:ADMIN}}', source, undefined), '{{secret:ADMIN}}');
});
