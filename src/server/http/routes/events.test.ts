import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StoredEvent } from '../../../core/model.js';
import { createFakeOperations, createMemoryLogger } from '../../testing/fake-operations.js';
import { call } from '../../testing/request.js';
import { createApp } from '../app.js';

type Accepted = { seq: number; duplicate: boolean };

function setup() {
  return createApp({ operations: createFakeOperations(), logger: createMemoryLogger() });
}

const event = {
  specversion: '1.0',
  id: 'e-1',
  source: 'gitlab',
  type: 'com.gitlab.events.issue_updated',
  subject: 'acme/app#1',
  data: { iid: 1 },
};

describe('POST /api/v1/events', () => {
  test('stores a CloudEvent: 202 { seq, duplicate }, then duplicate on redelivery', async () => {
    const app = setup();
    const first = await call<Accepted>(app, 'POST', '/api/v1/events', {
      body: event,
      headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
    });
    assert.equal(first.status, 202);
    assert.deepEqual(first.body, { seq: 1, duplicate: false });
    const again = await call<Accepted>(app, 'POST', '/api/v1/events', { body: event });
    assert.deepEqual(again.body, { seq: 1, duplicate: true });
  });

  test('extension attributes are dropped, the core attributes kept', async () => {
    const app = setup();
    await call(app, 'POST', '/api/v1/events', { body: { ...event, traceparent: '00-abc', time: '2026-01-02T03:04:05Z' } });
    const [stored] = (await call<{ events: Array<StoredEvent & { traceparent?: string }> }>(app, 'GET', '/api/v1/events')).body.events;
    assert.ok(stored);
    assert.equal(stored.traceparent, undefined);
    assert.equal(stored.time, '2026-01-02T03:04:05Z');
    assert.deepEqual(stored.data, { iid: 1 });
  });

  test('an invalid CloudEvent is a 400 listing every issue', async () => {
    const app = setup();
    const response = await call(app, 'POST', '/api/v1/events', {
      body: { specversion: '0.3', id: '', source: 'x', time: 'yesterday', data_base64: 'AAA=' },
    });
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'invalid');
    assert.deepEqual(response.body.error.issues?.sort(), [
      'data_base64: absent: binary data is not supported, send JSON in `data`',
      'id: a non-empty string',
      "specversion: '1.0' (CloudEvents 1.0)",
      'time: an RFC 3339 timestamp',
      'type: a non-empty string',
    ]);
  });

  test('a type with a space or a `*` is refused: triggers match types by glob', async () => {
    for (const type of ['has space', 'com.example.*', 'tab\there']) {
      const response = await call(setup(), 'POST', '/api/v1/events', { body: { ...event, type } });
      assert.equal(response.status, 400, type);
      assert.deepEqual(response.body.error.issues, ['type: a type without spaces or `*`, reverse-DNS like com.example.deployed']);
    }
    assert.equal((await call(setup(), 'POST', '/api/v1/events', { body: { ...event, type: 'com.example.déployé' } })).status, 202);
  });

  test('a body that is not an object says what a CloudEvent is', async () => {
    const response = await call(setup(), 'POST', '/api/v1/events', { body: [event] });
    assert.deepEqual(response.body.error.issues, ['(root): a CloudEvent: a JSON object with specversion, id, source and type']);
  });

  test('only structured JSON mode is accepted', async () => {
    const response = await call(setup(), 'POST', '/api/v1/events', { body: event, headers: { 'content-type': 'text/plain' } });
    assert.equal(response.status, 415);
    assert.equal(response.body.error.code, 'unsupported_media_type');
    assert.match(response.body.error.message, /application\/cloudevents\+json or application\/json \(got text\/plain\)/);
  });

  test('malformed JSON is a 400 invalid_json', async () => {
    const response = await call(setup(), 'POST', '/api/v1/events', { body: '{"specversion":' });
    assert.equal(response.status, 400);
    assert.equal(response.body.error.code, 'invalid_json');
  });
});

describe('GET /api/v1/events', () => {
  test('newest first, by type, paging backwards with before', async () => {
    const app = setup();
    for (let n = 1; n <= 5; n++) {
      await call(app, 'POST', '/api/v1/events', { body: { ...event, id: `e-${n}`, type: n % 2 ? 'odd' : 'even' } });
    }
    const odd = await call<{ events: StoredEvent[] }>(app, 'GET', '/api/v1/events?type=odd&limit=2');
    assert.deepEqual(
      odd.body.events.map((stored) => stored.seq),
      [5, 3],
    );
    const older = await call<{ events: StoredEvent[] }>(app, 'GET', '/api/v1/events?type=odd&before=3');
    assert.deepEqual(
      older.body.events.map((stored) => stored.seq),
      [1],
    );
  });

  test('invalid paging parameters are a 400', async () => {
    const response = await call(setup(), 'GET', '/api/v1/events?limit=1000&before=-2');
    assert.equal(response.status, 400);
    assert.deepEqual(response.body.error.issues?.sort(), [
      'before: an integer from 0 to 9007199254740991',
      'limit: an integer from 1 to 500',
    ]);
  });
});
