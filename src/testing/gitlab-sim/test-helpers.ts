import type { SeedDescription } from './seed.js';

/** Shared by this folder's tests: a small REST client and a small world. Not part of the simulator's API. */

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Calls the simulator like a GitLab client: JSON in, JSON (or text) out, the token in `PRIVATE-TOKEN`. */
export function restClient(fetcher: typeof fetch, baseUrl: string, token?: string) {
  const call = async (method: string, path: string, body?: unknown): Promise<ApiResponse> => {
    const response = await fetcher(new URL(`/api/v4${path}`, baseUrl), {
      method,
      headers: {
        ...(token === undefined ? {} : { 'PRIVATE-TOKEN': token }),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const json = (response.headers.get('content-type') ?? '').includes('json') && text !== '' ? (JSON.parse(text) as unknown) : text;
    return { status: response.status, headers: response.headers, body: json };
  };
  return {
    get: (path: string) => call('GET', path),
    post: (path: string, body: unknown = {}) => call('POST', path, body),
    put: (path: string, body: unknown = {}) => call('PUT', path, body),
    delete: (path: string) => call('DELETE', path),
  };
}

/** Group `acme` with subgroup `acme/platform`, projects in both, users of every role, one token each. */
export const ACME: SeedDescription = {
  users: ['alice', 'bob', 'carol', 'dave', { username: 'erin', name: 'Erin Outsider' }],
  groups: [
    {
      path: 'acme',
      members: { alice: 'maintainer', dave: 'guest' },
      labels: ['group::environments', 'priority::1', 'priority::2'],
      milestones: ['Q1'],
    },
    { path: 'acme/platform', members: { bob: 'developer' } },
  ],
  projects: [
    {
      path: 'acme/app',
      labels: ['workflow::backlog', 'workflow::ready', 'workflow::in dev', 'team::a::one', 'team::a::two', 'team::b', 'bug'],
      milestones: ['Backlog', 'Sprint 1'],
      members: { carol: 'reporter', bob: 'developer' },
      ci: [
        { name: 'build', stage: 'build' },
        { name: 'test', stage: 'test' },
        { name: 'deploy', stage: 'deploy', environment: 'production' },
      ],
    },
    { path: 'acme/platform/api', members: { carol: 'reporter', alice: 'guest' } },
    { path: 'erin/sandbox', visibility: 'public' },
  ],
  tokens: { alice: 'alice-token', bob: 'bob-token', carol: 'carol-token', dave: 'dave-token', erin: 'erin-token' },
};
