import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Json, Permissions } from '../../core/model.js';
import type { Capability, CapabilityContext } from '../../core/ports.js';
import { type GitLabSimulator, type SeedDescription, createGitLabSimulator } from '../../testing/gitlab-sim/index.js';
import { createGitLabCapability } from './capability.js';
import { capabilityContext } from '../../../test/helpers/capability-context.js';

/**
 * The world this folder's tests share: a simulated GitLab, the capability on its in-process
 * fetch, and every request that reached the simulator. (A `.test.ts` file because capabilities/
 * may not import testing/ outside tests; its own test checks the seed the others rely on.)
 */

export const SEED: SeedDescription = {
  users: ['bot', 'alice', 'bob'],
  groups: [
    { path: 'acme', members: { bot: 'maintainer', alice: 'developer' }, labels: ['priority::1'], milestones: ['Q1'] },
    { path: 'acme/platform', members: { bob: 'developer' } },
    // The bot may do everything in `other`: a refusal there comes from AutoFlow's permissions, not GitLab's.
    { path: 'other', members: { bot: 'maintainer' } },
  ],
  projects: [
    {
      path: 'acme/app',
      labels: ['bug', 'workflow::ready'],
      milestones: ['Sprint 1'],
      branches: ['feature'],
      files: { 'README.md': '# app\n', 'ci/deploy.yml': 'stage: deploy\n' },
      ci: [
        { name: 'build', stage: 'build' },
        { name: 'deploy', stage: 'deploy', environment: 'production' },
      ],
    },
    { path: 'acme/platform/api' },
    { path: 'other/secret' },
  ],
  tokens: { bot: 'bot-token', alice: 'alice-token' },
};

export const GRANTS: Permissions = { gitlab: { projects: ['acme/*'], groups: ['acme', 'acme/*'] } };

export interface World {
  sim: GitLabSimulator;
  gitlab: Capability;
  /** `METHOD /api/v4/…?query` of every request that reached the simulator, in order. */
  requests: string[];
  context: (overrides?: Partial<CapabilityContext>) => CapabilityContext;
  /** Invokes a method as workflow `wf`, attempt 1 of call `r1:1`, with GRANTS unless overridden. */
  call: <T = Json>(method: string, args: Json, overrides?: Partial<CapabilityContext>) => Promise<T>;
}

export function createWorld(options: { token?: string } = {}): World {
  const sim = createGitLabSimulator({ seed: SEED });
  const requests: string[] = [];
  const counted: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    requests.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`);
    return sim.fetch(input, init);
  };
  const gitlab = createGitLabCapability({ baseUrl: sim.state.baseUrl, token: options.token ?? 'bot-token', fetch: counted });
  const context = (overrides: Partial<CapabilityContext> = {}): CapabilityContext =>
    capabilityContext({ permissions: GRANTS, now: Date.now(), ...overrides });
  return {
    sim,
    gitlab,
    requests,
    context,
    call: <T = Json>(method: string, args: Json, overrides?: Partial<CapabilityContext>) =>
      gitlab.invoke(method, args, context(overrides)) as Promise<T>,
  };
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof Error);
    return error;
  }
  assert.fail('expected a rejection');
}

test('the shared world is seeded as the gitlab capability tests expect', () => {
  const { sim } = createWorld();
  assert.deepEqual(
    [...sim.state.projects.values()].map((project) => sim.state.projectPath(project)),
    ['acme/app', 'acme/platform/api', 'other/secret'],
  );
  assert.ok(sim.state.requireProject('acme/app').repository.branches.has('feature'));
});
