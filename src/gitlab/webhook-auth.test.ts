import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadGitLabWebhookFixtures } from '../../test/fixtures/gitlab-webhooks/index.js';
import type { Json, JsonObject } from '../core/model.js';
import { matchWebhookSource, webhookScopeProblem, type WebhookSource } from './webhook-auth.js';
import { locateHook, namedPaths } from './webhook-location.js';

const SOURCES: WebhookSource[] = [
  { name: 'prod', secret: 'prod-secret-0123456789', instanceUrl: 'https://gitlab.example.com' },
  { name: 'staging', secret: 'staging-secret' },
  { name: 'dev', secret: 'd' },
];

describe('matchWebhookSource', () => {
  test('picks the source whose secret the token equals, among several', () => {
    for (const source of SOURCES) assert.equal(matchWebhookSource(SOURCES, source.secret), source);
  });

  test('rejects wrong, missing and empty tokens', () => {
    for (const token of [undefined, '', 'nope', 'PROD-SECRET-0123456789', ' prod-secret-0123456789']) {
      assert.equal(matchWebhookSource(SOURCES, token), undefined, `token ${JSON.stringify(token)}`);
    }
  });

  test('a prefix or an extension of a secret is not the secret (lengths differ)', () => {
    for (const token of ['prod-secret', 'prod-secret-01234567890', 'staging-secre', 'staging-secrets', 'dd']) {
      assert.equal(matchWebhookSource(SOURCES, token), undefined, token);
    }
  });

  test('no sources configured: nothing matches', () => {
    assert.equal(matchWebhookSource([], 'prod-secret-0123456789'), undefined);
  });

  test('a source with an empty secret never matches', () => {
    const sources = [{ name: 'open', secret: '' }, ...SOURCES];
    assert.equal(matchWebhookSource(sources, ''), undefined);
    assert.equal(matchWebhookSource(sources, 'staging-secret')?.name, 'staging');
  });

  test('two sources with one secret: the first listed wins', () => {
    const sources = [
      { name: 'a', secret: 'shared' },
      { name: 'b', secret: 'shared' },
    ];
    assert.equal(matchWebhookSource(sources, 'shared')?.name, 'a');
  });

  test('compares against every source even when the first one matches (no early exit)', () => {
    const reads: string[] = [];
    const counted = SOURCES.map((source) => ({
      name: source.name,
      get secret() {
        reads.push(source.name);
        return source.secret;
      },
    }));
    assert.equal(matchWebhookSource(counted, SOURCES[0]?.secret)?.name, 'prod');
    assert.deepEqual(new Set(reads), new Set(['prod', 'staging', 'dev']));
  });
});

describe('webhookScopeProblem', () => {
  const teamA: WebhookSource = { name: 'team-a', secret: 'a-secret', projects: ['team-a', 'team-a/*'] };
  const hook = (project: Record<string, unknown>, more: Record<string, unknown> = {}) => ({
    object_kind: 'push',
    project_id: 42,
    project: { id: 42, path_with_namespace: 'team-a/app', web_url: 'https://gitlab.example.com/team-a/app', ...project },
    ...more,
  });

  test("a payload that names team-a's project in its path and team-b's in its URL is refused, naming the URL's field", () => {
    const forged = hook({ web_url: 'https://gitlab.example.com/team-b/app' });
    assert.equal(
      webhookScopeProblem(teamA, forged),
      "webhook source 'team-a' may deliver events about team-a, team-a/* only, and this delivery's project.web_url names team-b/app: " +
        "add the project to the source's projects in autoflow.config.ts, or give its hook the secret of its own source",
    );
    assert.equal(webhookScopeProblem(teamA, hook({})), undefined, "the same hook all about team-a's project is let in");
  });

  test("every field of GitLab's documented payloads that names a project is checked: pointing any one at team-b is refused", () => {
    // GitLab's examples of these hooks name one project throughout (others mix in projects of other examples).
    const consistent = loadGitLabWebhookFixtures().filter((fixture) => {
      const payload = JSON.parse(fixture.body) as JsonObject;
      return webhookScopeProblem({ name: 'own', secret: 's', projects: ownProjects(payload) }, payload) === undefined;
    });
    assert.ok(consistent.length >= 20, `${consistent.length} self-consistent fixtures`);
    let fields = 0;
    for (const fixture of consistent) {
      const payload = JSON.parse(fixture.body) as JsonObject;
      const source = { name: 'own', secret: 's', projects: ownProjects(payload) };
      for (const named of namedPaths(payload, undefined)) {
        const forged = structuredClone(payload);
        redirect(forged, named.field, named.path ?? '');
        const problem = webhookScopeProblem(source, forged) ?? '';
        assert.match(
          problem,
          new RegExp(`this delivery's ${named.field.replace(/[.[\]]/g, '\\$&')} names team-b/`),
          `${fixture.file}: ${named.field}`,
        );
        fields++;
      }
    }
    assert.ok(fields > 150, `${fields} fields checked`);
  });

  test('the fields of a merge request name its source and target projects, so a fork outside the projects is refused', () => {
    const fork = { path_with_namespace: 'alice/app', web_url: 'https://gitlab.example.com/alice/app' };
    const problem = webhookScopeProblem(teamA, hook({}, { object_kind: 'merge_request', object_attributes: { source: fork } }));
    assert.match(problem ?? '', /object_attributes\.source\.path_with_namespace names alice\/app/);
  });

  test('a path with dot segments, plain or encoded, is refused: the event made of it would resolve them into another project', () => {
    // Sent with team-b's secret: the text starts in team-b's projects, and its source and subject would be team-a's.
    const teamB = { ...teamA, name: 'team-b', projects: ['team-b', 'team-b/*'] };
    for (const web_url of [
      'https://gitlab.example.com/team-b/x/../../team-a/app',
      'https://gitlab.example.com/team-b/x/%2e%2e/%2E%2E/team-a/app',
      'https://gitlab.example.com/team-b/x\\..\\..\\team-a\\app',
      'https://gitlab.example.com/team-b/x/-/../../../team-a/app/-/merge_requests/7',
    ]) {
      const sneaky = { object_kind: 'merge_request', project: { id: 1, web_url }, object_attributes: { iid: 7 } };
      assert.match(
        webhookScopeProblem(teamB, sneaky) ?? '',
        /project\.web_url does not name a project or group as GitLab writes one/,
        web_url,
      );
    }
    const encodedBranch = hook({}, { object_attributes: { url: 'https://gitlab.example.com/team-a/app/-/blob/feature%2Fx/README.md' } });
    assert.equal(webhookScopeProblem(teamA, encodedBranch), undefined, 'an encoded slash in what follows /-/ is GitLab’s own');
    const path = { object_kind: 'merge_request', project: { path_with_namespace: 'team-b/../team-a/app' } };
    assert.match(webhookScopeProblem(teamB, path) ?? '', /project\.path_with_namespace does not name a project or group/);
  });

  test("URLs are read below the source's instanceUrl, so a GitLab under a relative URL root is checked by project path", () => {
    const rooted = hook({ web_url: 'https://example.com/gitlab/team-a/app', git_ssh_url: 'git@example.com:team-a/app.git' });
    assert.equal(webhookScopeProblem({ ...teamA, instanceUrl: 'https://example.com/gitlab/' }, rooted), undefined);
    assert.match(webhookScopeProblem(teamA, rooted) ?? '', /project\.web_url names gitlab\/team-a\/app/);
  });

  test('a URL field that does not read as a URL is refused, and so is a hook that names no project or group', () => {
    assert.match(webhookScopeProblem(teamA, hook({ homepage: 'team-b/app' })) ?? '', /project\.homepage does not name a project or group/);
    assert.match(webhookScopeProblem(teamA, { event_name: 'user_create' }) ?? '', /names no project or group$/);
  });

  test('a source without projects lets any hook in', () => {
    assert.equal(webhookScopeProblem({ name: 'all', secret: 's' }, hook({ web_url: 'https://h/team-b/app' })), undefined);
  });
});

/** The payload's own project or group (and the group above a subgroup): what a source of its team would list. */
function ownProjects(payload: JsonObject): string[] {
  const { path } = locateHook(payload, undefined);
  const parent = typeof payload['parent_full_path'] === 'string' ? [payload['parent_full_path']] : [];
  return [...(path === undefined ? [] : [path.replace(/\.wiki$/, '')]), ...parent];
}

/** Points the value at `field` (each element of an array on the way) at team-b's project instead of `path`. */
function redirect(value: Json | undefined, field: string, path: string): void {
  const [segment = '', ...rest] = field.split('.');
  const key = segment.replace(/\[\]$/, '');
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
  const found = value[key];
  if (rest.length > 0) {
    for (const item of segment.endsWith('[]') && Array.isArray(found) ? found : [found]) redirect(item, rest.join('.'), path);
    return;
  }
  const replace = (text: Json) =>
    typeof text === 'string' ? text.replace(new RegExp(path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i'), 'team-b/x') : text;
  value[key] = segment.endsWith('[]') && Array.isArray(found) ? found.map(replace) : replace(found ?? null);
}
