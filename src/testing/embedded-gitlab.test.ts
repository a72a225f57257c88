import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { CapabilityContext, Clock } from '../core/ports.js';
import { BOT_USERNAME, createEmbeddedGitLab, SIMULATOR_STATE_FILE, simulatorStateFile, type EmbeddedGitLab } from './embedded-gitlab.js';
import { createGitLabSimulator, demoSeed } from './gitlab-sim/index.js';
import { createTestEnv } from './test-env.js';

const root = mkdtempSync(join(tmpdir(), 'autoflow-embedded-gitlab-'));
after(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;
const stateFileIn = (): string => join(root, `server-${++folders}`, SIMULATOR_STATE_FILE);

const context: CapabilityContext = {
  runId: 'run-1',
  step: 1,
  attempt: 1,
  idempotencyKey: 'run-1:1',
  workflow: 'restart-test',
  permissions: { gitlab: { projects: ['*'] } },
  now: Date.now(),
  signal: new AbortController().signal,
};

const sprint1 = (gitlab: EmbeddedGitLab) => [...gitlab.simulator.state.milestones.values()].find((m) => m.title === 'Sprint 1');
const issuesOf = (gitlab: EmbeddedGitLab) => gitlab.simulator.state.issuesOf(gitlab.simulator.state.requireProject('demo/app'));

describe('the built-in simulator of `autoflow server`', () => {
  test('keeps what changed across a restart on the same folder, and new objects take the next ids', async () => {
    const file = stateFileIn();
    const first = createEmbeddedGitLab({ stateFile: file });
    const seeded = issuesOf(first).length;
    // Changed as a person would (an action) and as a workflow would (REST through the capability).
    first.simulator.actions.closeMilestone('alice', { project: 'demo/app' }, 'Sprint 1');
    first.simulator.actions.setMilestone('alice', 'demo/app', 1, null);
    const response = await first.simulator.fetch('/api/v4/projects/demo%2Fapp/issues', {
      method: 'POST',
      headers: { 'private-token': 'bob-token', 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Filed before the restart' }),
    });
    assert.equal(response.status, 201);
    const idsBefore = new Set([...first.simulator.state.issues.keys()]);
    const botTokensBefore = [...first.simulator.state.tokens.values()].filter(
      (t) => t.userId === first.simulator.state.requireUser(BOT_USERNAME).id,
    );
    await first.close();
    assert.ok(existsSync(file));

    const second = createEmbeddedGitLab({ stateFile: file });
    try {
      assert.equal(second.restored, true);
      assert.equal(sprint1(second)?.state, 'closed');
      assert.equal(second.simulator.state.requireIssue(second.simulator.state.requireProject('demo/app'), 1).milestoneId, null);
      assert.equal(issuesOf(second).find((issue) => issue.iid === seeded + 1)?.title, 'Filed before the restart');

      const next = second.simulator.actions.createIssue('carol', 'demo/app', { title: 'Filed after the restart' });
      assert.equal(next.iid, seeded + 2);
      assert.ok(!idsBefore.has(next.id), `issue id ${next.id} was given before the restart`);
      // The bot keeps its one token (no new one per start), and the capability acting as it still works.
      const botId = second.simulator.state.requireUser(BOT_USERNAME).id;
      assert.deepEqual(
        [...second.simulator.state.tokens.values()].filter((t) => t.userId === botId),
        botTokensBefore,
      );
      const read = (await second.capability.invoke('issues.get', { project: 'demo/app', iid: seeded + 2 }, context)) as { title: string };
      assert.equal(read.title, 'Filed after the restart');
    } finally {
      await second.close();
    }
    const third = createEmbeddedGitLab({ stateFile: file });
    await third.close();
    assert.equal(issuesOf(third).at(-1)?.title, 'Filed after the restart');
  });

  test('saves a change shortly after it is made, without waiting for the shutdown', async () => {
    const file = stateFileIn();
    const gitlab = createEmbeddedGitLab({ stateFile: file, saveDelayMs: 10 });
    try {
      gitlab.simulator.actions.closeMilestone('alice', { project: 'demo/app' }, 'Sprint 1');
      const deadline = Date.now() + 5_000;
      while (!(existsSync(file) && readFileSync(file, 'utf8').includes('"closed"')) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // As a crash would leave it: read by a new simulator while the first one still runs.
      const reader = createEmbeddedGitLab({ stateFile: file });
      assert.equal(sprint1(reader)?.state, 'closed');
      // The write is atomic: no temporary file stays beside it.
      assert.deepEqual(
        (await import('node:fs')).readdirSync(join(file, '..')).filter((name) => name !== SIMULATOR_STATE_FILE),
        [],
      );
    } finally {
      await gitlab.close();
    }
  });

  test('a change is on disk saveDelayMs after the first unsaved one, even when the save timer never gets to fire', async () => {
    // A busy server: the engine reaches the simulator in process, its calls chained in promise callbacks, so time
    // passes while the saver's timer waits for a turn of the event loop that does not come. Here it never does.
    let now = Date.UTC(2026, 0, 5, 9);
    const clock: Clock = { now: () => now, schedule: () => () => {} };
    const file = stateFileIn();
    const gitlab = createEmbeddedGitLab({ stateFile: file, clock, saveDelayMs: 200 });
    const label = async (iid: number, name: string): Promise<void> => {
      const response = await gitlab.simulator.fetch(`/api/v4/projects/demo%2Fapp/issues/${iid}`, {
        method: 'PUT',
        headers: { 'private-token': 'alice-token', 'content-type': 'application/json' },
        body: JSON.stringify({ add_labels: name }),
      });
      assert.equal(response.status, 200);
    };
    /** The labels of `demo/app#iid` as a crash now would leave them: what a new simulator reads from the file. */
    const onDisk = (iid: number): string[] | undefined => {
      if (!existsSync(file)) return undefined;
      const { state } = createGitLabSimulator({ snapshot: readFileSync(file, 'utf8') });
      const issue = state.requireIssue(state.requireProject('demo/app'), iid);
      return issue.labelIds.map((id) => state.labels.get(id)?.name ?? '?').sort();
    };
    try {
      // The seed (start) is the first unsaved change; 250 ms later the deadline has passed: this request is
      // answered once the state, its own change included, is on disk.
      now += 250;
      await label(1, 'devops::deploy');
      assert.deepEqual(onDisk(1), ['bug', 'devops::deploy', 'group::environments', 'workflow::backlog']);
      // Then a deadline from the first unsaved change, not a debounce: changes every 100 ms do not postpone it.
      now += 100;
      await label(2, 'bug');
      now += 100;
      await label(3, 'bug');
      assert.deepEqual(onDisk(2), ['devops::deploy', 'workflow::ready for dev'], 'within the delay, a change is not written yet');
      now += 100;
      await label(4, 'bug');
      assert.deepEqual(onDisk(2), ['bug', 'devops::deploy', 'workflow::ready for dev']);
      assert.deepEqual(onDisk(4), ['bug', 'workflow::complete'], '200 ms after the first unsaved change, every change so far is on disk');
      assert.deepEqual(
        readdirSync(dirname(file)).filter((name) => name !== SIMULATOR_STATE_FILE),
        [],
        'written atomically: no temporary file stays beside it',
      );
    } finally {
      await gitlab.close();
    }
  });

  test('a state file that cannot be read stops the start, naming the file and how to start afresh', async () => {
    for (const content of ['{"format":"autoflow-gitlab-simulator","version":1,"users":{"$map":[[1', '[]', '{"format":"something else"}']) {
      const file = stateFileIn();
      await createEmbeddedGitLab({ stateFile: file }).close();
      writeFileSync(file, content);
      assert.throws(
        () => createEmbeddedGitLab({ stateFile: file }),
        (error: Error) => {
          assert.equal(error.name, 'SimulatorStateError');
          assert.ok(error.message.includes(file), error.message);
          assert.match(error.message, /delete it to start again from the demo data/);
          return true;
        },
      );
      assert.equal(readFileSync(file, 'utf8'), content, 'the file is left as it was, not reseeded');
    }
  });

  test('lives beside a SQLite database, one per database, and in memory with memory: or PostgreSQL', () => {
    assert.equal(
      simulatorStateFile({ kind: 'sqlite', path: '/srv/autoflow/data/autoflow.db' }),
      `/srv/autoflow/data/${SIMULATOR_STATE_FILE}`,
    );
    // Two servers whose databases share a folder keep two GitLabs, not one each overwrites.
    assert.equal(
      simulatorStateFile({ kind: 'sqlite', path: '/srv/autoflow/data/staging.db' }),
      '/srv/autoflow/data/staging.gitlab-simulator.json',
    );
    assert.equal(simulatorStateFile({ kind: 'sqlite', path: 'data/trial' }), 'data/trial.gitlab-simulator.json');
    assert.equal(simulatorStateFile({ kind: 'sqlite', path: ':memory:' }), undefined);

    // The shared file of an earlier AutoFlow becomes the one database's own, unless autoflow.db is there to claim it.
    const upgraded = join(root, `server-${++folders}`);
    mkdirSync(upgraded, { recursive: true });
    writeFileSync(join(upgraded, SIMULATOR_STATE_FILE), '{"saved":true}');
    assert.equal(
      simulatorStateFile({ kind: 'sqlite', path: join(upgraded, 'staging.db') }),
      join(upgraded, 'staging.gitlab-simulator.json'),
    );
    assert.equal(readFileSync(join(upgraded, 'staging.gitlab-simulator.json'), 'utf8'), '{"saved":true}');
    assert.equal(existsSync(join(upgraded, SIMULATOR_STATE_FILE)), false);
    const beside = join(root, `server-${++folders}`);
    mkdirSync(beside, { recursive: true });
    writeFileSync(join(beside, SIMULATOR_STATE_FILE), '{"saved":true}');
    writeFileSync(join(beside, 'autoflow.db'), '');
    assert.equal(simulatorStateFile({ kind: 'sqlite', path: join(beside, 'staging.db') }), join(beside, 'staging.gitlab-simulator.json'));
    assert.equal(existsSync(join(beside, SIMULATOR_STATE_FILE)), true, "left to autoflow.db's server");
    assert.equal(simulatorStateFile({ kind: 'memory' }), undefined);
    assert.equal(simulatorStateFile({ kind: 'postgres', url: 'postgres://u:p@localhost/autoflow' }), undefined);
  });

  test('without a state file it starts from the demo data and writes nothing', async () => {
    const gitlab = createEmbeddedGitLab();
    gitlab.simulator.actions.closeMilestone('alice', { project: 'demo/app' }, 'Sprint 1');
    await gitlab.close();
    assert.equal(gitlab.stateFile, undefined);
    assert.equal(gitlab.restored, false);
    assert.equal(sprint1(createEmbeddedGitLab())?.state, 'active');
  });
});

test("the test harness's simulator stays in memory: every environment starts from its seed", async () => {
  for (const expected of ['active', 'active']) {
    const env = await createTestEnv({ workflows: [], gitlab: demoSeed() });
    try {
      const milestone = [...env.gitlab.sim.state.milestones.values()].find((m) => m.title === 'Sprint 1');
      assert.equal(milestone?.state, expected);
      await env.gitlab.actions.closeMilestone('alice', { project: 'demo/app' }, 'Sprint 1');
    } finally {
      await env.close();
    }
  }
});
