import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import type { Logger } from '../core/ports.js';
import { applyMigrations, loadMigrations } from '../store/sqlite/migrate.js';
import { createRuntime, embeddedRuntimeConfig } from './runtime.js';

mkdirSync('/tmp/fix-sre', { recursive: true });
const folder = mkdtempSync('/tmp/fix-sre/node-logs-');
after(() => rmSync(folder, { recursive: true, force: true }));
writeFileSync(
  join(folder, 'greet.ts'),
  `import { workflow } from 'autoflow';
export default workflow({ name: 'greet', async run(input: { name: string }) { return 'hello ' + input.name; } });
`,
);

function jsonLogger(): { logger: Logger; lines: Array<Record<string, unknown>>; raw: string[] } {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines, raw };
}

test('every line names the node; a run that ends and a stop (what it waits for, the leases handed back) are logged', async () => {
  const { logger, lines, raw } = jsonLogger();
  const runtime = await createRuntime(embeddedRuntimeConfig({ db: { kind: 'memory' }, workflowsDir: folder }), { logger });
  await runtime.start();
  const { run } = await runtime.operations.startRun({ workflow: 'greet', id: 'greet-1', input: { name: 'ops' } });
  assert.equal((await runtime.operations.waitForRun(run.id, 10_000)).status, 'completed');
  await runtime.stop();

  assert.ok(lines.length > 0);
  const unnamed = lines.filter((line) => line.node !== runtime.nodeId);
  assert.deepEqual(unnamed, [], 'every line carries the node id');
  const ended = lines.find((line) => line.runId === 'greet-1' && line.status === 'completed');
  assert.match(String(ended?.msg), /^run greet-1 completed on node local$/);
  const waiting = lines.find((line) => /^stopping: waiting for 0 run\(s\) being advanced and 0 call\(s\) in flight/.test(String(line.msg)));
  assert.equal(waiting?.level, 30, 'info');
  assert.equal(waiting?.graceMs, 10_000);
  const handedBack = lines.find((line) => /^stopping: handed back the leases of \d+ run\(s\)/.test(String(line.msg)));
  assert.equal(handedBack?.level, 30);
  // One key per field: the node is in the bindings, never repeated by a line.
  assert.deepEqual(
    raw.filter((line) => line.split('"node":').length !== 2),
    [],
  );
});

test("a start that creates or upgrades the database's schema says so, with the versions; one with nothing to do says nothing", async () => {
  const migrations = loadMigrations();
  const latest = migrations.at(-1)!.version;
  const startOn = async (path: string): Promise<string[]> => {
    const { logger, lines } = jsonLogger();
    const runtime = await createRuntime(embeddedRuntimeConfig({ db: { kind: 'sqlite', path }, workflowsDir: folder }), { logger });
    await runtime.stop();
    return lines.map((line) => String(line.msg)).filter((message) => message.includes('schema'));
  };
  const fresh = join(folder, 'fresh.db');
  assert.deepEqual(await startOn(fresh), [`created the database's schema (version ${latest})`]);
  assert.deepEqual(await startOn(fresh), []);

  const older = join(folder, 'older.db');
  const db = new Database(older);
  applyMigrations(db, migrations.slice(0, -1), older);
  db.close();
  assert.deepEqual(await startOn(older), [`migrated the database's schema from version ${latest - 1} to ${latest}`]);
});
