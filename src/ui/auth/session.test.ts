import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../core/errors.js';
import type { UiSettings } from '../env.js';
import { loadSessionSecret, SESSION_SECRET_FILE } from './secret.js';
import { cookieOptions, safeNext } from './session.js';

test('after sign-in only a local path is followed', () => {
  assert.equal(safeNext('/tasks/tk_1?x=1'), '/tasks/tk_1?x=1');
  for (const evil of ['//evil.example/', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)', '', undefined]) assert.equal(safeNext(evil), '/');
});

test('after sign-in: no way out through characters browsers drop or read as a slash', () => {
  for (const local of [
    '/',
    '/runs',
    '/runs?status=failed&workflow=deploy',
    '/tasks/tk_1?x=1#form',
    '/runs?q=a%2F%2Fb',
    '/%09/not-a-host',
    '/a//b',
    '/runs/r%20x',
  ]) {
    assert.equal(safeNext(local), local, local);
  }
  const evil = [
    '/\t/evil.example/phish', // what `/auth/login?next=/%09/evil.example/phish` arrives as: Chromium goes to evil.example
    '/\n/evil.example',
    '/\r\n/evil.example',
    '/\u0000/evil.example',
    '/\u007f/evil.example',
    '\t//evil.example',
    '/\t\\evil.example',
    '/\\/evil.example',
    '\\\\evil.example',
    '//evil.example',
    '///evil.example',
    'https://evil.example/phish',
    'HTTPS://evil.example',
    'http:evil.example',
    '//user@evil.example',
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    ' javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'evil.example',
  ];
  for (const next of evil) assert.equal(safeNext(next), '/', JSON.stringify(next));
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

test('a stored session key shorter than 32 characters, or empty, stops the start, naming the file and how to make one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autoflow-secret-'));
  try {
    const data = join(dir, 'data');
    mkdirSync(data);
    const file = join(data, SESSION_SECRET_FILE);
    for (const [content, said] of [
      ['short-secret\n', '12 characters long'],
      ['', 'empty'],
      ['   \n', 'empty'],
      [`${'x'.repeat(31)}\n`, '31 characters long'],
    ] as const) {
      writeFileSync(file, content, { mode: 0o600 });
      assert.throws(
        () => loadSessionSecret({ dataDir: data }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message.startsWith(`the web UI session secret in ${file} is ${said}; it needs at least 32.`) &&
          error.message.includes('Delete the file to have a new one generated') &&
          error.message.includes(`randomBytes(32).toString('base64url'))" > ${file}`),
      );
    }
    writeFileSync(file, `${'x'.repeat(32)}\n`);
    assert.deepEqual(loadSessionSecret({ dataDir: data }), { secret: 'x'.repeat(32), source: 'file' });
    rmSync(file);
    const made = loadSessionSecret({ dataDir: data });
    assert.ok(made.secret.length >= 32);
    assert.deepEqual(readdirSync(data), [SESSION_SECRET_FILE], 'no draft left beside it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
