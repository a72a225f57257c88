import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CapabilityError } from '../../core/errors.js';
import { type Flood, floodServer } from '../flood.test.js';
import { createGitLabClient, DEFAULT_MAX_RESPONSE_BYTES } from './client.js';

/** GitLab's answers are read up to a limit, over real loopback HTTP: a larger one fails the call and is never held whole. */
describe('GitLab client: the response size limit', () => {
  const LIMIT = 64 * 1024;
  let flood: Flood;
  before(async () => {
    flood = await floodServer();
  });
  after(() => flood.close());
  const client = () => createGitLabClient({ baseUrl: flood.url, token: 't', maxResponseBytes: LIMIT });

  test('the default limit is 16 MiB', () => {
    assert.equal(DEFAULT_MAX_RESPONSE_BYTES, 16 * 1024 * 1024);
  });

  for (const declared of [false, true]) {
    test(`a ${declared ? 'declared (Content-Length)' : 'chunked'} answer over the limit fails the call, not retried, and the request is aborted`, async () => {
      const gitlab = client();
      const url = new URL(`${flood.url}/api/v4/projects/1/jobs/1/${declared ? 'declared' : 'chunked'}`);
      const error = await gitlab.send('GET', url, undefined, 0, { text: true }).catch((e: unknown) => e);
      assert.ok(error instanceof CapabilityError && error.code === 'gitlab_response_too_large' && !error.retryable, String(error));
      const request = `GET /projects/1/jobs/1/${declared ? 'declared' : 'chunked'}`;
      assert.equal(
        error.message,
        `GitLab's answer to ${request} is larger than ${LIMIT} bytes${declared ? ` (its Content-Length is ${flood.total})` : ''}, the gitlab capability's limit (maxResponseBytes); it was not read: ask for less (a smaller perPage, a narrower query)`,
      );
      assert.deepEqual(error.details, { status: 200, request, maxBytes: LIMIT });
      const served = await flood.last();
      assert.equal(served.aborted, true, 'the server saw the connection go before it finished');
      assert.ok(served.written < flood.total / 4, `the server wrote ${served.written} of ${flood.total} bytes`);
    });
  }

  test('an answer at the limit is read whole', async () => {
    const { body } = await client().send('GET', new URL(`${flood.url}/api/v4/projects/1/jobs/1/exact?bytes=${LIMIT}`), undefined, 0, {
      text: true,
    });
    assert.equal(typeof body, 'string');
    assert.equal(Buffer.byteLength(body as string), LIMIT);
  });
});
