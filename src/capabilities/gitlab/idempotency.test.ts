import assert from 'node:assert/strict';
import { CapabilityError } from '../../core/errors.js';
import { describe, test } from 'node:test';
import type { JsonObject } from '../../core/model.js';
import { createGitLabCapability } from './capability.js';
import { GitLabUnavailableError } from './errors.js';
import { markerOf, withMarker } from './idempotency.js';
import { type World, createWorld, rejection } from './world.test.js';

/**
 * A retry after an ambiguous failure finds what the lost attempt created: the response is lost
 * after the write happened (`lose_response`), the engine retries with the same idempotency key.
 */

type Created = { id: number; iid?: number; description?: string; body?: string };

describe('idempotent creates', () => {
  const issueArgs = { project: 'acme/app', attributes: { title: 'Once', description: 'only once' } };
  const cases: Array<{
    what: string;
    method: string;
    path: string;
    args: JsonObject;
    setup?: (world: World) => unknown;
    count: (world: World) => number;
  }> = [
    {
      what: 'issue',
      method: 'issues.create',
      path: '/api/v4/projects/*/issues',
      args: issueArgs,
      count: (world) => world.sim.state.issuesOf(world.sim.state.requireProject('acme/app')).length,
    },
    {
      what: 'note',
      method: 'notes.create',
      path: '/api/v4/projects/*/issues/*/notes',
      args: { project: 'acme/app', issueIid: 1, body: 'only once' },
      setup: (world) => world.sim.actions.createIssue('alice', 'acme/app', { title: 'Commented' }),
      count: (world) => [...world.sim.state.notes.values()].filter((note) => note.body.startsWith('only once')).length,
    },
    {
      what: 'merge request',
      method: 'mergeRequests.create',
      path: '/api/v4/projects/*/merge_requests',
      args: { project: 'acme/app', attributes: { source_branch: 'feature', target_branch: 'main', title: 'Once' } },
      setup: (world) => world.sim.actions.push('alice', 'acme/app', { branch: 'feature', files: { 'f.txt': 'f' } }),
      count: (world) => world.sim.state.mergeRequestsOf(world.sim.state.requireProject('acme/app')).length,
    },
  ];

  for (const { what, method, path, args, setup, count } of cases) {
    test(`${what}: a lost response, then a second attempt → exactly one ${what}, which the second attempt returns`, async () => {
      const world = createWorld();
      setup?.(world);
      world.sim.faults.add({ kind: 'lose_response', method: 'POST', path, times: 1 });
      const lost = await rejection(world.call(method, args));
      assert.ok(lost instanceof GitLabUnavailableError && lost.retryable, 'the engine will retry it');
      assert.equal(count(world), 1, 'the write happened');

      const before = world.requests.length;
      const second = await world.call<Created>(method, args, { attempt: 2 });
      assert.equal(count(world), 1);
      assert.match(second.description ?? second.body ?? '', new RegExp(markerOf('r1:1').comment));
      assert.deepEqual(
        world.requests.slice(before).map((request) => request.split(' ')[0]),
        ['GET'],
        'found by one search, no second POST',
      );
      // A third attempt (the second's answer lost too) still finds the same object.
      assert.equal((await world.call<Created>(method, args, { attempt: 3 })).id, second.id);
    });
  }

  test('when the first attempt wrote nothing, the retry creates the object; another call creates another', async () => {
    const world = createWorld();
    world.sim.faults.add({ kind: 'drop', method: 'POST', times: 1 });
    await assert.rejects(world.call('issues.create', issueArgs), GitLabUnavailableError);
    const created = await world.call<Created>('issues.create', issueArgs, { attempt: 2 });
    const other = await world.call<Created>('issues.create', issueArgs, { idempotencyKey: 'r1:2', step: 2 });
    assert.notEqual(other.id, created.id, 'the same title from another call is another issue');
    assert.equal(world.sim.state.issuesOf(world.sim.state.requireProject('acme/app')).length, 2);
    assert.deepEqual(
      world.requests.map((request) => (request.includes('search=') ? 'search' : request.split(' ')[0])),
      ['POST', 'search', 'POST', 'POST'],
      'only the retry searches',
    );
  });

  test('labels: a 409 on a retry is the label the lost attempt created', async () => {
    const world = createWorld();
    world.sim.faults.add({ kind: 'lose_response', method: 'POST', path: '/api/v4/projects/*/labels', times: 1 });
    const args = { project: 'acme/app', attributes: { name: 'release::next', color: '#00ff00' } };
    await assert.rejects(world.call('labels.create', args), GitLabUnavailableError);
    const label = await world.call<{ name: string; color: string }>('labels.create', args, { attempt: 2 });
    assert.deepEqual([label.name, label.color], ['release::next', '#00ff00']);
    assert.equal([...world.sim.state.labels.values()].filter((item) => item.name === 'release::next').length, 1);
  });

  test('over real loopback HTTP: the socket is destroyed after the issue was written', async () => {
    const world = createWorld();
    const server = await world.sim.listen();
    try {
      const gitlab = createGitLabCapability({ baseUrl: server.url, token: 'bot-token' });
      world.sim.faults.add({ kind: 'lose_response', method: 'POST', times: 1 });
      const args = { project: 'acme/app', attributes: { title: 'Over the wire' } };
      await assert.rejects(gitlab.invoke('issues.create', args, world.context()), GitLabUnavailableError);
      const issue = (await gitlab.invoke('issues.create', args, world.context({ attempt: 2 }))) as Created;
      const issues = world.sim.state.issuesOf(world.sim.state.requireProject('acme/app'));
      assert.deepEqual(
        issues.map((item) => item.id),
        [issue.id],
      );
    } finally {
      await server.close();
    }
  });
});

describe('a note of quick actions only carries no marker', () => {
  const userNotes = (world: World) => [...world.sim.state.notes.values()].filter((note) => !note.system);
  const opened = (world: World) => world.sim.actions.createIssue('alice', 'acme/app', { title: 'Crash' });

  test('GitLab runs its commands and saves no note (202), on the first attempt and on a retry', async () => {
    const world = createWorld();
    opened(world);
    const args = { project: 'acme/app', issueIid: 1, body: '/label ~bug\n\n/milestone %"Sprint 1"\n' };
    const answer = await world.call<{ commands_changes?: object; summary?: string[] }>('notes.create', args);
    assert.ok(answer.commands_changes, "GitLab's answer for commands only");
    assert.deepEqual(userNotes(world), [], 'no note with an invisible body');
    const issue = await world.call<{ labels: string[]; milestone: { title: string } | null }>('issues.get', {
      project: 'acme/app',
      iid: 1,
    });
    assert.deepEqual([issue.labels, issue.milestone?.title], [['bug'], 'Sprint 1']);
    await world.call('notes.create', args, { attempt: 2 });
    assert.deepEqual(userNotes(world), [], 'running them again changes nothing');
  });

  test('commands that do more each time (/spend, /award…) are not sent again after an attempt that may have reached GitLab', async () => {
    const world = createWorld();
    opened(world);
    const args = { project: 'acme/app', issueIid: 1, body: '/label ~bug\n/spend 1h\n/award :thumbsup:' };
    await world.call('notes.create', args);
    const posts = () => world.requests.filter((request) => request.startsWith('POST ') && request.endsWith('/notes')).length;
    const before = posts();
    const retried = await world.call('notes.create', args, { attempt: 2 }).catch((error: unknown) => error);
    assert.ok(retried instanceof CapabilityError);
    assert.deepEqual([retried.code, retried.retryable], ['unrepeatable_quick_action', false]);
    assert.equal(
      retried.message,
      'gitlab.notes.create was not sent again: an earlier attempt may have reached GitLab, which saves no note for quick actions, so nothing ' +
        'tells whether it ran /spend 1h, /award :thumbsup:, and running them again would count twice; check the issue or merge request, ' +
        'and make the note again if it did not',
    );
    assert.equal(posts(), before, 'nothing sent');
    // A run's retry makes the call again from its first attempt: still not sent blindly.
    const afterRunRetry = await world.call('notes.create', args, { attempt: 1, attemptedBefore: true }).catch((error: unknown) => error);
    assert.ok(afterRunRetry instanceof CapabilityError && afterRunRetry.code === 'unrepeatable_quick_action');
  });

  test('a slash command GitLab keeps as text (/shrug writes some, /deploy is unknown) is saved: a retry finds it', async () => {
    const world = createWorld();
    opened(world);
    for (const [step, body] of ['/shrug', '/deploy production\n/label ~bug'].entries()) {
      const args = { project: 'acme/app', issueIid: 1, body };
      const call = { idempotencyKey: `r1:${step}`, step };
      const first = await world.call<{ id: number }>('notes.create', args, call);
      const retried = await world.call<{ id: number }>('notes.create', args, { ...call, attempt: 2 });
      assert.equal(retried.id, first.id, `${JSON.stringify(body)}: the retry answers the note the first attempt saved`);
    }
    assert.equal(userNotes(world).length, 2, 'one note for each body, none twice');
  });

  test('text beside them, or /cc (which GitLab keeps as text), keeps the marker; so does a description', () => {
    const marker = markerOf('r1:1');
    assert.equal(withMarker('/label ~bug\n/close', marker, 'body'), '/label ~bug\n/close');
    assert.equal(withMarker('Stale.\n/label ~bug', marker, 'body'), `Stale.\n/label ~bug\n\n${marker.comment}`);
    assert.equal(withMarker('/label ~bug\n/cc @alice', marker, 'body'), `/label ~bug\n/cc @alice\n\n${marker.comment}`);
    assert.equal(withMarker('/label ~bug', marker, 'description'), `/label ~bug\n\n${marker.comment}`, 'a retry finds the issue by it');
  });
});
