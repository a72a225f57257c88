import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadGitLabWebhookFixtures } from '../../test/fixtures/gitlab-webhooks/index.js';
import type { CloudEvent, Json } from '../core/model.js';
import { normalizeGitLabWebhook } from './webhook-event.js';
import { seededRandom } from '../../test/helpers/random.js';

/**
 * Payloads of other GitLab releases lack fields, send null, or change a field's type. Every
 * documented payload is taken apart here — each field removed, nulled or given another type, one at
 * a time and then many at once — and must still normalise into a well-formed event that carries the
 * payload unchanged.
 */

type Key = string | number;
const FIXTURES = loadGitLabWebhookFixtures();
const REPLACEMENTS: { name: string; value?: Json }[] = [
  { name: 'removed' },
  { name: 'null', value: null },
  { name: 'empty string', value: '' },
  { name: 'other string', value: 'not what GitLab sends' },
  { name: 'number', value: -1.5 },
  { name: 'boolean', value: true },
  { name: 'array', value: [] },
  { name: 'object', value: {} },
];

function* fieldPaths(value: Json, prefix: Key[] = []): Generator<Key[]> {
  if (value === null || typeof value !== 'object') return;
  const entries: [Key, Json][] = Array.isArray(value) ? value.map((item, i) => [i, item]) : Object.entries(value);
  for (const [key, child] of entries) {
    yield [...prefix, key];
    yield* fieldPaths(child, [...prefix, key]);
  }
}

/** A copy of `payload` with the field at `path` replaced, or removed when `value` is undefined. */
function mutated(payload: Json, path: Key[], value: Json | undefined): Json {
  const copy = structuredClone(payload);
  let parent = copy as Record<Key, Json> | Json[];
  for (const key of path.slice(0, -1)) parent = (parent as Record<Key, Json>)[key] as Record<Key, Json>;
  const last = path[path.length - 1] as Key;
  if (value !== undefined) (parent as Record<Key, Json>)[last] = value;
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last];
  return copy;
}

function normalize(payload: Json, header: string) {
  return normalizeGitLabWebhook({
    headers: { 'x-gitlab-event': header },
    body: JSON.stringify(payload),
    source: { name: 'main', secret: 's' },
    receivedAt: 0,
  });
}

function assertWellFormed(event: CloudEvent, payload: Json, label: string) {
  assert.equal(event.specversion, '1.0', label);
  assert.match(event.type, /^com\.gitlab\.events\.[a-z0-9_]+$/, label);
  assert.ok(event.source.length > 0, label);
  assert.match(event.id, /^[0-9a-f]{64}$/, label);
  assert.ok(event.subject === undefined || event.subject.length > 0, label);
  assert.equal(event.time, new Date(Date.parse(event.time ?? '')).toISOString(), label);
  assert.equal(event.datacontenttype, 'application/json', label);
  assert.deepEqual(event.data, payload, label);
}

describe('defensive parsing of payloads from other GitLab releases', () => {
  for (const fixture of FIXTURES) {
    test(`${fixture.file}: every field removed, nulled or retyped, one at a time`, () => {
      const payload = JSON.parse(fixture.body) as Json;
      let cases = 0;
      for (const path of fieldPaths(payload)) {
        for (const { name, value } of REPLACEMENTS) {
          const changed = mutated(payload, path, value);
          const label = `${fixture.file}: ${path.join('.')} ${name}`;
          assertWellFormed(normalize(changed, fixture.header).event, changed, label);
          cases++;
        }
      }
      assert.ok(cases >= REPLACEMENTS.length * 4, `${fixture.file}: only ${cases} cases`);
    });
  }

  test('many fields broken at once, at random (seeded)', () => {
    const next = seededRandom(20240607);
    for (const fixture of FIXTURES) {
      for (let round = 0; round < 150; round++) {
        let payload = JSON.parse(fixture.body) as Json;
        const changes: string[] = [];
        for (let n = 1 + Math.floor(next() * 12); n > 0; n--) {
          const paths = [...fieldPaths(payload)];
          if (paths.length === 0) break;
          const path = paths[Math.floor(next() * paths.length)] as Key[];
          const replacement = REPLACEMENTS[Math.floor(next() * REPLACEMENTS.length)] as (typeof REPLACEMENTS)[number];
          payload = mutated(payload, path, replacement.value);
          changes.push(`${path.join('.')} ${replacement.name}`);
        }
        assertWellFormed(normalize(payload, fixture.header).event, payload, `${fixture.file}: ${changes.join(', ')}`);
      }
    }
  });

  test('a payload stripped to one field, or to nothing, still normalises', () => {
    for (const fixture of FIXTURES) {
      const payload = JSON.parse(fixture.body) as Record<string, Json>;
      assertWellFormed(normalize({}, fixture.header).event, {}, `${fixture.file}: {}`);
      for (const [key, value] of Object.entries(payload)) {
        assertWellFormed(normalize({ [key]: value }, fixture.header).event, { [key]: value }, `${fixture.file}: only ${key}`);
      }
    }
  });

  test('`__proto__` keys in a body are plain data, not inherited fields', () => {
    const body =
      '{"__proto__": {"object_kind": "push", "project": {"path_with_namespace": "evil/x"}}, "object_attributes": {"__proto__": {"action": "close"}}}';
    const { event } = normalizeGitLabWebhook({ headers: {}, body, source: { name: 'main', secret: 's' }, receivedAt: 0 });
    assert.equal(event.type, 'com.gitlab.events.unknown');
    assert.equal(event.source, 'urn:autoflow:gitlab:main');
    assert.deepEqual(event.data, JSON.parse(body));
  });
});
