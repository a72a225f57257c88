import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { UiSettings } from '../env.js';
import { loadSessionSecret, SESSION_SECRET_FILE } from './secret.js';
import { cookieOptions, safeNext } from './session.js';

test('after sign-in only a local path is followed', () => {
  assert.equal(safeNext('/tasks/tk_1?x=1'), '/tasks/tk_1?x=1');
  for (const evil of ['//evil.example/', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '', undefined]) assert.equal(safeNext(evil), '/');
});

test('cookies are HttpOnly and SameSite=Lax, and Secure when the public URL is https', () => {
  const settings = (publicUrl?: string) => ({ ...(publicUrl ? { publicUrl } : {}) }) as UiSettings;
  assert.deepEqual(cookieOptions(settings('https://autoflow.example.com'), 60), { path: '/', httpOnly: true, sameSite: 'Lax', secure: true, maxAge: 60 });
  assert.equal(cookieOptions(settings('http://localhost:8080'), 60).secure, false);
});

test('the session key: the configured one, else generated once into the data folder (0600) and reused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autoflow-secret-'));
  try {
    assert.deepEqual(loadSessionSecret({ configured: 'x'.repeat(32), dataDir: dir }), { secret: 'x'.repeat(32), source: 'configured' });
    const first = loadSessionSecret({ dataDir: join(dir, 'data') });
    assert.equal(first.source, 'file');
    assert.ok(first.secret.length >= 32);
    assert.equal(statSync(join(dir, 'data', SESSION_SECRET_FILE)).mode & 0o777, 0o600);
    assert.equal(loadSessionSecret({ dataDir: join(dir, 'data') }).secret, first.secret, 'a restart keeps sessions valid');
    const ephemeral = loadSessionSecret({});
    assert.equal(ephemeral.source, 'ephemeral');
    assert.notEqual(ephemeral.secret, loadSessionSecret({}).secret);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
