import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VirtualClock } from '../../../app/clocks.js';
import { createGitLabSimulator } from '../index.js';
import { ACME, restClient } from '../test-helpers.js';

type Note = { id: number; type: string | null; body: string; internal: boolean; author: { username: string }; resolvable: boolean };
type Discussion = { id: string; individual_note: boolean; notes: Note[] };

/** Issue acme/app#1 and merge request acme/app!1, each with a comment on its own a minute before anything else. */
function world() {
  const clock = new VirtualClock();
  const sim = createGitLabSimulator({ clock, seed: ACME });
  const as = (token: string) => restClient(sim.fetch, sim.state.baseUrl, token);
  sim.actions.createIssue('alice', 'acme/app', { title: 'Crash' });
  sim.actions.createNote('carol', 'acme/app', { issue: 1 }, 'A comment');
  sim.actions.openMergeRequest('bob', 'acme/app', { sourceBranch: 'fix', title: 'Fix', files: { 'fix.txt': 'fix' } });
  sim.actions.createNote('carol', 'acme/app', { mergeRequest: 1 }, 'Looks good');
  clock.advance(60_000);
  return { sim, alice: as('alice-token'), bob: as('bob-token'), carol: as('carol-token'), dave: as('dave-token'), erin: as('erin-token') };
}

const ISSUE = '/projects/acme%2Fapp/issues/1';
const MR = '/projects/acme%2Fapp/merge_requests/1';

/** Each thread as `individual?` and its notes' bodies. */
const threads = (body: unknown): [boolean, string[]][] =>
  (body as Discussion[]).map((thread) => [thread.individual_note, thread.notes.map((note) => note.body)]);

describe('…/discussions of an issue', () => {
  test('a new thread and a reply; the list has the threads oldest first, a comment on its own as a thread of one', async () => {
    const { bob, alice } = world();
    const started = await bob.post(`${ISSUE}/discussions`, { body: 'Start' });
    assert.equal(started.status, 201);
    const thread = started.body as Discussion;
    assert.match(thread.id, /^[0-9a-f]{40}$/);
    assert.equal(thread.individual_note, false);
    assert.deepEqual(
      thread.notes.map((note) => [note.type, note.body, note.author.username, note.internal, note.resolvable]),
      [['DiscussionNote', 'Start', 'bob', false, false]],
    );

    const reply = await alice.post(`${ISSUE}/discussions/${thread.id}/notes`, { body: 'Reply' });
    assert.deepEqual([reply.status, (reply.body as Note).type, (reply.body as Note).body], [201, 'DiscussionNote', 'Reply']);

    const listed = await alice.get(`${ISSUE}/discussions`);
    assert.deepEqual(threads(listed.body), [
      [true, ['A comment']],
      [false, ['Start', 'Reply']],
    ]);
    assert.equal((listed.body as Discussion[])[0]?.notes[0]?.type, null);
    const shown = (await alice.get(`${ISSUE}/discussions/${thread.id}`)).body;
    assert.deepEqual(threads([shown]), [[false, ['Start', 'Reply']]]);
    const paged = await alice.get(`${ISSUE}/discussions?per_page=1&page=2`);
    assert.deepEqual([threads(paged.body), paged.headers.get('X-Total')], [[[false, ['Start', 'Reply']]], '2']);
  });

  test('their notes are the notes: GET …/notes lists them and user_notes_count counts them', async () => {
    const { alice, bob } = world();
    const { id } = (await bob.post(`${ISSUE}/discussions`, { body: 'Start' })).body as Discussion;
    await alice.post(`${ISSUE}/discussions/${id}/notes`, { body: 'Reply' });
    const notes = (await alice.get(`${ISSUE}/notes?sort=asc`)).body as Note[];
    assert.deepEqual(
      notes.map((note) => [note.body, note.type]),
      [
        ['A comment', null],
        ['Start', 'DiscussionNote'],
        ['Reply', 'DiscussionNote'],
      ],
    );
    assert.equal(((await alice.get(ISSUE)).body as { user_notes_count: number }).user_notes_count, 3);
  });

  test('replying to a comment on its own makes it a thread', async () => {
    const { alice } = world();
    const [comment] = (await alice.get(`${ISSUE}/discussions`)).body as Discussion[];
    const reply = await alice.post(`${ISSUE}/discussions/${comment?.id}/notes`, { body: 'Answer' });
    assert.equal(reply.status, 201);
    const [thread] = (await alice.get(`${ISSUE}/discussions`)).body as Discussion[];
    assert.deepEqual(
      [thread?.id, thread?.individual_note, thread?.notes.map((note) => [note.body, note.type])],
      [
        comment?.id,
        false,
        [
          ['A comment', 'DiscussionNote'],
          ['Answer', 'DiscussionNote'],
        ],
      ],
    );
  });

  test('internal threads are for Reporters up, and a reply in one is internal', async () => {
    const { carol, dave, alice } = world();
    const internal = await carol.post(`${ISSUE}/discussions`, { body: 'Internal', internal: true });
    assert.equal(internal.status, 201);
    const { id, notes } = internal.body as Discussion;
    assert.equal(notes[0]?.internal, true);
    assert.equal(((await alice.post(`${ISSUE}/discussions/${id}/notes`, { body: 'Also internal' })).body as Note).internal, true);

    assert.deepEqual(threads((await dave.get(`${ISSUE}/discussions`)).body), [[true, ['A comment']]], 'a guest does not see it');
    assert.equal((await dave.get(`${ISSUE}/discussions/${id}`)).status, 404);
    assert.equal((await dave.post(`${ISSUE}/discussions/${id}/notes`, { body: 'Guest' })).status, 404);
    assert.equal((await dave.post(`${ISSUE}/discussions`, { body: 'Guest', internal: true })).status, 403);
    assert.equal((await dave.post(`${ISSUE}/discussions`, { body: 'Guest' })).status, 201, 'a guest may start a thread');
  });

  test("GitLab's errors: a missing body, an unknown thread, a project the user cannot see", async () => {
    const { alice, erin } = world();
    assert.deepEqual(await alice.post(`${ISSUE}/discussions`, {}).then((r) => [r.status, r.body]), [400, { error: 'body is missing' }]);
    assert.deepEqual(await alice.get(`${ISSUE}/discussions/${'0'.repeat(40)}`).then((r) => [r.status, r.body]), [
      404,
      { message: '404 Discussion Not Found' },
    ]);
    assert.equal((await alice.get('/projects/acme%2Fapp/issues/9/discussions')).status, 404);
    assert.deepEqual(await erin.get(`${ISSUE}/discussions`).then((r) => [r.status, r.body]), [404, { message: '404 Project Not Found' }]);
    assert.equal((await erin.post(`${ISSUE}/discussions`, { body: 'Hi' })).status, 404);
  });
});

describe('…/discussions of a merge request', () => {
  test('the same threads, whose notes are resolvable (and unresolved)', async () => {
    const { sim, alice } = world();
    const started = await alice.post(`${MR}/discussions`, { body: 'Why?' });
    assert.equal(started.status, 201);
    const [note] = (started.body as Discussion).notes;
    assert.deepEqual([note?.type, note?.resolvable, (note as unknown as { resolved: boolean }).resolved], ['DiscussionNote', true, false]);
    sim.actions.reply('bob', 'acme/app', { mergeRequest: 1 }, (started.body as Discussion).id, 'Because');
    assert.deepEqual(threads((await alice.get(`${MR}/discussions`)).body), [
      [true, ['Looks good']],
      [false, ['Why?', 'Because']],
    ]);
    assert.equal(((await alice.get(`${MR}/notes`)).body as Note[]).length, 3);
  });

  test('actions start threads as the API does', () => {
    const { sim } = world();
    const note = sim.actions.startThread('carol', 'acme/app', { issue: 1 }, 'Internal', { internal: true });
    assert.deepEqual([note.type, note.internal], ['DiscussionNote', true]);
    assert.equal(sim.actions.reply('alice', 'acme/app', { issue: 1 }, note.discussionId, 'Reply').discussionId, note.discussionId);
  });
});
