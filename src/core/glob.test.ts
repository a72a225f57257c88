import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { globMatches } from './glob.js';

describe('globMatches', () => {
  test('* is any run of characters, ? one character, everything else literal', () => {
    const cases: [string, string, boolean][] = [
      ['release-*', 'release-1.2', true],
      ['release-*', 'release-', true],
      ['release-*', 'pre-release-1', false],
      ['*-rc', '1.0-rc', true],
      ['*-rc', '1.0-rc2', false],
      ['acme/*', 'acme/platform/app', true],
      ['*WIP*', 'Draft: WIP on parser', true],
      ['*WIP*', 'wip', false],
      ['a*b*c', 'abc', true],
      ['a*b*c', 'aXbYbZc', true],
      ['a*b*c', 'acb', false],
      ['a*a', 'a', false],
      ['a*a', 'aa', true],
      ['release-?.x', 'release-1.x', true],
      ['release-?.x', 'release-10.x', false],
      ['a.b', 'axb', false],
      ['(x)+[y]', '(x)+[y]', true],
      ['*', '', true],
      ['**', 'anything', true],
      ['exact', 'exact', true],
      ['exact', 'exactly', false],
    ];
    for (const [glob, value, expected] of cases) assert.equal(globMatches(glob, value), expected, `${glob} on ${value}`);
  });

  test('* spans lines: a comment of many lines matches', () => {
    assert.ok(globMatches('*/deploy * to prod*', 'Looks good.\n/deploy v1.2 to production\nthanks'));
  });

  test('? is one character, also outside the Basic Multilingual Plane', () => {
    assert.ok(globMatches('ship ?', 'ship 🚀'));
    assert.ok(globMatches('?🚀?', 'a🚀b'));
    assert.ok(!globMatches('ship ??', 'ship 🚀'));
    assert.ok(globMatches('*?', '🚀'));
  });

  test('a long text an outsider wrote costs its length times the pattern, not its square', () => {
    // With the former regular expression `^.*/deploy .* to prod.*$` this text backtracked for
    // minutes; here it is one pass per star. Counting the characters read keeps the test free of
    // wall-clock time.
    const text = '/deploy '.repeat(125_000);
    let reads = 0;
    const original = Object.getOwnPropertyDescriptor(String.prototype, 'startsWith')!;
    const startsWith = original.value as (this: string, search: string, position?: number) => boolean;
    Object.defineProperty(String.prototype, 'startsWith', {
      ...original,
      value(this: string, search: string, position?: number) {
        reads++;
        return startsWith.call(this, search, position);
      },
    });
    try {
      assert.equal(globMatches('*/deploy * to prod*', text), false);
    } finally {
      Object.defineProperty(String.prototype, 'startsWith', original);
    }
    assert.ok(reads < 4 * text.length, `${reads} character comparisons for ${text.length} characters`);
  });
});
