import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createUserRefusal, uiUserEntryProblem } from './allowed-users.js';

test('uiUsers entries are GitLab usernames (with or without @) or group:<full path>; anything else says what is wanted', () => {
  for (const entry of ['alice', '@alice', 'bob.smith', 'group:acme', 'group:acme/platform-team'])
    assert.equal(uiUserEntryProblem(entry), undefined, entry);
  assert.match(uiUserEntryProblem('group:')!, /a group is group:<full path>/);
  assert.match(uiUserEntryProblem('group:acme//x')!, /a group is group:<full path>/);
  assert.match(uiUserEntryProblem('alice smith')!, /a GitLab username, or group:<full path>/);
});

test('a listed user is let in whatever the case of the name; a group is asked only for someone not listed by name', async () => {
  const asked: string[] = [];
  const refuse = createUserRefusal(
    ['@Alice', 'group:acme/ops'],
    (group, userId) => {
      asked.push(`${group}:${userId}`);
      return Promise.resolve(userId === 7);
    },
    () => assert.fail('no check fails'),
  );
  assert.equal(await refuse({ username: 'alice', id: 1 }), undefined);
  assert.deepEqual(asked, []);
  assert.equal(await refuse({ username: 'olga', id: 7 }), undefined);
  assert.match(
    (await refuse({ username: 'mallory', id: 9 }))!,
    /^@mallory may not use this AutoFlow: it lets in @alice, the members of acme\/ops\. /,
  );
  assert.match((await refuse({ username: 'nameless' }))!, /GitLab did not say which user you are/);
  assert.deepEqual(asked, ['acme/ops:7', 'acme/ops:9']);
});

test('a group GitLab cannot answer for refuses, says so, and reports the error for the log', async () => {
  const failures: string[] = [];
  const refuse = createUserRefusal(
    ['group:a', 'group:b'],
    (group) => (group === 'a' ? Promise.reject(new Error('GitLab answered 503')) : Promise.resolve(false)),
    (group, error) => failures.push(`${group}: ${(error as Error).message}`),
  );
  assert.match((await refuse({ username: 'olga', id: 7 }))!, /\(the membership of a could not be checked with GitLab\)/);
  assert.deepEqual(failures, ['a: GitLab answered 503']);
  const member = createUserRefusal(
    ['group:a', 'group:b'],
    (group) => (group === 'a' ? Promise.reject(new Error('down')) : Promise.resolve(true)),
    () => {},
  );
  assert.equal(await member({ username: 'olga', id: 7 }), undefined, 'a member of another listed group is let in');
});
