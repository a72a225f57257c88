import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { StoreError } from '../../core/errors.js';
import { commit, startRun } from '../conformance/fixtures.js';
import { loadMigrations } from './migrate.js';
import { backupSqlite } from './backup.js';
import { createSqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-backup-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('copies the database as it stands while a store goes on writing to it, and the copy opens as a store', async () => {
  const live = createSqliteStore({ path: join(dir, 'live.db') });
  await live.migrate();
  await startRun(live, 'before');
  // Committed, so in the write-ahead log: the database file alone does not hold it yet.
  await live.commitTask(commit('before', 2, 2000, { status: { status: 'completed', result: 'done' } }));

  const backup = backupSqlite(join(dir, 'live.db'), join(dir, 'copy.db'));
  await startRun(live, 'after');
  await live.close();

  assert.equal(backup.runs, 1);
  assert.equal(statSync(join(dir, 'copy.db')).mode & 0o777, 0o600, 'readable by its owner only, as the database it copies');
  assert.equal(backup.schemaVersion, loadMigrations().length);
  assert.ok(backup.bytes > 0);
  const restored = createSqliteStore({ path: join(dir, 'copy.db') });
  await restored.migrate();
  try {
    assert.equal((await restored.getRun('before'))?.result, 'done');
    assert.equal((await restored.loadHistory('before')).length, 3);
    assert.equal(await restored.getRun('after'), undefined);
  } finally {
    await restored.close();
  }
});

test('never overwrites a file, and says what is wrong with a source it cannot use', () => {
  writeFileSync(join(dir, 'taken.db'), 'precious');
  assert.throws(
    () => backupSqlite(join(dir, 'live.db'), join(dir, 'taken.db')),
    (error: unknown) => {
      assert.ok(error instanceof StoreError);
      assert.match(error.message, /taken\.db exists already: give the backup a new file name/);
      return true;
    },
  );
  const other = new Database(join(dir, 'other.db'));
  other.exec('CREATE TABLE notes (text TEXT)');
  other.close();
  assert.throws(() => backupSqlite(join(dir, 'other.db'), join(dir, 'from-other.db')), /other\.db is not an AutoFlow database/);
  assert.equal(existsSync(join(dir, 'from-other.db')), false);
  assert.throws(
    () => backupSqlite(join(dir, 'missing.db'), join(dir, 'from-missing.db')),
    (error: unknown) => {
      assert.ok(error instanceof StoreError);
      assert.match(error.message, /cannot open the SQLite database \S+missing\.db: check that the path is right/);
      return true;
    },
  );
});

test('a source or target whose folder does not exist is named, with what to do', () => {
  assert.throws(
    () => backupSqlite(join(dir, 'data', 'autoflow.db'), join(dir, 'from-nowhere.db')),
    (error: unknown) => {
      assert.ok(error instanceof StoreError, String(error));
      assert.equal(
        error.message,
        `cannot open the SQLite database ${join(dir, 'data', 'autoflow.db')}: its directory ${join(dir, 'data')} does not exist. ` +
          "Check the path, or name the right database with --db sqlite:PATH (for autoflow backup: the server's database)",
      );
      return true;
    },
  );
  assert.throws(
    () => backupSqlite(join(dir, 'live.db'), join(dir, 'nowhere', 'copy.db')),
    (error: unknown) => {
      assert.ok(error instanceof StoreError, String(error));
      assert.match(
        error.message,
        /^the folder \S+nowhere for the backup \S+copy\.db does not exist: create it, or write the backup elsewhere$/,
      );
      return true;
    },
  );
});

/** A database of ~2.4 MB whose copy cannot fit in 1 MB. */
async function bigDatabase(): Promise<string> {
  const source = join(dir, 'big.db');
  if (existsSync(source)) return source;
  const store = createSqliteStore({ path: source });
  await store.migrate();
  await store.close();
  const db = new Database(source);
  db.exec(`CREATE TABLE filler (bytes BLOB);
    WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600) INSERT INTO filler SELECT randomblob(4096) FROM n`);
  db.close();
  return source;
}

/** Runs `backupSqlite(source, target)` in a child process under `shell` (a prefix of its command line); its error's message. */
function backupInChild(shell: string, source: string, target: string): string {
  const script = `import { backupSqlite } from ${JSON.stringify(fileURLToPath(new URL('./backup.ts', import.meta.url)))};
try { backupSqlite(${JSON.stringify(source)}, ${JSON.stringify(target)}); console.log('no error'); }
catch (error) { console.log(error.message); }`;
  const child = spawnSync('bash', ['-c', `${shell} exec "$0" --import tsx --input-type=module -e "$1"`, process.execPath, script], {
    encoding: 'utf8',
  });
  assert.equal(child.status, 0, child.stderr);
  return child.stdout;
}

test('a backup whose file cannot grow names the backup, not the database it copies', async () => {
  const source = await bigDatabase();
  const target = join(dir, 'limited.db');
  // The write fails as on a full disk, in a process whose files may not grow past 1 MB (`ulimit -f`, in KiB;
  // Node ignores SIGXFSZ, so write() fails with EFBIG instead of killing it).
  const message = backupInChild('ulimit -f 1024 &&', source, target);
  assert.match(
    message,
    new RegExp(`^the backup ${target} could not be written \\(SQLITE_IOERR_WRITE.*write it elsewhere; the database it copies is untouched`),
  );
  assert.doesNotMatch(message, /big\.db/, 'the database it copies is not blamed');
  assert.equal(existsSync(target), false, 'no partial backup is left');
});

/** A 1 MB tmpfs, where the system allows this process to mount one (root): a disk that really fills up. */
function tinyDisk(): string | undefined {
  const mountPoint = join(dir, 'tiny-disk');
  const mounted = spawnSync('bash', ['-c', `mkdir -p "$0" && mount -t tmpfs -o size=1m tmpfs "$0"`, mountPoint], { encoding: 'utf8' });
  return mounted.status === 0 ? mountPoint : undefined;
}

test('a backup to a full disk says the disk of the backup is full', async (t) => {
  const disk = process.getuid?.() === 0 ? tinyDisk() : undefined;
  if (disk === undefined) return t.skip('mounting a small tmpfs needs root');
  try {
    const target = join(disk, 'copy.db');
    const message = backupInChild('', await bigDatabase(), target);
    assert.match(
      message,
      new RegExp(`^the backup ${target}: the disk is full \\(or the file reached its size limit\\)\\. Free space there`),
    );
    assert.equal(existsSync(target), false, 'no partial backup is left');
  } finally {
    spawnSync('umount', [disk]);
  }
});
