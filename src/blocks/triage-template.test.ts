import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TriageSummarize, TriageTemplate } from '../sdk/triage-policy.js';
import { renderComment, renderItems, type TriageResource } from './triage-template.js';

const AT = new Date('2026-03-31T12:00:00Z');

const secret: TriageResource = {
  iid: 4,
  type: 'issues',
  confidential: true,
  title: 'Token leak',
  author: { username: 'dana' },
  assignees: [{ username: 'bob' }],
  labels: ['security'],
  milestone: { title: 'v2' },
  web_url: 'https://gitlab.example.com/acme/app/-/issues/4',
  references: { full: 'acme/app#4' },
};
const open: TriageResource = {
  ...secret,
  iid: 5,
  confidential: false,
  title: 'Typo',
  web_url: 'https://gitlab.example.com/acme/app/-/issues/5',
  references: { full: 'acme/app#5' },
};

const placeholders = (...names: string[]): TriageTemplate =>
  names.flatMap((name, index) => [...(index > 0 ? [{ kind: 'text' as const, text: ' ' }] : []), { kind: 'placeholder' as const, name }]);

test("a confidential resource keeps its summary line, reference and URL; its other placeholders read (confidential), in the gem's wrapping", () => {
  const summarize: TriageSummarize = {
    title: [],
    item: [{ kind: 'text', text: '- [ ] ' }, ...placeholders('full_reference', 'title', 'web_url', 'labels', 'author', 'milestone')],
    summary: [],
    redactConfidential: true,
  };
  assert.equal(
    renderItems(summarize, [secret, open], AT),
    '- [ ] acme/app#4 (confidential) https://gitlab.example.com/acme/app/-/issues/4 ~"(confidential)" @(confidential) %"(confidential)"\n' +
      '- [ ] acme/app#5 Typo https://gitlab.example.com/acme/app/-/issues/5 ~"security" @dana %"v2"',
  );
  assert.match(renderItems({ ...summarize, redactConfidential: false }, [secret], AT), /^- \[ \] acme\/app#4 Token leak /);
});

test('a comment on a confidential resource is redacted by default, as the gem does; redact_confidential_resources: false keeps it', () => {
  const comment: TriageTemplate = [...placeholders('assignees', 'title', 'type'), { kind: 'field', path: ['title'] }];
  assert.equal(renderComment({ comment, mention: ['carol'] }, secret, AT), '@(confidential) (confidential) issuesToken leak\n\n/cc @carol');
  assert.equal(renderComment({ comment, redactConfidential: false }, secret, AT), '@bob Token leak issuesToken leak');
  assert.equal(renderComment({ comment }, open, AT), '@bob Typo issuesTypo', 'what is not confidential is never redacted');
  assert.equal(renderComment({ labels: ['x'] }, secret, AT), '', 'no comment, no note');
});
