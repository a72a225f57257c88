import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { eventKeyForShape, eventKeyForStoredShape, hashedWaitIndexEntry, isHashedShape, waitIndexEntry } from './correlation.js';
import type { CloudEvent, Json } from './model.js';

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

const callback = (data: CloudEvent['data']): CloudEvent => ({
  specversion: '1.0',
  id: 'c1',
  source: '/x',
  type: 'com.example.callback',
  data,
});

describe('hashed wait shapes', () => {
  test('a hashed entry keeps the paths, marked, and a digest of the plain key instead of the values', () => {
    const match = { 'data.token': 'tok-3f9a7c1e', subject: 'acme/app#42' };
    const plain = waitIndexEntry(match);
    const hashed = hashedWaitIndexEntry(match, sha256);
    assert.deepEqual(hashed.paths, ['data.token', 'subject', '']);
    assert.equal(hashed.key, `sha256:${sha256(plain.key)}`);
    assert.doesNotMatch(JSON.stringify(hashed), /tok-3f9a7c1e|acme/);
    assert.ok(isHashedShape(hashed.paths));
  });

  test('no plain shape reads as a hashed one, a path named "" included', () => {
    for (const match of [{}, { 'data.id': 1 }, { '': 1 }, { '': 1, a: 2 }, { a: 1, b: 2 }] as Record<string, Json>[]) {
      assert.equal(isHashedShape(waitIndexEntry(match).paths), false, JSON.stringify(match));
    }
    assert.ok(isHashedShape(hashedWaitIndexEntry({ '': 1 }, sha256).paths));
  });

  test("an event's key for a hashed shape is the wait's key exactly when its values are the wait's", () => {
    const { paths, key } = hashedWaitIndexEntry({ 'data.token': 'tok-3f9a7c1e', 'data.n': 1 }, sha256);
    assert.equal(eventKeyForStoredShape(callback({ token: 'tok-3f9a7c1e', n: 1, other: true }), paths, sha256), key);
    assert.notEqual(eventKeyForStoredShape(callback({ token: 'tok-3f9a7c1e', n: 2 }), paths, sha256), key);
    assert.notEqual(eventKeyForStoredShape(callback({ token: 'tok-3f9a7c1e!', n: 1 }), paths, sha256), key);
    assert.notEqual(eventKeyForStoredShape(callback({ token: '{{secret:CALLBACK_TOKEN}}', n: 1 }), paths, sha256), key);
    assert.equal(eventKeyForStoredShape(callback({ n: 1 }), paths, sha256), undefined, 'a path the event lacks');
    assert.equal(eventKeyForStoredShape(callback({ token: 'tok-3f9a7c1e', n: 1 }), paths), undefined, 'nothing to hash with: no match');
  });

  test("an event's key for a plain shape is as it was", () => {
    const { paths, key } = waitIndexEntry({ 'data.token': 'open', '': 'x' });
    const event = callback({ token: 'open', '': 'x' });
    assert.equal(eventKeyForStoredShape(event, paths), eventKeyForShape(event, paths));
    assert.equal(eventKeyForStoredShape(event, paths), key);
  });
});
