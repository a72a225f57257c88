import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderMarkdown } from './markdown.js';

test('markdown subset: headings, lists, emphasis, code and http links', () => {
  const html = renderMarkdown('# Retro\n\nWhat went **well**, what *not*.\n\n- one\n- `two`\n\n[board](https://gitlab.example.com/demo)');
  assert.match(html, /<h3>Retro<\/h3>/);
  assert.match(html, /<strong>well<\/strong>/);
  assert.match(html, /<em>not<\/em>/);
  assert.match(html, /<ul><li>one<\/li><li><code>two<\/code><\/li><\/ul>/);
  assert.match(html, /<a href="https:\/\/gitlab.example.com\/demo" rel="noopener noreferrer nofollow">board<\/a>/);
});

test('markdown: raw HTML, javascript: links and attribute breakouts stay inert text', () => {
  const html = renderMarkdown(
    '<script>alert(1)</script> <img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) [y](https://a.test/"onmouseover="alert(1))',
  );
  assert.doesNotMatch(html, /<script|<img|href="javascript|"onmouseover/);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
});

test('markdown: links are read before emphasis, so a * in a URL stays in the URL; only http and https link', () => {
  const html = renderMarkdown('see [the *board*](https://a.test/x*y*z) and *this*, not [mail](mailto:a@b.test)');
  assert.match(html, /<a href="https:\/\/a.test\/x\*y\*z" rel="noopener noreferrer nofollow">the <em>board<\/em><\/a>/);
  assert.match(html, /<em>this<\/em>/);
  assert.doesNotMatch(html, /href="mailto:/);
  assert.match(html, /\[mail\]\(mailto:a@b.test\)/);
});
