import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { matchWebhookSource, type WebhookSource } from './webhook-auth.js';

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
