/**
 * A mock answers for the service, not for the workflow's permissions: a call the workflow's `permissions` do not allow
 * fails under a mock exactly as it fails in production (same error, same message), and an allowed call reaches the
 * mock. Mocks used to replace the whole capability, permission checks included, so such tests passed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Json } from '../core/model.js';
import { createTestEnv, type TestEnv } from './test-env.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-mock-permissions-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Each call's outcome, as the workflow saw it: 'ok', or the error's name and message. */
const OUTCOME = `const outcome = async (call: () => Promise<unknown>): Promise<string> => {
  try {
    await call();
    return 'ok';
  } catch (error) {
    return \`\${(error as Error).name}: \${(error as Error).message}\`;
  }
};`;

function workflowFile(name: string, source: string): string {
  const path = join(dir, `${name}.ts`);
  writeFileSync(path, source);
  return path;
}

/** A workflow making the same four calls, with `permissions` (the source of its declaration's entry) or without. */
function callingWorkflow(name: string, permissions = ''): string {
  return workflowFile(
    name,
    `import { activities, gitlab, http, secrets, workflow } from 'autoflow';
${OUTCOME}
export default workflow({
  name: '${name}',
${permissions}  async run() {
    return {
      activity: await outcome(() => activities.openTicket({ title: 'Flaky job' })),
      gitlab: await outcome(() => gitlab.projects.get('secret/project')),
      http: await outcome(() => http.request({ url: 'https://tickets.example.com/api/tickets' })),
      secret: await outcome(() => secrets.get('TICKETS_TOKEN')),
    };
  },
});
`,
  );
}

const unpermitted = callingWorkflow('unpermitted');
const permitted = callingWorkflow(
  'permitted',
  `  permissions: {
    activities: ['openTicket'],
    gitlab: { projects: ['secret/project'] },
    http: ['https://tickets.example.com/api'],
    secrets: ['TICKETS_TOKEN'],
  },
`,
);

const byId = workflowFile(
  'by-id',
  `import { gitlab, workflow } from 'autoflow';
${OUTCOME}
export default workflow({
  name: 'by-id',
  permissions: { gitlab: { projects: ['acme/*'], access: 'read' } },
  async run(input: { id: number }) {
    return outcome(() => gitlab.projects.get(input.id));
  },
});
`,
);

const mocks = {
  activities: () => ({ id: 'T-1' }),
  gitlab: () => ({ id: 1, path_with_namespace: 'secret/project' }),
  http: () => ({ status: 201, headers: {}, body: { id: 7 } }),
  secrets: () => 'mocked-token',
};

/** What a run returned; it must complete, the workflows catch what their calls throw. */
async function outcomeOf(env: TestEnv, workflow: string, input: Json = null): Promise<unknown> {
  const run = await env.result(await env.start(workflow, input));
  assert.equal(run.status, 'completed', JSON.stringify(run.error));
  return run.result;
}

/** The same, in an environment of its own, closed after. */
async function resultOf(env: TestEnv, workflow: string, input: Json = null): Promise<unknown> {
  try {
    return await outcomeOf(env, workflow, input);
  } finally {
    await env.close();
  }
}

describe('mocked capabilities check permissions as the real ones do', () => {
  test('calls the permissions do not allow fail under mocks with the errors production gives', async () => {
    const mocked = await resultOf(await createTestEnv({ workflows: [unpermitted], mocks }), 'unpermitted');
    const production = await resultOf(
      await createTestEnv({
        workflows: [unpermitted],
        gitlab: { users: ['bot'], groups: [{ path: 'secret', members: { bot: 'maintainer' } }], projects: [{ path: 'secret/project' }] },
        activities: { openTicket: async () => ({ id: 'T-1' }) },
        secrets: { TICKETS_TOKEN: 'real-token' },
        fetch: async () => new Response('{}', { status: 201, headers: { 'content-type': 'application/json' } }),
      }),
      'unpermitted',
    );
    assert.deepEqual(mocked, production);
    assert.deepEqual(mocked, {
      activity: "PermissionDeniedError: workflow 'unpermitted' may not call activity 'openTicket': add it to permissions.activities",
      gitlab:
        "PermissionDeniedError: workflow 'unpermitted' may not GET /projects/secret%2Fproject: it has no GitLab permissions; add permissions.gitlab.projects (or groups) to its definition",
      http: "PermissionDeniedError: workflow 'unpermitted' may not reach https://tickets.example.com/api/tickets: add a prefix of it to permissions.http",
      secret: "PermissionDeniedError: workflow 'unpermitted' may not read secret 'TICKETS_TOKEN': add it to permissions.secrets",
    });
  });

  test('allowed calls reach the mocks, at creation and through env.mock', async () => {
    const all = { activity: 'ok', gitlab: 'ok', http: 'ok', secret: 'ok' };
    assert.deepEqual(await resultOf(await createTestEnv({ workflows: [permitted], mocks }), 'permitted'), all);

    const env = await createTestEnv({ workflows: [unpermitted, permitted] });
    try {
      env.mock('http', mocks.http);
      const denied = (await outcomeOf(env, 'unpermitted')) as { http: string };
      assert.match(denied.http, /^PermissionDeniedError: .* add a prefix of it to permissions\.http$/);
      assert.equal(((await outcomeOf(env, 'permitted')) as { http: string }).http, 'ok');
    } finally {
      await env.close();
    }
  });

  test('a project named by id is checked against globs with its path, read from the simulated GitLab', async () => {
    const seed = {
      users: ['bot'],
      groups: [
        { path: 'acme', members: { bot: 'maintainer' as const } },
        { path: 'other', members: { bot: 'maintainer' as const } },
      ],
      projects: [{ path: 'acme/app' }, { path: 'other/secret' }],
    };
    const env = await createTestEnv({ workflows: [byId], gitlab: seed, mocks: { gitlab: () => ({ id: 0, name: 'mocked' }) } });
    try {
      const idOf = (path: string): number => env.gitlab.state.requireProject(path).id;
      assert.equal(await outcomeOf(env, 'by-id', { id: idOf('acme/app') }), 'ok');
      assert.equal(
        await outcomeOf(env, 'by-id', { id: idOf('other/secret') }),
        `PermissionDeniedError: workflow 'by-id' may not GET /projects/${idOf('other/secret')}: GitLab project 'other/secret' is not granted; add 'other/secret' (or a glob such as 'other/*') to permissions.gitlab.projects`,
      );
    } finally {
      await env.close();
    }
  });

  test('without a simulated GitLab, the mock itself is asked for the path, as GitLab would be', async () => {
    const paths = new Map([
      [7, 'acme/app'],
      [8, 'other/secret'],
    ]);
    const answering = {
      gitlab: (method: string, args: Json): Json => {
        const { project } = args as { project: number };
        return method === 'projects.get' ? { id: project, path_with_namespace: paths.get(project) ?? null } : null;
      },
    };
    assert.equal(await resultOf(await createTestEnv({ workflows: [byId], mocks: answering }), 'by-id', { id: 7 }), 'ok');
    assert.match(
      String(await resultOf(await createTestEnv({ workflows: [byId], mocks: answering }), 'by-id', { id: 8 })),
      /^PermissionDeniedError: .*GitLab project 'other\/secret' is not granted/,
    );
    assert.match(
      String(await resultOf(await createTestEnv({ workflows: [byId], mocks: { gitlab: () => ({ id: 7 }) } }), 'by-id', { id: 7 })),
      /^CapabilityError: the mocked gitlab names project 7 by id, and permissions\.gitlab holds globs: .*gitlab\.projects\.get\(\{ project: 7 \}\) has no path_with_namespace/,
    );
  });
});
