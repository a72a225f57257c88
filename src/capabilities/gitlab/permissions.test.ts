import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PermissionDeniedError } from '../../core/errors.js';
import { type World, createWorld, rejection } from './world.test.js';

/** `permissions.gitlab` is enforced on the host, before any request leaves. */

describe('gitlab permissions', () => {
  test('a project outside the globs is refused, naming it and the permission to add, and nothing reaches GitLab', async () => {
    const { sim, call, requests } = createWorld();
    const audits = sim.state.auditEvents.length;
    const denied = await rejection(call('issues.create', { project: 'other/secret', attributes: { title: 'leak' } }));
    assert.ok(denied instanceof PermissionDeniedError);
    assert.equal(
      denied.message,
      "workflow 'wf' may not POST /projects/other%2Fsecret/issues: GitLab project 'other/secret' is not granted; add 'other/secret' (or a glob such as 'other/*') to permissions.gitlab.projects",
    );
    assert.deepEqual(denied.details, {
      request: 'POST /projects/other%2Fsecret/issues',
      project: 'other/secret',
      permission: 'permissions.gitlab.projects',
    });
    await assert.rejects(call('issues.list', { project: 'other/secret' }), PermissionDeniedError);
    await assert.rejects(
      call('labels.list', { group: 'other' }),
      /GitLab group 'other' is not granted; add 'other' to permissions\.gitlab\.groups/,
    );
    assert.deepEqual(requests, []);
    assert.equal(sim.state.auditEvents.length, audits);
    assert.equal(sim.state.issuesOf(sim.state.requireProject('other/secret')).length, 0);
  });

  test('a numeric id is resolved to its path once per capability, and only when globs need it', async () => {
    const secret = (world: World): number => world.sim.state.requireProject('other/secret').id;
    const world = createWorld();
    await assert.rejects(world.call('issues.get', { project: secret(world), iid: 1 }), /project 'other\/secret' is not granted/);
    await assert.rejects(world.call('issues.list', { project: secret(world) }), PermissionDeniedError);
    assert.deepEqual(world.requests, [`GET /api/v4/projects/${secret(world)}`]);

    const app = world.sim.state.requireProject('acme/app').id;
    await world.call('issues.list', { project: app });
    await world.call('issues.list', { project: app });
    assert.deepEqual(world.requests.slice(1), [
      `GET /api/v4/projects/${app}`,
      `GET /api/v4/projects/${app}/issues`,
      `GET /api/v4/projects/${app}/issues`,
    ]);

    // Granted by id: no lookup. Only ids granted, and another id asked for: refused without a lookup.
    const byId = createWorld();
    const permissions = { gitlab: { projects: [String(secret(byId))] } };
    await byId.call('issues.list', { project: secret(byId) }, { permissions });
    const other = byId.sim.state.requireProject('acme/app').id;
    await assert.rejects(
      byId.call('issues.list', { project: other }, { permissions }),
      new RegExp(`GitLab project ${other} is not granted; add '${other}' or its path`),
    );
    assert.deepEqual(byId.requests, [`GET /api/v4/projects/${secret(byId)}/issues`]);
  });

  test('read access allows only GET', async () => {
    const { call, requests } = createWorld();
    const permissions = { gitlab: { projects: ['acme/*'], access: 'read' as const } };
    await call('issues.list', { project: 'acme/app' }, { permissions });
    const denied = await rejection(call('issues.create', { project: 'acme/app', attributes: { title: 'x' } }, { permissions }));
    assert.ok(denied instanceof PermissionDeniedError);
    assert.match(denied.message, /read-only \(GET\); set permissions\.gitlab\.access to 'write'/);
    await assert.rejects(
      call('request', { method: 'DELETE', path: '/projects/acme%2Fapp/labels/bug' }, { permissions }),
      PermissionDeniedError,
    );
    assert.equal(requests.length, 1);
  });

  test('outside projects and groups only GET; no GitLab permissions at all refuse everything', async () => {
    const { call, requests } = createWorld();
    assert.equal((await call<{ username: string }>('users.current', {})).username, 'bot');
    await assert.rejects(
      call('request', { method: 'POST', path: '/projects', body: { name: 'new' } }),
      /outside \/projects\/:id and \/groups\/:id a workflow may only GET /,
    );
    await assert.rejects(call('users.current', {}, { permissions: {} }), /has no GitLab permissions; add permissions\.gitlab\.projects/);
    assert.equal(requests.length, 1);
  });

  test('outside projects and groups only the few GETs that show no project: the user, users, the version, the metadata', async () => {
    const { sim, call, requests } = createWorld();
    // What the typed methods send, and the raw request to the same endpoints.
    const bob = sim.state.userByUsername('bob');
    assert.ok(bob);
    assert.equal((await call<{ username: string }>('users.get', { userId: bob.id })).username, 'bob');
    assert.equal((await call<{ username: string } | null>('users.byUsername', { username: 'alice' }))?.username, 'alice');
    assert.match((await call<{ version: string }>('request', { method: 'GET', path: '/version' })).version, /^\d+\./);
    await call('request', { method: 'GET', path: '/user' });
    await call('request', { method: 'GET', path: '/users', query: { username: 'bob' } });
    await call('request', { method: 'GET', path: '/metadata' }).catch((error: unknown) => {
      // The simulator may not serve it; what matters is that the guard let it through.
      assert.ok(!(error instanceof PermissionDeniedError), String(error));
    });
    const allowed = requests.length;
    assert.deepEqual(requests.slice(0, 6), [
      `GET /api/v4/users/${bob.id}`,
      'GET /api/v4/users?username=alice',
      'GET /api/v4/version',
      'GET /api/v4/user',
      'GET /api/v4/users?username=bob',
      'GET /api/v4/metadata',
    ]);

    // Instance-wide lists and searches would show projects the workflow is not granted (other/secret here).
    const refused: Array<{ path: string; query?: Record<string, string> }> = [
      { path: '/issues', query: { scope: 'all' } },
      { path: '/merge_requests', query: { scope: 'all' } },
      { path: '/search', query: { scope: 'blobs', search: 'password' } },
      { path: '/projects' },
      { path: '/projects', query: { search: 'secret' } },
      { path: '/groups' },
      { path: '/users' },
      { path: '/users', query: { search: 'a' } },
      { path: '/users', query: { username: 'bob', search: 'a' } },
      { path: '/users', query: { username: '' } },
      { path: `/users/${bob.id}/projects` },
      { path: '/users/bob' },
      { path: '/user/keys' },
      { path: '/todos' },
      { path: '/events' },
      { path: '/snippets/public' },
      { path: '/version/../issues' },
      { path: '//issues' },
      { path: '/projects//issues' },
      // A granted project in a parameter does not scope an instance-wide path.
      { path: '/issues', query: { scope: 'all', target_project_id: 'acme/app' } },
    ];
    for (const { path, query } of refused) {
      const error = await rejection(call('request', { method: 'GET', path, ...(query ? { query } : {}) }));
      assert.ok(error instanceof PermissionDeniedError, `${path} ${JSON.stringify(query)}: ${String(error)}`);
      assert.match(
        error.message,
        /^workflow 'wf' may not GET \/[^:]*: outside \/projects\/:id and \/groups\/:id a workflow may only GET \/version, \/metadata, \/user, \/users\/:id and \/users\?username=… \(instance-wide lists and searches would show projects it is not granted\); use the granted project's or group's own endpoint instead, such as \/projects\/:id\/issues/,
      );
    }
    assert.equal(requests.length, allowed, 'nothing refused reached GitLab');

    // The project's and group's own lists and searches stay available.
    await call('request', { method: 'GET', path: '/projects/acme%2Fapp/issues', query: { scope: 'all' } });
    await call('issues.list', { group: 'acme' });
  });

  test('the check runs on the URL really sent, and on parameters that write into another project', async () => {
    const { call, requests } = createWorld();
    // `..` is normalised by URL parsing before the request is sent: this path names other/secret.
    await assert.rejects(
      call('request', { method: 'GET', path: '/projects/acme%2Fapp/../other%2Fsecret/issues' }),
      /project 'other\/secret' is not granted/,
    );
    await assert.rejects(
      call('request', { method: 'GET', path: '/projects/acme%2Fapp/%2e%2e/other%2Fsecret' }),
      /project 'other\/secret' is not granted/,
    );
    await assert.rejects(
      call('mergeRequests.create', {
        project: 'acme/app',
        attributes: { source_branch: 'feature', target_branch: 'main', title: 'x', target_project_id: 'other/secret' },
      }),
      /project 'other\/secret' is not granted/,
    );
    await assert.rejects(
      call('request', { method: 'POST', path: '/projects/acme%2Fapp/issues/1/move', body: { to_project_id: 'other/secret' } }),
      /other\/secret/,
    );
    // Compared with another project's commits, the answer would show that project's code.
    await assert.rejects(
      call('request', {
        method: 'GET',
        path: '/projects/acme%2Fapp/repository/compare',
        query: { from: 'main', to: 'main', from_project_id: 'other/secret' },
      }),
      /project 'other\/secret' is not granted/,
    );
    await assert.rejects(
      call('request', { method: 'POST', path: '/projects/acme%2Fapp/import_project_members/other%2Fsecret' }),
      /project 'other\/secret' is not granted/,
    );
    await assert.rejects(
      call('request', { method: 'POST', path: '/projects/acme%2Fapp/fork', body: { namespace_path: 'other' } }),
      /forks, transfers and shares/,
    );
    await assert.rejects(call('request', { method: 'GET', path: '/projects/acme%2Fapp%2F..%2F..%2Fother%2Fsecret' }), {
      code: 'invalid_path',
    });
    await assert.rejects(call('request', { method: 'GET', path: '/projects/acme%2F%zz/issues' }), { code: 'invalid_path' });
    assert.deepEqual(requests, []);
  });

  test('a cross-project parameter naming a project GitLab does not show is refused by name, not as a 404 of a lookup', async () => {
    const { call } = createWorld();
    const error = await rejection(
      call('mergeRequests.create', {
        project: 'acme/app',
        attributes: { source_branch: 'feature', target_branch: 'main', title: 'x', target_project_id: 999 },
      }),
    );
    assert.ok(error instanceof PermissionDeniedError);
    assert.match(
      error.message,
      /^workflow 'wf' may not POST \/projects\/acme%2Fapp\/merge_requests: target_project_id 999 is not a granted project \(GitLab answered 404 when AutoFlow looked it up/,
    );
    assert.deepEqual((error as PermissionDeniedError & { details?: unknown }).details, {
      request: 'POST /projects/acme%2Fapp/merge_requests',
      project: '999',
      parameter: 'target_project_id',
      permission: 'permissions.gitlab.projects',
    });
  });

  test("globs are trigger filters' (`*` spans subgroups), compared case-insensitively like GitLab paths", async () => {
    const { call } = createWorld();
    const grant = (...projects: string[]) => ({ permissions: { gitlab: { projects } } });
    await call('projects.get', { project: 'acme/platform/api' }, grant('acme/*'));
    await call('projects.get', { project: 'ACME/App' }, grant('acme/app'));
    await call('projects.get', { project: 'acme/app' }, grant('acme/ap?'));
    await assert.rejects(call('projects.get', { project: 'acme/app' }, grant('acme/app/*', 'acme/ap')), PermissionDeniedError);
    await assert.rejects(call('projects.get', { project: 'acme/platform/api' }, grant('acme/platform')), PermissionDeniedError);
  });
});
