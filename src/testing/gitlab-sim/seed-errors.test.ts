/**
 * A seed acts with GitLab's permissions: an issue whose author may not see its project is refused. The error names
 * the issue, the project and the user, and says what to add, instead of a bare `404 Project Not Found`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualClock } from '../../app/clocks.js';
import { createGitLabSimulator } from './index.js';

test('an issue whose author is not a member of the private project names the issue and the user', () => {
  assert.throws(
    () =>
      createGitLabSimulator({
        clock: new VirtualClock(),
        seed: {
          users: ['bot', 'dana'],
          groups: [{ path: 'acme', members: { bot: 'maintainer' } }],
          projects: [{ path: 'acme/app', issues: [{ title: 'Crash on start', author: 'dana' }] }],
        },
      }),
    {
      name: 'TypeError',
      message:
        "seed: issue 'Crash on start' of acme/app by dana was refused (GitLab answered 404 Project Not Found); dana is not a member of acme/app or of its groups, so may not see a private project: add { dana: 'reporter' } (or higher) to its members",
    },
  );
});
