import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cutText } from './text-cut.js';

test('a cut never splits an emoji in two', () => {
  for (let at = 1; at < 8; at++) {
    const cut = cutText('😀😀😀😀😀', at);
    assert.ok(
      !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(cut),
      `no lone half of an emoji, cut at ${at}: ${cut}`,
    );
    assert.match(cut, /… \(\d+ more characters cut\)$/);
  }
});
