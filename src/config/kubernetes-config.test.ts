import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema } from './schema.js';

test('kubernetes: a kubeconfig, or a server with a token; unknown keys and bad URLs are refused with the known keys', () => {
  assert.deepEqual(configSchema.parse({ kubernetes: { kubeconfig: '/etc/kubeconfig', context: 'prod' } }).kubernetes, {
    kubeconfig: '/etc/kubeconfig',
    context: 'prod',
  });
  assert.deepEqual(configSchema.parse({ kubernetes: { server: 'https://10.0.0.1:6443', token: 't' } }).kubernetes, {
    server: 'https://10.0.0.1:6443',
    token: 't',
  });
  assert.equal(configSchema.parse({}).kubernetes, undefined);
  const typo = configSchema.safeParse({ kubernetes: { kubeConfig: '/x' } });
  assert.ok(!typo.success && /unknown key "kubeConfig"; known keys: kubeconfig, context, server/.test(typo.error.issues[0]?.message ?? ''));
  assert.ok(!configSchema.safeParse({ kubernetes: { server: 'ftp://x' } }).success);
});
