import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { GITLAB_METHODS } from './capability.js';

test('docs/gitlab-capability.md lists every method of the capability, and no other', () => {
  const docs = readFileSync(new URL('../../../docs/gitlab-capability.md', import.meta.url), 'utf8');
  const table = docs.slice(docs.indexOf('## Methods'), docs.indexOf('### Lists and pagination'));
  // The second column of each row (`a.b`, or `a.b` / `a.c`); the first may hold escaped pipes (`\|`).
  const documented = [...table.matchAll(/^\|(?:[^|\\]|\\.)*\| ([^|]+) \|/gm)].flatMap((row) =>
    [...(row[1] ?? '').matchAll(/`([\w.]+)`/g)].map((m) => m[1]),
  );
  assert.deepEqual(documented.sort(), Object.keys(GITLAB_METHODS).sort());
});
