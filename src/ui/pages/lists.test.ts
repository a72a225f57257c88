import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WorkflowView } from '../../app/operations.js';
import type { StoredEvent } from '../../core/model.js';
import { render } from '../static.js';
import { subjectOf, workflowsPage } from './lists.js';

const event = (type: string, data: unknown, subject?: string): StoredEvent => ({ type, data, subject }) as unknown as StoredEvent;

test('events are labelled the way GitLab references their object: milestones with %, not as issues', () => {
  const project = { path_with_namespace: 'demo/app' };
  assert.equal(
    subjectOf(
      event('com.gitlab.events.milestone_closed', { object_kind: 'milestone', project, object_attributes: { iid: 2, title: 'Sprint 1' } }),
    ),
    'milestone demo/app%"Sprint 1"',
  );
  assert.equal(subjectOf(event('com.gitlab.events.milestone_closed', { project, object_attributes: { iid: 2 } })), 'milestone demo/app%2');
  assert.equal(
    subjectOf(event('com.gitlab.events.issue_opened', { project, object_attributes: { iid: 42, title: 'Broken' } })),
    'demo/app#42 Broken',
  );
  assert.equal(
    subjectOf(event('com.gitlab.events.merge_request_opened', { project, object_attributes: { iid: 7, title: 'Fix' } })),
    'demo/app!7 Fix',
  );
  // A pipeline's iid is its number in the project, not an issue: `demo/app#3` would name issue 3.
  assert.equal(
    subjectOf(
      event(
        'com.gitlab.events.pipeline_succeeded',
        { object_kind: 'pipeline', project, object_attributes: { id: 31, iid: 3 } },
        'demo/app/-/pipelines/31',
      ),
    ),
    'demo/app/-/pipelines/31',
  );
});

test('the workflows page shows a file that fails to build first: the file, what still runs, the error with its line', () => {
  const deployedAt = '2026-01-02T03:04:05.000Z';
  const problem = {
    file: 'greet.ts',
    workflow: 'greet',
    message: 'Cannot bundle the workflow greet.ts:\n  greet.ts:6:18: Unexpected ";"',
    since: deployedAt,
  };
  const greet: WorkflowView = {
    name: 'greet',
    version: 'abcdef0123456789',
    triggers: [],
    permissions: {},
    deployedAt,
    versions: [{ version: 'abcdef0123456789', deployedAt, active: true }],
    problems: [problem],
  };
  const html = render(
    workflowsPage({
      session: { username: 'alice', name: 'A', csrf: 't', expiresAt: 1 },
      workflows: [greet],
      problems: [problem, { file: 'draft.ts', message: 'name: is required', since: deployedAt }],
    }),
  );
  const notices = html.match(/<div class="notice error"[^>]*>.*?<\/div>/gs) ?? [];
  assert.equal(notices.length, 2, html);
  const [greetNotice = '', draftNotice = ''] = notices;
  assert.match(
    greetNotice,
    /<b class="mono">greet\.ts<\/b> fails to build since .*<a href="#wf-greet">greet<\/a> still runs version <span class="mono">abcdef012345<\/span>/s,
  );
  assert.match(greetNotice, /<pre>Cannot bundle the workflow greet\.ts:\n {2}greet\.ts:6:18: Unexpected &quot;;&quot;<\/pre>/);
  assert.match(draftNotice, /draft\.ts<\/b> fails to build since .*no version of it is deployed/s);
  assert.ok(html.indexOf('notice error') < html.indexOf('id="wf-greet"'), 'the problems come first');
  assert.match(html, /abcdef012345<\/span> <span class="badge">its file fails to build: this version stays \(see above\)<\/span>/);
});

test("the workflows page says when each schedule fires next, in its triggers' order", () => {
  const deployedAt = '2026-01-02T03:04:05.000Z';
  const weekly: WorkflowView = {
    name: 'weekly',
    version: 'abcdef0123456789',
    triggers: [{ event: 'com.example.poke' }, { cron: '0 9 * * 1', timezone: 'Europe/Berlin' }, { cron: '0 0 30 2 *' }],
    permissions: {},
    deployedAt,
    versions: [{ version: 'abcdef0123456789', deployedAt, active: true }],
    schedules: [
      { cron: '0 9 * * 1', timezone: 'Europe/Berlin', next: '2026-01-05T08:00:00.000Z' },
      { cron: '0 0 30 2 *', timezone: 'UTC', next: null },
    ],
  };
  const html = render(workflowsPage({ session: { username: 'alice', name: 'A', csrf: 't', expiresAt: 1 }, workflows: [weekly] }));
  assert.match(
    html,
    /schedule <code>0 9 \* \* 1<\/code> \(Europe\/Berlin\)<span class="muted"> · next <time datetime="2026-01-05T08:00:00.000Z">2026-01-05 08:00:00 UTC<\/time><\/span>/,
  );
  assert.match(html, /schedule <code>0 0 30 2 \*<\/code><span class="muted"> · next never<\/span>/);
});

test("the workflows page says how many of a workflow's runs may run at once, per what, in which group", () => {
  const deployedAt = '2026-01-02T03:04:05.000Z';
  const deploy: WorkflowView = {
    name: 'deploy',
    version: 'abcdef0123456789',
    triggers: [],
    permissions: {},
    concurrency: { limit: 1, key: 'environment', group: 'environments' },
    deployedAt,
    versions: [{ version: 'abcdef0123456789', deployedAt, active: true }],
  };
  const session = { username: 'alice', name: 'A', csrf: 't', expiresAt: 1 };
  const html = render(workflowsPage({ session, workflows: [deploy] }));
  assert.match(html, /<dt>concurrency<\/dt><dd>1 at a time per <code>environment<\/code>, group <code>environments<\/code><\/dd>/);
  const newest = render(
    workflowsPage({ session, workflows: [{ ...deploy, concurrency: { limit: 1, queue: 'latest', cancelInProgress: true } }] }),
  );
  assert.match(newest, /<dt>concurrency<\/dt><dd>1 at a time; the newest win: a new run cancels older ones, running or waiting<\/dd>/);
  const latest = render(workflowsPage({ session, workflows: [{ ...deploy, concurrency: { limit: 2, queue: 'latest' } }] }));
  assert.match(latest, /<dt>concurrency<\/dt><dd>2 at a time; only the newest run waits<\/dd>/);
  const unlimited = render(workflowsPage({ session, workflows: [{ ...deploy, concurrency: undefined }] as WorkflowView[] }));
  assert.doesNotMatch(unlimited, /<dt>concurrency/);
});
