import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Json } from './model.js';
import type { SecretSource } from './ports.js';
import { redactJson, revealJson, sealJson, secretValuesOf } from './secrets.js';
import { cutText } from './text-cut.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

test('secret values are replaced by references, and references revealed only for granted names', () => {
  const values: Record<string, string> = { TOKEN: 'abc123', ADMIN: 'root-pass' };
  const source: SecretSource = {
    get: (name) => values[name],
    values: () => Object.entries(values).map(([name, value]) => ({ name, value })),
    fingerprint: sha256,
  };
  const stored = redactJson({ header: 'Bearer abc123', nested: ['root-pass', 1] }, source);
  assert.deepEqual(stored, { header: 'Bearer {{secret:TOKEN}}', nested: ['{{secret:ADMIN}}', 1] });
  assert.deepEqual(revealJson(stored, source, ['TOKEN']), { header: 'Bearer abc123', nested: ['{{secret:ADMIN}}', 1] });
  assert.deepEqual(revealJson('{{secret:ADMIN}}', source, undefined), '{{secret:ADMIN}}');
});

test('object keys are redacted like values, and revealed like them', () => {
  const source: SecretSource = {
    get: (name) => (name === 'TOKEN' ? 'abc123' : undefined),
    values: () => [{ name: 'TOKEN', value: 'abc123' }],
    fingerprint: sha256,
  };
  const stored = redactJson({ abc123: { 'Bearer abc123': 1 } }, source);
  assert.deepEqual(stored, { '{{secret:TOKEN}}': { 'Bearer {{secret:TOKEN}}': 1 } });
  assert.deepEqual(revealJson(sealJson({ abc123: 1 }, source), source, ['TOKEN']), { abc123: 1 });
});

test('sealed text that looked like a reference comes back as that text, whatever the workflow is granted', () => {
  const values: Record<string, string> = { TOKEN: 'abc123' };
  const source: SecretSource = {
    get: (name) => values[name],
    values: () => Object.entries(values).map(([name, value]) => ({ name, value })),
    fingerprint: sha256,
  };
  const typed = 'title {{secret:TOKEN}} and {{secret!:TOKEN}} with abc123';
  const sealed = sealJson({ [typed]: typed }, source);
  const text = 'title {{secret!:TOKEN}} and {{secret!!:TOKEN}} with {{secret:TOKEN}}';
  assert.deepEqual(sealed, { [text]: text }, 'typed references are escaped, values become references');
  assert.deepEqual(redactJson(sealed, source), sealed, 'redacting sealed data again changes nothing');
  assert.deepEqual(revealJson(sealed, source, ['TOKEN']), { [typed]: typed });
  const withoutGrant = 'title {{secret:TOKEN}} and {{secret!:TOKEN}} with {{secret:TOKEN}}';
  assert.deepEqual(revealJson(sealed, source, undefined), { [withoutGrant]: withoutGrant });
  assert.deepEqual(revealJson(sealed, source, []), { [withoutGrant]: withoutGrant });
});

test('reveal(seal(x)) is x for any text made of reference-like pieces, at any depth and in keys', () => {
  const source: SecretSource = {
    get: (name) => (name === 'TOKEN' ? 'S3CR3T' : undefined),
    values: () => [{ name: 'TOKEN', value: 'S3CR3T' }],
    fingerprint: sha256,
  };
  const pieces = [
    '{{secret:',
    '{{secret!:',
    '{{secret!!:',
    '{{secret',
    '{{',
    '{',
    '}}',
    '}',
    '!',
    '!!',
    ':',
    'TOKEN',
    'OTHER',
    'x',
    ' ',
    '{{secret:TOKEN}}',
    '{{secret!:TOKEN}}',
  ];
  let seed = 42;
  const random = (below: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % below;
  };
  const text = (): string => Array.from({ length: random(12) }, () => pieces[random(pieces.length)]).join('');
  for (let i = 0; i < 500; i++) {
    const value: Json = { [text()]: [text(), { [text()]: text() }], plain: text() };
    const sealed = sealJson(value, source);
    assert.doesNotMatch(JSON.stringify(sealed), /\{\{secret:/, `nothing sealed reads as a reference: ${JSON.stringify(value)}`);
    assert.deepEqual(revealJson(sealed, source, ['TOKEN']), value, JSON.stringify(value));
    assert.deepEqual(revealJson(sealed, source, []), value, JSON.stringify(value));
    assert.deepEqual(redactJson(sealed, source), sealed);
  }
});

test('a cut made by the host never splits a secret: the value goes whole, however the cut fell', () => {
  const secret = 'S3cr3tTokenValue_ABCDEFGH';
  const source: SecretSource = { get: () => secret, values: () => [{ name: 'TOK', value: secret }], fingerprint: sha256 };
  for (let shown = 1; shown < secret.length; shown++) {
    const cause = { name: 'Error', message: cutText('x'.repeat(100) + secret, 100 + shown, secretValuesOf(source)) };
    assert.equal(sealJson(cause, source).message, `${'x'.repeat(100)}… (${secret.length} more characters cut)`, `cut after ${shown}`);
  }
  assert.equal(
    cutText(`${secret}!`, secret.length, [secret]),
    `${secret}… (1 more characters cut)`,
    'a value that ends at the cut is kept',
  );
});

test("a secret the workflow may read, split by the sandbox's cut, leaves no readable first part", () => {
  const secret = 'S3cr3tTokenValue_ABCDEFGH';
  const source: SecretSource = { get: () => secret, values: () => [{ name: 'TOK', value: secret }], fingerprint: sha256 };
  for (let shown = 1; shown < secret.length; shown++) {
    const cause = { name: 'Error', message: cutText('x'.repeat(100) + secret, 100 + shown) };
    const stored = redactJson(cause, source, ['TOK']);
    const visible = stored.message.replace(/… \(\d+ more characters cut\)$/, '');
    assert.equal(
      visible,
      shown < 4 ? `${'x'.repeat(100)}${secret.slice(0, shown)}` : `${'x'.repeat(100)}{{secret:TOK}}`,
      `cut after ${shown}`,
    );
    assert.deepEqual(redactJson(stored, source, ['TOK']), stored, 'redacting again changes nothing');
  }
  assert.equal(redactJson('plain… (3 more characters cut)', source, ['TOK']), 'plain… (3 more characters cut)');
});

test('text ending in the start of a secret the workflow may not read is left as it is, even before a typed cut note', () => {
  // Otherwise a workflow learns, a character at a time, what a secret it was not granted begins with.
  const secret = 'glpat-Zq8rT2mWvX9kLp4N';
  const source: SecretSource = { get: () => secret, values: () => [{ name: 'GL', value: secret }], fingerprint: sha256 };
  const guesses = ['glpaa', 'glpat', 'glpat-Zq8'].map((guess) => `${guess}… (1 more characters cut)`);
  assert.deepEqual(sealJson(guesses, source), guesses);
  assert.deepEqual(redactJson(guesses, source, ['OTHER']), guesses);
});
