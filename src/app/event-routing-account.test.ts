import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { memoryLogger } from '../../test/helpers/memory-logger.js';
import { workflowFolder } from '../../test/helpers/workflow-files.js';
import { CapabilityError } from '../core/errors.js';
import type { CloudEvent } from '../core/model.js';
import type { Logger } from '../core/ports.js';
import { VirtualClock } from './clocks.js';
import { GitLabAccount, type AccountLookup } from './event-routing-account.js';
import { createRuntime, embeddedRuntimeConfig, type Runtime, type RuntimeConfig } from './runtime.js';

/** Its lines as `level message`, in order. */
const lines = (logger: ReturnType<typeof memoryLogger>): string[] => logger.entries.map((entry) => `${entry.level} ${entry.message}`);

/** A lookup that answers from `answers` in turn: a name, or an error to throw. */
function answering(...answers: Array<string | Error>): AccountLookup & { calls: number } {
  const lookUp = Object.assign(
    () => {
      const answer = answers[Math.min(lookUp.calls++, answers.length - 1)]!;
      return typeof answer === 'string' ? Promise.resolve(answer) : Promise.reject(answer);
    },
    { calls: 0 },
  );
  return lookUp;
}

/** Its warnings and infos: what an operator reads at the default level. */
const shown = (logger: ReturnType<typeof memoryLogger>): string[] => lines(logger).filter((line) => !line.startsWith('debug '));

const unavailable = () => new CapabilityError('gitlab_unavailable', 'GitLab answers 503', { retryable: true });
/** What the capability throws for a proxy's maintenance page: an answer from GitLab's address that no backoff fixes. */
const maintenancePage = () =>
  new CapabilityError('gitlab_error', 'GitLab answered 200 to GET /api/v4/user with text/html, not JSON', { retryable: false });

/** Moves the clock `ms` on and lets the lookup it starts settle. */
async function advance(clock: VirtualClock, ms: number): Promise<void> {
  clock.advance(ms);
  await delay(0);
}

describe('GitLabAccount', () => {
  test('GitLab unreachable at start: nothing counts as own until it answers, asked again 1 s, 2 s… later', async () => {
    const clock = new VirtualClock(0);
    const logger = memoryLogger();
    const lookUp = answering(unavailable(), unavailable(), 'autoflow-bot');
    const account = new GitLabAccount({ lookUp, clock, logger });
    await account.start();
    assert.equal(account.name(), undefined);
    assert.match(
      shown(logger)[0] ?? '',
      /^warn GitLab did not say which account AutoFlow acts as \(GitLab answers 503\); asking again in 1000 ms; until it does, triggers cannot tell .* set gitlabUsername \(AUTOFLOW_GITLAB_USERNAME\)/,
    );
    await advance(clock, 1000);
    assert.equal(lookUp.calls, 2);
    await advance(clock, 1999);
    assert.equal(lookUp.calls, 2);
    await advance(clock, 1);
    assert.equal(account.name(), 'autoflow-bot');
    assert.deepEqual(shown(logger).slice(1), [
      "info GitLab answered after 2 failed lookups: triggers start no run for the GitLab events that @autoflow-bot (AutoFlow's own account) causes, unless they have includeOwnEvents: true",
    ]);
  });

  test("a proxy's maintenance page between a 503 and recovery: asked again a minute later, not given up", async () => {
    const clock = new VirtualClock(0);
    const logger = memoryLogger();
    const lookUp = answering(unavailable(), maintenancePage(), 'autoflow-bot');
    const account = new GitLabAccount({ lookUp, clock, logger });
    await account.start();
    await advance(clock, 1000);
    assert.equal(lookUp.calls, 2);
    assert.match(
      shown(logger)[1] ?? '',
      /^warn GitLab did not say which account AutoFlow acts as \(GitLab answered 200 to GET \/api\/v4\/user with text\/html, not JSON\); asking again in 60000 ms; until it does, triggers cannot tell/,
    );
    await advance(clock, 59_999);
    assert.equal(lookUp.calls, 2);
    await advance(clock, 1);
    assert.equal(account.name(), 'autoflow-bot');
    assert.match(
      shown(logger)[2] ?? '',
      /^info GitLab answered after 2 failed lookups: triggers start no run for the GitLab events that @autoflow-bot/,
    );
  });

  test('a refused token is asked again every minute, warned of once, and once more when the failure changes', async () => {
    const clock = new VirtualClock(0);
    const logger = memoryLogger();
    const refused = () =>
      new CapabilityError('gitlab_error', 'GitLab answered 401 to GET /api/v4/user: 401 Unauthorized', { retryable: false });
    const lookUp = answering(refused(), refused(), refused(), unavailable(), unavailable(), 'autoflow-bot');
    const account = new GitLabAccount({ lookUp, clock, logger });
    await account.start();
    for (let minute = 1; minute <= 3; minute++) await advance(clock, 60_000);
    assert.equal(lookUp.calls, 4);
    assert.deepEqual(
      shown(logger).map((line) => /^(\w+ [^(]*\([^)]*\); asking again in \d+ ms)/.exec(line)?.[1] ?? line),
      [
        'warn GitLab did not say which account AutoFlow acts as (GitLab answered 401 to GET /api/v4/user: 401 Unauthorized); asking again in 60000 ms',
        'warn GitLab did not say which account AutoFlow acts as (GitLab answers 503); asking again in 8000 ms',
      ],
    );
    await advance(clock, 8000);
    await advance(clock, 16_000);
    assert.equal(account.name(), 'autoflow-bot');
    assert.match(shown(logger).at(-1) ?? '', /^info GitLab answered after 5 failed lookups: /);
    assert.equal(shown(logger).length, 3);
  });

  test('a configured gitlabUsername counts from the start; the token’s user, once known, wins, with a warning', async () => {
    const clock = new VirtualClock(0);
    const logger = memoryLogger();
    const lookUp = answering(unavailable(), 'autoflow-bot');
    const account = new GitLabAccount({ configured: 'old-bot', lookUp, clock, logger });
    await account.start();
    assert.equal(account.name(), 'old-bot');
    assert.match(lines(logger)[0] ?? '', /until it does, triggers skip the events of the configured gitlabUsername @old-bot$/);
    await advance(clock, 1000);
    assert.equal(account.name(), 'autoflow-bot');
    assert.match(lines(logger)[1] ?? '', /^warn gitlabUsername is @old-bot but AutoFlow's token belongs to @autoflow-bot/);
  });

  test("an error that is not the capability's (a test's mock that throws) is asked once; stop() ends the retries", async () => {
    const clock = new VirtualClock(0);
    const logger = memoryLogger();
    const mocked = answering(new Error('no mock answers users.current'));
    await new GitLabAccount({ lookUp: mocked, clock, logger }).start();
    assert.equal(clock.nextAt(), undefined);
    assert.match(
      lines(logger)[0] ?? '',
      /^warn GitLab did not say which account AutoFlow acts as \(no mock answers users.current\); triggers cannot tell/,
    );
    const down = answering(unavailable());
    const account = new GitLabAccount({ lookUp: down, clock, logger: memoryLogger() });
    await account.start();
    account.stop();
    await advance(clock, 60_000);
    assert.equal(down.calls, 1);
  });
});

/** A GitLab at a real address whose GET /api/v4/user answers 503 while `down`, a proxy's HTML page in `maintenance`. */
async function fakeGitLab(): Promise<{ url: string; state: 'down' | 'maintenance' | 'up'; server: Server }> {
  const gitlab = { url: '', state: 'down' as 'down' | 'maintenance' | 'up', server: createServer() };
  gitlab.server.on('request', (request, response) => {
    if (request.url !== '/api/v4/user') response.writeHead(404).end('{}');
    else if (gitlab.state === 'down') response.writeHead(503).end('{"message":"down"}');
    else if (gitlab.state === 'maintenance') response.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Back soon</h1>');
    else response.writeHead(200, { 'content-type': 'application/json' }).end('{"id":9,"username":"autoflow-bot"}');
  });
  await new Promise<void>((resolve) => gitlab.server.listen(0, '127.0.0.1', resolve));
  gitlab.url = `http://127.0.0.1:${(gitlab.server.address() as AddressInfo).port}`;
  return gitlab;
}

const folder = workflowFolder({
  'on-issues.ts': `import { workflow } from 'autoflow';
export default workflow({ name: 'on-issues', triggers: [{ event: 'com.gitlab.events.issue_updated' }], async run() {} });`,
});
after(() => folder.remove());

let ids = 0;
const issueUpdatedBy = (username: string): CloudEvent => ({
  specversion: '1.0',
  id: `delivery-${++ids}`,
  source: 'https://gitlab.example.com/demo/app',
  type: 'com.gitlab.events.issue_updated',
  data: { object_kind: 'issue', user: { username }, object_attributes: { iid: 1 } },
});

async function runsAfter(runtime: Runtime, event: CloudEvent): Promise<number> {
  // Routing starts as the event is stored; idle means it is routed and the run it started (if any) has ended.
  await runtime.operations.ingestEvent(event);
  await runtime.engine.whenIdle();
  return (await runtime.operations.listRuns({ workflow: 'on-issues' })).runs.length;
}

/** Waits for the lookup, which goes over real HTTP, to log a line holding `text`. */
async function logged(logger: ReturnType<typeof memoryLogger>, text: string): Promise<void> {
  for (let i = 0; i < 200 && !lines(logger).some((line) => line.includes(text)); i++) await delay(10);
}

/** A runtime with the workflow on issue_updated, for the GitLab at `gitlab.url`. */
function runtimeWith(gitlab: { url: string }, parts: Partial<RuntimeConfig>, clock: VirtualClock, logger: Logger): Promise<Runtime> {
  const config = embeddedRuntimeConfig({
    db: { kind: 'memory' },
    workflowsDir: folder.dir,
    workflowFiles: [folder.path('on-issues.ts')],
    gitlabUrl: gitlab.url,
    gitlabToken: 'glpat-test',
    gitlabWebhookSecret: 'a-long-webhook-secret',
    ...parts,
  });
  return createRuntime(config, { clock, logger, pollIntervalMs: null });
}

describe('the runtime and a real GitLab', () => {
  test('unreachable at start: the bot’s events start runs until GitLab answers; then they start none', async () => {
    const gitlab = await fakeGitLab();
    const clock = new VirtualClock(Date.now());
    const logger = memoryLogger();
    const runtime = await runtimeWith(gitlab, {}, clock, logger);
    try {
      await runtime.start();
      assert.equal(await runsAfter(runtime, issueUpdatedBy('autoflow-bot')), 1, 'not known yet: nothing is skipped');
      gitlab.state = 'up';
      clock.advance(1000);
      await logged(logger, 'events that @autoflow-bot');
      assert.equal(await runsAfter(runtime, issueUpdatedBy('autoflow-bot')), 1, 'known now: the bot’s event starts no run');
      assert.equal(await runsAfter(runtime, issueUpdatedBy('alice')), 2);
    } finally {
      await runtime.stop();
      gitlab.server.close();
    }
  });

  test("a 503, then a proxy's maintenance page, then GitLab: asked again a minute after the page, the bot's events skipped", async () => {
    const gitlab = await fakeGitLab();
    const clock = new VirtualClock(Date.now());
    const logger = memoryLogger();
    const runtime = await runtimeWith(gitlab, {}, clock, logger);
    try {
      await runtime.start();
      gitlab.state = 'maintenance';
      clock.advance(1000);
      await logged(logger, 'asking again in 60000 ms');
      assert.match(
        shown(logger).find((line) => line.includes('asking again in 60000 ms')) ?? '',
        /^warn GitLab did not say which account AutoFlow acts as \(.*text\/html.*\); asking again in 60000 ms; until it does, /,
      );
      gitlab.state = 'up';
      clock.advance(60_000);
      await logged(logger, 'events that @autoflow-bot');
      assert.match(
        shown(logger).at(-1) ?? '',
        /^info GitLab answered after 2 failed lookups: triggers start no run for the GitLab events that @autoflow-bot/,
      );
      assert.equal(await runsAfter(runtime, issueUpdatedBy('autoflow-bot')), 0);
    } finally {
      await runtime.stop();
      gitlab.server.close();
    }
  });

  test('with gitlabUsername configured, the bot’s events start no run while GitLab does not answer', async () => {
    const gitlab = await fakeGitLab();
    const runtime = await runtimeWith(gitlab, { gitlabUsername: 'AutoFlow-Bot' }, new VirtualClock(Date.now()), memoryLogger());
    try {
      await runtime.start();
      assert.equal(await runsAfter(runtime, issueUpdatedBy('autoflow-bot')), 0);
      assert.equal(await runsAfter(runtime, issueUpdatedBy('alice')), 1);
    } finally {
      await runtime.stop();
      gitlab.server.close();
    }
  });
});
