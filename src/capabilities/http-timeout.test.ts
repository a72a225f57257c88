import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { CapabilityError, toErrorInfo } from '../core/errors.js';
import type { CapabilityContext } from '../core/ports.js';
import { createHttpCapability } from './http.js';
import { capabilityContext } from '../../test/helpers/capability-context.js';

// A server that answers its headers at once and never finishes the body, and one that never answers at all.
const server = createServer((request, response) => {
  if (request.url === '/headers-only') {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.write('partial');
  }
});
let base: string;
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const context = (): CapabilityContext => capabilityContext({ permissions: { http: [base] }, now: Date.UTC(2026, 0, 1) });

// The headers must come within the timeout for the second case: on a machine busy with the rest of the suite, 100 ms
// was not always enough for them.
for (const [path, timeoutMs, what] of [
  ['/silent', 100, 'no answer within 100 ms'],
  ['/headers-only', 1500, 'the answer did not arrive in full within 1500 ms'],
] as const) {
  test(`a request that times out (${path}) fails with the code 'timeout', retryable, with its timeoutMs`, async () => {
    const http = createHttpCapability();
    const error = await http.invoke('request', { url: `${base}${path}`, timeoutMs }, context()).catch((e: unknown) => e);
    assert.ok(error instanceof CapabilityError && error.retryable, String(error));
    assert.equal(error.message, `request to ${base}${path} failed: ${what}`);
    assert.deepEqual(toErrorInfo(error).details, { timeoutMs, code: 'timeout' });
  });
}

test('a request whose call is given up ends at once: the server sees its connection close', async () => {
  const givenUp = new AbortController();
  const closed = new Promise<void>((resolve) =>
    server.once('request', (request: { socket: { once: (event: string, listener: () => void) => void } }) => {
      request.socket.once('close', resolve);
      givenUp.abort(new Error('its run ended (cancelled)'));
    }),
  );
  const http = createHttpCapability();
  const error = await http
    .invoke('request', { url: `${base}/silent`, timeoutMs: 600_000 }, { ...context(), signal: givenUp.signal })
    .catch((e: unknown) => e);
  await closed;
  assert.ok(error instanceof CapabilityError, String(error));
  assert.match(error.message, /its run ended \(cancelled\)/);
});
