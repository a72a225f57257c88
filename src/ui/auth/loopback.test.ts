import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoopback } from './loopback.js';

test('loopback: localhost, 127/8 and ::1 in every spelling; nothing else, nothing unknown', () => {
  for (const local of ['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1'])
    assert.equal(isLoopback(local), true, local);
  for (const remote of ['192.0.2.7', '0.0.0.0', '::', '::ffff:192.0.2.7', 'example.com', '128.0.0.1', undefined, ''])
    assert.equal(isLoopback(remote), false, String(remote));
});
