/**
 * Nodes on one PostgreSQL schema with different workflow files: the node that deploys last makes its version active
 * (an old node restarted in a rolling deploy rolls the others back), and that is never silent: the nodes whose own
 * files build another version warn, once per change, and `autoflow_workflow_version_drift` says so until it ends; the
 * node that lost a start-up race says its version is not the active one instead of "workflow deployed"; and the
 * workflows listing shows when (and by which node) the active version became active. Time is virtual: each node reads
 * the active versions when the test moves the shared clock by DEFINITION_SYNC_MS. Unreachable server: skipped
 * locally, a failure in CI.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { memoryLogger, type LogEntry } from '../../test/helpers/memory-logger.js';
import { testOnPostgres } from '../../test/helpers/postgres.js';
import { VirtualClock } from './clocks.js';
import { DEFINITION_SYNC_MS } from './definition-sync.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime } from './runtime.js';

const dir = mkdtempSync(join(tmpdir(), 'autoflow-drift-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const greeting = (word: string): string => `import { workflow } from 'autoflow';
export default workflow({ name: 'greet', async run() { return '${word}'; } });`;

/** A virtual clock that counts the callbacks armed for one sync interval from now: each node's next read of the versions. */
class SyncClock extends VirtualClock {
  rearmed = 0;
  override schedule(at: number, callback: () => void): () => void {
    if (at === this.now() + DEFINITION_SYNC_MS) this.rearmed += 1;
    return super.schedule(at, callback);
  }
}

/** Waits (for the database, not for time) until `done`, at most 15 s. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`waited 15 s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The value of `autoflow_workflow_version_drift{workflow="greet"}` on a node, or undefined without the series. */
async function drift(runtime: Runtime): Promise<number | undefined> {
  const line = (await runtime.metrics.render())
    .split('\n')
    .find((text) => text.startsWith('autoflow_workflow_version_drift{') && text.includes('workflow="greet"'));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

/** A node (not started) whose workflows folder `folder` has greet.ts saying `word`, on the database at `url`. */
async function nodeWith(url: string, clock: SyncClock, folder: string, word: string, lines: LogEntry[]): Promise<Runtime> {
  const workflowsDir = join(dir, folder);
  mkdirSync(workflowsDir, { recursive: true });
  writeFileSync(join(workflowsDir, 'greet.ts'), greeting(word));
  return createRuntime(embeddedRuntimeConfig({ db: { kind: 'postgres', url }, workflowsDir }), {
    logger: memoryLogger(lines),
    clock,
    pollIntervalMs: null,
  });
}

const warnings = (lines: readonly LogEntry[]): LogEntry[] =>
  lines.filter((line) => line.level === 'warn' && line.data.workflow === 'greet');
const deployedLines = (lines: readonly LogEntry[]): LogEntry[] => lines.filter((line) => line.message === 'workflow deployed');

await testOnPostgres(
  'an old node that restarts makes its version active: the others warn once, and the gauge shows it until the files agree',
  async (url) => {
    const clock = new SyncClock();
    const runtimes: Runtime[] = [];
    const node = async (name: string, word: string, lines: LogEntry[]): Promise<Runtime> => {
      const runtime = await nodeWith(url, clock, `restart-${name}`, word, lines);
      runtimes.push(runtime);
      await runtime.start();
      return runtime;
    };
    /** Moves the clock one sync interval and waits until every node read the versions and armed its next read. */
    const sync = async (): Promise<void> => {
      const before = clock.rearmed;
      clock.advance(DEFINITION_SYNC_MS);
      await until(() => clock.rearmed >= before + runtimes.length, 'the nodes to read the active versions');
    };
    try {
      const newLines: LogEntry[] = [];
      const newNode = await node('new', 'bonjour', newLines);
      const newVersion = newNode.engine.activeDefinition('greet')!.version;
      const firstStored = clock.now();
      await sync();

      // The old pod crash-loops back: its start deploys its old files, and the old version is active again everywhere.
      const oldLines: LogEntry[] = [];
      const oldNode = await node('old', 'hello', oldLines);
      const oldVersion = oldNode.engine.activeDefinition('greet')!.version;
      assert.notEqual(oldVersion, newVersion);
      assert.deepEqual(
        deployedLines(oldLines).map((line) => line.data.replaced),
        [newVersion.slice(0, 12)],
        'the old node says what it replaced',
      );
      const rolledBackAt = clock.now();
      assert.deepEqual(warnings(newLines), [], 'nothing warned before the new node read the change');
      await sync();

      assert.equal(newNode.engine.activeDefinition('greet')?.version, oldVersion, 'the new node follows the last deploy');
      const [warning, ...more] = warnings(newLines);
      assert.equal(more.length, 0);
      assert.deepEqual(warning?.data, {
        workflow: 'greet',
        activeVersion: oldVersion.slice(0, 12),
        activatedBy: oldNode.nodeId,
        activatedAt: new Date(rolledBackAt).toISOString(),
        ownVersion: newVersion.slice(0, 12),
        file: join(dir, 'restart-new', 'greet.ts'),
      });
      assert.equal(
        warning?.message,
        `workflow greet: node ${oldNode.nodeId} made version ${oldVersion.slice(0, 12)} active at ${new Date(rolledBackAt).toISOString()}, ` +
          `but this node's ${join(dir, 'restart-new', 'greet.ts')} builds version ${newVersion.slice(0, 12)}. The nodes run different workflow ` +
          'files: a rolling deploy is in progress, or a node with older files restarted and made its version active again. New runs of ' +
          `greet start on ${oldVersion.slice(0, 12)}, on every node. Give every node the same workflow files (the same image), then ` +
          'restart this node, or the odd one out, once they have them: the node that deploys last makes its version active',
      );
      assert.equal(await drift(newNode), 1);
      assert.equal(await drift(oldNode), 0, 'the node whose version is active does not drift');
      assert.deepEqual(warnings(oldLines), []);

      for (let i = 0; i < 3; i++) await sync();
      assert.equal(warnings(newLines).length, 1, 'once per change of the active version, not at every read');
      assert.equal(await drift(newNode), 1, 'the gauge stays up while the files differ');

      // The old node gets the new files: its deploy makes the new version active again, and the drift ends.
      writeFileSync(join(dir, 'restart-old', 'greet.ts'), greeting('bonjour'));
      const fixedAt = clock.now();
      await oldNode.redeploy();
      await sync();
      assert.equal(await drift(newNode), 0);
      assert.equal(await drift(oldNode), 0);
      assert.ok(
        newLines.some((line) => line.level === 'info' && /^workflow greet: the active version is again /.test(line.message)),
        'the end of the drift is said too',
      );
      assert.equal(warnings(newLines).length, 1);

      // The listing tells the rollbacks apart: first stored long ago, made active again just now, and by which node.
      const [listed] = await newNode.operations.listWorkflows();
      assert.deepEqual(
        { version: listed?.version, deployedAt: listed?.deployedAt, activatedAt: listed?.activatedAt, activatedBy: listed?.activatedBy },
        {
          version: newVersion,
          deployedAt: new Date(firstStored).toISOString(),
          activatedAt: new Date(fixedAt).toISOString(),
          activatedBy: oldNode.nodeId,
        },
      );
    } finally {
      for (const runtime of runtimes.reverse()) await runtime.stop();
    }
  },
);

await testOnPostgres(
  'a node whose start-up deploy another node overtook at once warns instead of saying "workflow deployed"',
  async (url) => {
    const clock = new SyncClock();
    const runtimes: Runtime[] = [];
    const node = async (name: string, word: string, lines: LogEntry[]): Promise<Runtime> => {
      const runtime = await nodeWith(url, clock, `race-${name}`, word, lines);
      runtimes.push(runtime);
      return runtime;
    };
    try {
      const aLines: LogEntry[] = [];
      const bLines: LogEntry[] = [];
      const a = await node('a', 'hello', aLines);
      const b = await node('b', 'bonjour', bLines);
      // The race, made certain: b's deploy commits after a's and before a reads what is active.
      const deploy = a.engine.deploy.bind(a.engine);
      a.engine.deploy = async (definition) => {
        await deploy(definition);
        await b.redeploy();
        await a.engine.syncDefinitions();
      };
      await a.start();
      await b.start();
      const winner = b.engine.activeDefinition('greet')!.version;
      assert.equal(a.engine.activeDefinition('greet')?.version, winner);

      assert.deepEqual(deployedLines(aLines), [], 'a does not claim a deploy that did not last');
      const [warning, ...more] = warnings(aLines);
      assert.equal(more.length, 0);
      assert.match(
        warning?.message ?? '',
        new RegExp(
          `^workflow greet: this node deployed version \\w{12} from \\S+greet\\.ts, but node ${b.nodeId} deployed version ` +
            `${winner.slice(0, 12)} right after at \\S+Z \\(nodes starting at the same moment with different files: the last deploy wins\\)\\. ` +
            `The nodes run different workflow files: .* New runs of greet start on ${winner.slice(0, 12)}, on every node\\. `,
        ),
      );
      assert.equal(await drift(a), 1);
      assert.equal(deployedLines(bLines).length, 1);
      assert.equal(await drift(b), 0);
    } finally {
      for (const runtime of runtimes.reverse()) await runtime.stop();
    }
  },
);
