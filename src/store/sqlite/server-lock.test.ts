import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { StoreError } from '../../core/errors.js';
import { lockDatabaseForServer } from './server-lock.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-server-lock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a server given a symbolic link to a database another server holds is refused, as one given its path is', () => {
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'real.db'), '');
  symlinkSync(join(dir, 'data', 'real.db'), join(dir, 'link.db'));
  symlinkSync(join(dir, 'data'), join(dir, 'data-link'));
  const held = lockDatabaseForServer(join(dir, 'data', 'real.db'));
  try {
    for (const other of [join(dir, 'link.db'), join(dir, 'data-link', 'real.db'), join(dir, 'data', 'real.db')]) {
      assert.throws(
        () => lockDatabaseForServer(other).release(),
        (error: Error) => error instanceof StoreError && /^another AutoFlow server is running on the SQLite database /.test(error.message),
        other,
      );
    }
  } finally {
    held.release();
  }
  lockDatabaseForServer(join(dir, 'link.db')).release();
});
