import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, test } from 'node:test';
import { ConfigError } from '../core/errors.js';
import { loadConfig } from './index.js';

/** The sandbox threads a server starts unless told: one where it sees more than one CPU. */
const DEFAULT_THREADS = availableParallelism() > 1 ? 1 : 0;

const root = mkdtempSync(join(tmpdir(), 'autoflow-config-'));
after(() => rmSync(root, { recursive: true, force: true }));

let folders = 0;
/** A fresh folder per test: config modules are cached by URL, so every file gets its own path. */
function folder(files: Record<string, string> = {}): string {
  const dir = join(root, `case-${folders++}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

async function configError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected loadConfig to throw');
}

describe('defaults', () => {
  test('every field has its default, paths absolute against cwd, the whole result frozen', async () => {
    const cwd = folder();
    const config = await loadConfig({ env: {}, cwd });
    assert.equal(config.port, 8080);
    assert.equal(config.host, '127.0.0.1');
    assert.deepEqual(config.db, { kind: 'sqlite', path: join(cwd, 'data/autoflow.db') });
    assert.equal(config.workflowsDir, join(cwd, 'workflows'));
    assert.equal(config.configFile, undefined);
    assert.equal(config.dev, false);
    assert.equal(config.apiToken, undefined);
    assert.equal(config.logLevel, 'info');
    assert.deepEqual(config.sandbox, { memoryMb: 64, cpuMs: 1000, cacheSize: 500, cacheMemoryMb: 1024, threads: DEFAULT_THREADS });
    assert.deepEqual(config.leases, { runMs: 30_000, callMs: 120_000 });
    assert.deepEqual(config.retention, { runDays: 30, eventDays: 7 });
    assert.equal(config.lookbackMs, 300_000);
    assert.deepEqual(config.secrets, {});
    assert.deepEqual(config.activities, {});
    assert.deepEqual(config.subscribers, []);
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.sandbox) && Object.isFrozen(config.db) && Object.isFrozen(config.secrets));
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
  });

  test('database forms', async () => {
    const cwd = folder();
    assert.deepEqual((await loadConfig({ env: { AUTOFLOW_DB: 'memory:' }, cwd })).db, { kind: 'memory' });
    assert.deepEqual((await loadConfig({ env: { AUTOFLOW_DB: 'postgres://af:pw@localhost:5432/af' }, cwd })).db, {
      kind: 'postgres',
      url: 'postgres://af:pw@localhost:5432/af',
    });
    assert.deepEqual((await loadConfig({ env: { AUTOFLOW_DB: 'sqlite:/var/lib/af.db' }, cwd })).db, {
      kind: 'sqlite',
      path: '/var/lib/af.db',
    });
    for (const bad of ['mysql://x/y', 'sqlite:', 'postgres://', './file.db']) {
      const message = await configError(loadConfig({ env: { AUTOFLOW_DB: bad }, cwd }));
      assert.match(message, /db from env AUTOFLOW_DB/);
      assert.ok(message.includes(JSON.stringify(bad)), message);
      assert.match(message, /expected sqlite:PATH, memory: or postgres:\/\//);
    }
  });
});

describe('precedence: flags > environment > file > defaults', () => {
  const file = `export default { port: 7000, host: '0.0.0.0', logLevel: 'debug', dev: true };\n`;

  test('the file overrides the defaults', async () => {
    const cwd = folder({ 'autoflow.config.ts': file });
    const config = await loadConfig({ env: {}, cwd });
    assert.equal(config.configFile, join(cwd, 'autoflow.config.ts'));
    assert.deepEqual([config.port, config.host, config.logLevel, config.dev], [7000, '0.0.0.0', 'debug', true]);
  });

  test('the environment overrides the file', async () => {
    const cwd = folder({ 'autoflow.config.ts': file });
    const config = await loadConfig({ env: { AUTOFLOW_PORT: '7100', AUTOFLOW_DEV: 'false', AUTOFLOW_HOST: '' }, cwd });
    assert.equal(config.port, 7100);
    assert.equal(config.dev, false);
    assert.equal(config.host, '0.0.0.0', 'an empty variable counts as unset');
    assert.equal(config.logLevel, 'debug');
  });

  test("the simulator's sign-in stays on this machine unless a flag or the environment opens it", async () => {
    const cwd = folder({});
    assert.equal((await loadConfig({ env: {}, cwd })).allowRemoteSimulatorSignIn, false);
    assert.equal((await loadConfig({ env: { AUTOFLOW_ALLOW_REMOTE_SIMULATOR_SIGN_IN: 'yes' }, cwd })).allowRemoteSimulatorSignIn, true);
    const flagged = await loadConfig({
      flags: { allowRemoteSimulatorSignIn: true },
      env: { AUTOFLOW_ALLOW_REMOTE_SIMULATOR_SIGN_IN: 'no' },
      cwd,
    });
    assert.equal(flagged.allowRemoteSimulatorSignIn, true);
  });

  test('uiUsers: a comma-separated list from the environment; an entry that is neither a username nor a group says so', async () => {
    const cwd = folder({});
    assert.equal((await loadConfig({ env: {}, cwd })).uiUsers, undefined);
    assert.deepEqual((await loadConfig({ env: { AUTOFLOW_UI_USERS: ' alice, @bob ,group:acme/ops,' }, cwd })).uiUsers, [
      'alice',
      '@bob',
      'group:acme/ops',
    ]);
    const message = await configError(loadConfig({ env: { AUTOFLOW_UI_USERS: 'alice,group:' }, cwd }));
    assert.match(message, /AUTOFLOW_UI_USERS/);
    assert.match(message, /'group:': a group is group:<full path>/);
  });

  test('flags override the environment', async () => {
    const cwd = folder({ 'autoflow.config.ts': file });
    const config = await loadConfig({
      flags: { port: '7200', logLevel: 'warn', db: 'memory:', workflows: 'flows' },
      env: { AUTOFLOW_PORT: '7100', AUTOFLOW_LOG_LEVEL: 'error', AUTOFLOW_WORKFLOWS: 'other' },
      cwd,
    });
    assert.deepEqual([config.port, config.logLevel, config.db.kind, config.workflowsDir], [7200, 'warn', 'memory', join(cwd, 'flows')]);
  });

  test('paths from the file are relative to its folder, paths from flags to cwd', async () => {
    const dir = folder({ 'af.ts': `export default { workflowsDir: 'flows', db: 'sqlite:state/af.db' };\n` });
    const cwd = folder();
    const fromFile = await loadConfig({ flags: { config: join(dir, 'af.ts') }, env: {}, cwd });
    assert.equal(fromFile.workflowsDir, join(dir, 'flows'));
    assert.deepEqual(fromFile.db, { kind: 'sqlite', path: join(dir, 'state/af.db') });
    const fromFlag = await loadConfig({ flags: { config: join(dir, 'af.ts'), workflows: 'mine' }, env: {}, cwd });
    assert.equal(fromFlag.workflowsDir, join(cwd, 'mine'));
  });

  test('secrets merge the file with AUTOFLOW_SECRET_<NAME>, the environment winning', async () => {
    const cwd = folder({ 'autoflow.config.ts': `export default { secrets: { A: 'file-a', B: 'file-b' } };\n` });
    const config = await loadConfig({ env: { AUTOFLOW_SECRET_B: 'env-b', AUTOFLOW_SECRET_C: 'env-c', AUTOFLOW_SECRET_D: '' }, cwd });
    assert.deepEqual(config.secrets, { A: 'file-a', B: 'env-b', C: 'env-c' });
  });

  test('AUTOFLOW_CONFIG names the file; --config beats it', async () => {
    const dir = folder({ 'one.ts': 'export default { port: 1111 };\n', 'two.ts': 'export default { port: 2222 };\n' });
    const cwd = folder();
    assert.equal((await loadConfig({ env: { AUTOFLOW_CONFIG: join(dir, 'one.ts') }, cwd })).port, 1111);
    assert.equal(
      (await loadConfig({ flags: { config: join(dir, 'two.ts') }, env: { AUTOFLOW_CONFIG: join(dir, 'one.ts') }, cwd })).port,
      2222,
    );
  });

  test('sandbox threads: one on a machine of several CPUs unless told; 0 keeps every sandbox on the main thread', async () => {
    const told = await loadConfig({ env: {}, cwd: folder({ 'autoflow.config.ts': 'export default { sandbox: { threads: 0 } };\n' }) });
    assert.equal(told.sandbox.threads, 0);
    const untold = await loadConfig({ env: {}, cwd: folder({ 'autoflow.config.ts': 'export default { sandbox: { memoryMb: 96 } };\n' }) });
    assert.equal(untold.sandbox.threads, DEFAULT_THREADS);
  });

  test('a file written with defineConfig, with activities and subscribers', async () => {
    const index = pathToFileURL(join(import.meta.dirname, 'index.ts')).href;
    const cwd = folder({
      'autoflow.config.ts': `import { defineConfig } from '${index}';
export default defineConfig({
  sandbox: { memoryMb: 128 },
  activities: { async double(args, context) { return { value: (args as number) * 2, key: context.idempotencyKey }; } },
  subscribers: [{ url: 'https://hooks.example.com/af', secret: 's3cret', types: ['com.example.released', 'autoflow.task.*'], timeoutMs: 30_000 }],
});
`,
    });
    const config = await loadConfig({ env: {}, cwd });
    assert.deepEqual(config.sandbox, { memoryMb: 128, cpuMs: 1000, cacheSize: 500, cacheMemoryMb: 1024, threads: DEFAULT_THREADS });
    const double = config.activities.double;
    assert.ok(double);
    assert.deepEqual(
      await double(21, { idempotencyKey: 'r:1', runId: 'r', workflow: 'w', attempt: 1, signal: new AbortController().signal }),
      { value: 42, key: 'r:1' },
    );
    assert.deepEqual(config.subscribers, [
      { url: 'https://hooks.example.com/af', secret: 's3cret', types: ['com.example.released', 'autoflow.task.*'], timeoutMs: 30_000 },
    ]);
    assert.ok(Object.isFrozen(config.subscribers[0]?.types));
  });
});

describe("the README's autoflow.config.ts", () => {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const example = /```ts\n(\/\/ autoflow\.config\.ts\n[\s\S]*?)```/.exec(readme)?.[1];
  const index = pathToFileURL(join(import.meta.dirname, 'index.ts')).href;

  /**
   * The example as copied, with the kubeconfig it names beside it, loaded with HOOK_SECRET and SLACK_TOKEN as given
   * (undefined: unset), TEAM_A_HOOK_SECRET set.
   */
  async function loadExample(variables: { HOOK_SECRET?: string; SLACK_TOKEN?: string }) {
    assert.ok(example, 'README.md has the example');
    const cwd = folder({ 'autoflow.config.ts': example.replace("'autoflow/config'", `'${index}'`), kubeconfig: 'apiVersion: v1\n' });
    const before = {
      HOOK_SECRET: process.env.HOOK_SECRET,
      SLACK_TOKEN: process.env.SLACK_TOKEN,
      TEAM_A_HOOK_SECRET: process.env.TEAM_A_HOOK_SECRET,
    };
    const set = (values: Record<string, string | undefined>): void => {
      for (const [name, value] of Object.entries(values)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    };
    set({ HOOK_SECRET: variables.HOOK_SECRET, SLACK_TOKEN: variables.SLACK_TOKEN, TEAM_A_HOOK_SECRET: 'team-a-s3cret' });
    try {
      return await loadConfig({ env: {}, cwd });
    } finally {
      set(before);
    }
  }

  test('type-checks as written in an `autoflow init` repository (its process.env secrets may be unset)', { timeout: 120_000 }, () => {
    assert.ok(example, 'README.md has the example');
    const checkout = join(import.meta.dirname, '..', '..');
    const dir = folder({
      'package.json': '{ "type": "module" }\n',
      // The example leaves the ticket system's client to the reader.
      'autoflow.config.ts': `${example}\ndeclare function createTicket(args: unknown, options: { idempotencyKey: string; signal: AbortSignal }): Promise<{ id: number }>;\n`,
    });
    mkdirSync(join(dir, 'node_modules/@types'), { recursive: true });
    symlinkSync(checkout, join(dir, 'node_modules/autoflow'));
    symlinkSync(join(checkout, 'node_modules/@types/node'), join(dir, 'node_modules/@types/node'));
    const tsconfig = JSON.parse(readFileSync(join(checkout, 'templates/init/tsconfig.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ ...tsconfig, include: ['autoflow.config.ts'] }));
    const tsc = spawnSync(process.execPath, [join(checkout, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', '.'], {
      cwd: dir,
      encoding: 'utf8',
    });
    assert.equal(tsc.stdout + tsc.stderr, '');
    assert.equal(tsc.status, 0);
  });

  test('works as written: with its variables set, they are the secrets', async () => {
    const config = await loadExample({ HOOK_SECRET: 'hook-s3cret', SLACK_TOKEN: 'xoxb-1' });
    assert.equal(config.subscribers[0]?.secret, 'hook-s3cret');
    assert.deepEqual(config.secrets, { SLACK_TOKEN: 'xoxb-1' });
    assert.deepEqual(config.webhookSources[0]?.projects, ['team-a/*']);
    assert.equal(config.kubernetes?.kubeconfig, join(dirname(config.configFile ?? ''), 'kubeconfig'), "relative to the file's folder");
  });

  test('an unset SLACK_TOKEN leaves the secret not configured; an unset HOOK_SECRET stops the start, naming the variable as the cause', async () => {
    const config = await loadExample({ HOOK_SECRET: 'hook-s3cret' });
    assert.deepEqual(config.secrets, { SLACK_TOKEN: '' }, 'empty: secrets.get fails for it, and the server warns at start');
    assert.match(
      await configError(loadExample({ SLACK_TOKEN: 'xoxb-1' })),
      /^invalid configuration: subscribers\[0\]\.secret from .* is not set \(is its environment variable set\?\), expected a non-empty string$/,
    );
  });
});

describe('the GitLab URL', () => {
  test('a trailing /api/v4 and trailing slashes are dropped, so that requests do not go to /api/v4/api/v4', async () => {
    const cwd = folder();
    const url = async (gitlabUrl: string) => (await loadConfig({ flags: { gitlabUrl }, env: {}, cwd })).gitlabUrl;
    assert.equal(await url('https://gitlab.example.com/api/v4'), 'https://gitlab.example.com');
    assert.equal(await url('https://gitlab.example.com/api/v4/'), 'https://gitlab.example.com');
    assert.equal(await url('https://gitlab.example.com/'), 'https://gitlab.example.com');
    assert.equal(await url('https://example.com/gitlab/api/v4'), 'https://example.com/gitlab');
    assert.equal(await url('https://example.com/gitlab'), 'https://example.com/gitlab');
  });
});

describe('every invalid value names key, source, value and expected form', () => {
  test('from a flag', async () => {
    const message = await configError(loadConfig({ flags: { port: 'eighty' }, env: {}, cwd: folder() }));
    assert.equal(message, 'invalid configuration: port from flag --port is "eighty", expected an integer from 1 to 65535');
    // Port 0 would listen somewhere, but the links the server gives out (web UI, tasks, OAuth) would name port 0.
    const zero = await configError(loadConfig({ flags: { port: '0' }, env: {}, cwd: folder() }));
    assert.equal(zero, 'invalid configuration: port from flag --port is 0, expected an integer from 1 to 65535');
  });

  test('from the environment', async () => {
    const message = await configError(
      loadConfig({ env: { AUTOFLOW_PORT: '70000', AUTOFLOW_DEV: 'maybe', AUTOFLOW_LOG_LEVEL: 'loud' }, cwd: folder() }),
    );
    assert.match(message, /port from env AUTOFLOW_PORT is 70000, expected an integer from 1 to 65535/);
    assert.match(message, /dev from env AUTOFLOW_DEV is "maybe", expected true or false/);
    assert.match(message, /logLevel from env AUTOFLOW_LOG_LEVEL is "loud", expected one of fatal, error, warn, info, debug, trace, silent/);
  });

  test('from the file, nested keys included', async () => {
    const cwd = folder({
      'autoflow.config.ts': `export default { port: '8080', sandbox: { cpuMs: 1 }, retention: { eventDays: 1 }, subscribers: [{ url: 'ftp://x', secret: 's' }], activities: { a: 1 } };\n`,
    });
    const file = join(cwd, 'autoflow.config.ts');
    const message = await configError(loadConfig({ env: {}, cwd }));
    assert.ok(message.includes(`port from ${file} is "8080", expected an integer from 1 to 65535`), message);
    assert.ok(message.includes(`sandbox.cpuMs from ${file} is 1, expected an integer from 10 to 600000`), message);
    assert.ok(message.includes(`retention.eventDays from ${file} is 1, expected 0 (for ever), or an integer from 2 to 36500`), message);
    assert.ok(message.includes(`subscribers[0].url from ${file} is "ftp://x", expected an http:// or https:// URL`), message);
    assert.ok(message.includes(`activities.a from ${file} is 1, expected an async function (args, context) => result`), message);
  });

  test('subscribers that share a URL, or the name logs and metrics give them', async () => {
    const cwd = folder({
      'autoflow.config.ts': `export default { subscribers: [
  { url: 'https://hooks.example.com/af', secret: 's', types: ['a.*'] },
  { url: 'https://hooks.example.com/af', secret: 's', types: ['b.*'] },
  { url: 'https://hooks.example.com/q?team=a', secret: 's' },
  { url: 'https://hooks.example.com/q?team=b', secret: 's' },
  { url: 'https://hooks.example.com/q?team=c', secret: 's', name: 'team-c' },
] };\n`,
    });
    const message = await configError(loadConfig({ env: {}, cwd }));
    assert.match(
      message,
      /subscribers\[1\]\.url .*expected a URL no other subscriber has \(subscribers\[0\] has it\): list a receiver once/,
    );
    assert.match(
      message,
      /subscribers\[3\]\.name .*expected a name no other subscriber has: .* call this one https:\/\/hooks\.example\.com\/…#04ddae, as they call subscribers\[2\]/,
    );
    assert.doesNotMatch(message, /subscribers\[4\]/);
  });

  test('webhook sources that share a name or a secret are refused, naming both entries and never the secret', async () => {
    const cwd = folder({
      'autoflow.config.ts': `export default { webhookSources: [
  { name: 'team-a', secret: 'hook-a-s3cret', instanceUrl: 'https://gitlab.example.com', projects: ['team-a/*'] },
  { name: 'team-a', secret: 'hook-b-s3cret', instanceUrl: 'https://gitlab.example.com', projects: ['team-b/*'] },
  { name: 'team-c', secret: 'hook-a-s3cret', instanceUrl: 'https://gitlab.example.com', projects: ['team-c/*'] },
  { name: 'team-a', secret: 'hook-a-s3cret' },
] };\n`,
    });
    const file = join(cwd, 'autoflow.config.ts');
    assert.equal(
      await configError(loadConfig({ env: {}, cwd })),
      'invalid configuration: ' +
        [
          `webhookSources[1].name from ${file} is "team-a", expected a name no other webhook source has (webhookSources[0] has it): ` +
            "the name tells the sources apart in logs, refusals and the events' dedupe keys",
          `webhookSources[2].secret from ${file} is (hidden), expected a secret no other webhook source has (webhookSources[0] has it): ` +
            'webhooks carrying it go to the first source that has it, so this one would never receive one',
          // Listed twice: one fix, so one message.
          `webhookSources[3].name from ${file} is "team-a", expected a name no other webhook source has (webhookSources[0] has it): ` +
            "the name tells the sources apart in logs, refusals and the events' dedupe keys",
        ].join('; '),
    );
  });

  test('a webhook source or subscriber name that is not printable text is refused: events, logs and labels carry it', async () => {
    const cwd = folder({
      'autoflow.config.ts': `export default { webhookSources: [{ name: 'team\\u0000a', secret: 'team-a-s3cret' }] };\n`,
    });
    assert.match(
      await configError(loadConfig({ env: {}, cwd })),
      /^invalid configuration: webhookSources\[0\]\.name from .* expected a name of printable characters, such as team-a/,
    );
  });

  test('a webhook source limited to some projects needs its instanceUrl: else the sender chooses the instance its events name', async () => {
    const cwd = folder({
      'autoflow.config.ts': `export default { webhookSources: [{ name: 'team-c', secret: 'team-c-s3cret', projects: ['team-c/*'] }] };\n`,
    });
    assert.match(
      await configError(loadConfig({ env: {}, cwd })),
      /^invalid configuration: webhookSources\[0\]\.instanceUrl from .* expected the GitLab instance's URL, such as 'https:\/\/gitlab\.example\.com', which a source limited to some projects needs/,
    );
  });

  test("a webhook source with the default source's secret is refused, wherever that secret came from", async () => {
    const cwd = folder({
      'autoflow.config.ts': `export default { webhookSources: [
  { name: 'team-a', secret: 'team-a-s3cret', instanceUrl: 'https://gitlab.example.com', projects: ['team-a/*'] },
  { name: 'team-b', secret: 'shared-s3cret', instanceUrl: 'https://gitlab.example.com', projects: ['team-b/*'] },
] };\n`,
    });
    const message = await configError(loadConfig({ env: { AUTOFLOW_GITLAB_WEBHOOK_SECRET: 'shared-s3cret' }, cwd }));
    assert.equal(
      message,
      `invalid configuration: webhookSources[1].secret from ${join(cwd, 'autoflow.config.ts')} is (hidden), expected a secret other than ` +
        "gitlabWebhookSecret's (AUTOFLOW_GITLAB_WEBHOOK_SECRET): webhooks carrying it go to the default source, which is matched first " +
        'and takes any project, so this source would never receive one and its projects would limit nothing',
    );
    assert.doesNotMatch(message, /shared-s3cret/);
    const distinct = await loadConfig({ env: { AUTOFLOW_GITLAB_WEBHOOK_SECRET: 'default-s3cret' }, cwd });
    assert.deepEqual(
      distinct.webhookSources.map((source) => source.name),
      ['team-a', 'team-b'],
    );
  });

  test('an API token shorter than 16 characters stops the server, saying how to make one, and a 16-character one is taken', async () => {
    const cwd = folder({});
    const message = await configError(loadConfig({ env: { AUTOFLOW_API_TOKEN: 'a'.repeat(15) }, cwd }));
    assert.equal(
      message,
      'invalid configuration: apiToken from env AUTOFLOW_API_TOKEN is (hidden), expected a random string of at least 16 characters, ' +
        'such as the output of `openssl rand -base64 32`',
    );
    assert.equal((await loadConfig({ env: { AUTOFLOW_API_TOKEN: 'b'.repeat(16) }, cwd })).apiToken, 'b'.repeat(16));
  });

  test('secret values are never shown', async () => {
    const cwd = folder({ 'autoflow.config.ts': `export default { apiToken: ['t0ken'], secrets: { A: 12345 } };\n` });
    const message = await configError(loadConfig({ env: {}, cwd }));
    assert.match(message, /apiToken from .* is \(hidden\), expected a random string of at least 16 characters/);
    assert.match(message, /secrets\.A from .* is \(hidden\), expected a string/);
    assert.doesNotMatch(message, /12345|t0ken/);
  });

  test('a secret that is empty or unset says so and asks about its environment variable, since it has nothing to hide', async () => {
    const cwd = folder({
      'autoflow.config.ts': `export default { apiToken: '', subscribers: [
  { url: 'https://hooks.example.com/a', secret: process.env.AUTOFLOW_TEST_UNSET_HOOK_SECRET ?? '' },
  { url: 'https://hooks.example.com/b', secret: process.env.AUTOFLOW_TEST_UNSET_HOOK_SECRET },
] };\n`,
    });
    const message = await configError(loadConfig({ env: {}, cwd }));
    assert.match(message, /apiToken from .* is empty \(is its environment variable set\?\), expected a random string of at least 16/);
    assert.match(message, /subscribers\[0\]\.secret from .* is empty \(is its environment variable set\?\), expected a non-empty string/);
    assert.match(message, /subscribers\[1\]\.secret from .* is not set \(is its environment variable set\?\), expected a non-empty string/);
  });

  test('subscriber types that can never be delivered are refused, saying why; deliverable ones are kept', async () => {
    let receivers = 0;
    const subscriber = (types: string) => `{ url: 'https://hooks.example.com/${receivers++}', secret: 's', types: ${types} }`;
    const cwd = folder({
      'autoflow.config.ts': `export default { subscribers: [
  ${subscriber('[]')},
  ${subscriber("['com.example.build done']")},
  ${subscriber("['com.gitlab.events.push', 'com.gitlab.*']")},
  ${subscriber("['autoflow.run.*', 'autoflow.task.closed']")},
] };\n`,
    });
    const message = await configError(loadConfig({ env: {}, cwd }));
    const problems = message.replace(/^invalid configuration: /, '').split('; subscribers');
    assert.deepEqual(
      problems.map((problem) => problem.replace(/ from .* is /, ' is ')),
      [
        'subscribers[0].types is [], expected at least one event type or glob: an empty list delivers nothing (leave types out for every emitted event)',
        '[1].types[0] is "com.example.build done", expected an event type without spaces: no event that reaches a subscriber has one',
        `[2].types[0] is "com.gitlab.events.push", expected a type a workflow may emit: subscribers get only the events workflows emit, and GitLab's own (com.gitlab.*) are not among them; trigger a workflow on them and have it emit a type of your own (com.example.…)`,
        `[2].types[1] is "com.gitlab.*", expected a type a workflow may emit: subscribers get only the events workflows emit, and GitLab's own (com.gitlab.*) are not among them; trigger a workflow on them and have it emit a type of your own (com.example.…)`,
        `[3].types[0] is "autoflow.run.*", expected a type a workflow may emit: of the server's own autoflow.* events, subscribers get only autoflow.task.opened and autoflow.task.reminder`,
        `[3].types[1] is "autoflow.task.closed", expected a type a workflow may emit: of the server's own autoflow.* events, subscribers get only autoflow.task.opened and autoflow.task.reminder`,
      ],
    );

    const deliverable = ['com.example.released', 'com.example.*', '*.failed', '*', 'autoflow.*', 'autoflow.task.opened', 'autoflow.task.*'];
    const fine = folder({ 'autoflow.config.ts': `export default { subscribers: [${subscriber(JSON.stringify(deliverable))}] };\n` });
    assert.deepEqual((await loadConfig({ env: {}, cwd: fine })).subscribers[0]?.types, deliverable);
  });

  test("a subscriber's timeoutMs is a whole number of ms from 1 s to 10 minutes", async () => {
    const cwd = folder({
      'autoflow.config.ts': `export default { subscribers: [{ url: 'https://hooks.example.com/slow', secret: 's', timeoutMs: 500 }] };\n`,
    });
    assert.match(
      await configError(loadConfig({ env: {}, cwd })),
      /subscribers\[0\]\.timeoutMs from .* is 500, expected an integer from 1000 to 600000/,
    );
  });

  test('nor the secrets of keys named for them, or of a URL, in a value shown', async () => {
    const cwd = folder({
      'autoflow.config.ts': `export default { sessionSecret: 'short-s3cret', gitlabToken: 42,
  subscribers: { url: 'https://bot:pa55word@hooks.example.com/q', secret: 'hm4c' } };\n`,
    });
    const message = await configError(loadConfig({ env: {}, cwd }));
    assert.match(message, /sessionSecret from .* is \(hidden\)/);
    assert.match(message, /gitlabToken from .* is \(hidden\)/);
    assert.match(message, /subscribers from .* is \{"url":"https:\/\/bot:\(hidden\)@hooks\.example\.com\/q","secret":"\(hidden\)"\}/);
    assert.doesNotMatch(message, /short-s3cret|42|pa55word|hm4c/);
  });

  test('unknown keys in the file are named, with the known ones', async () => {
    const cwd = folder({ 'autoflow.config.ts': `export default { prot: 1, sandbox: { memory: 2 } };\n` });
    const message = await configError(loadConfig({ env: {}, cwd }));
    assert.match(message, /autoflow\.config\.ts: unknown key "prot"; known keys: port, host, db/);
    assert.match(
      message,
      /autoflow\.config\.ts \(in sandbox\): unknown key "memory"; known keys: memoryMb, cpuMs, cacheSize, cacheMemoryMb, threads/,
    );
  });

  test('an explicitly named file that does not exist', async () => {
    const cwd = folder();
    assert.match(
      await configError(loadConfig({ flags: { config: 'nope.ts' }, env: {}, cwd })),
      /config file .*nope\.ts \(from flag --config\) does not exist/,
    );
    assert.match(
      await configError(loadConfig({ env: { AUTOFLOW_CONFIG: 'gone.ts' }, cwd })),
      /config file .*gone\.ts \(from env AUTOFLOW_CONFIG\) does not exist/,
    );
  });

  test('a file that does not load, or exports no object', async () => {
    const broken = folder({ 'autoflow.config.ts': 'export default {\n' });
    assert.match(await configError(loadConfig({ env: {}, cwd: broken })), /cannot load config file .*autoflow\.config\.ts: /);
    const named = folder({ 'autoflow.config.ts': 'export const port = 1;\n' });
    assert.match(
      await configError(loadConfig({ env: {}, cwd: named })),
      /must end with `export default defineConfig\(\{ \.\.\. \}\)`; its default export is missing/,
    );
  });

  test('a secret variable without a name', async () => {
    assert.match(await configError(loadConfig({ env: { AUTOFLOW_SECRET_: 'x' }, cwd: folder() })), /env AUTOFLOW_SECRET_ names no secret/);
  });
});

describe('a config file outside a Node project (no package.json above it, as in /etc/autoflow)', () => {
  function packageJsonsAbove(dir: string): string[] {
    const found = existsSync(join(dir, 'package.json')) ? [join(dir, 'package.json')] : [];
    return dirname(dir) === dir ? found : [...found, ...packageJsonsAbove(dirname(dir))];
  }

  /** loadConfig in a child process whose loader is set up as bin/autoflow.js sets it up: tsx's register(). */
  function loadLikeTheCli(file: string): unknown {
    const script = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};
register();
const { loadConfig } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'load.ts')).href)});
const config = await loadConfig({ flags: { config: ${JSON.stringify(file)} }, env: {}, cwd: ${JSON.stringify(dirname(file))} });
process.stdout.write(JSON.stringify(config));
`;
    const child = spawnSync(process.execPath, ['--input-type=module', '--eval', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(child.status, 0, child.stderr);
    return JSON.parse(child.stdout);
  }

  test('`export default { … }` loads in the CLI', () => {
    const dir = folder({ 'autoflow.config.ts': `export default { leases: { runMs: 45_000, callMs: 90_000 } };\n` });
    assert.deepEqual(packageJsonsAbove(dir), [], 'the test needs a folder that no package.json covers');
    const config = loadLikeTheCli(join(dir, 'autoflow.config.ts')) as { leases: unknown };
    assert.deepEqual(config.leases, { runMs: 45_000, callMs: 90_000 });
  });

  test('a file importing a sibling .ts module loads in the CLI and in process', async () => {
    const dir = folder({
      'autoflow.config.ts': `import { leases } from './leases.js';\nexport default { leases, port: 7001 };\n`,
      'leases.ts': `export const leases: { runMs: number } = { runMs: 50_000 };\n`,
    });
    assert.deepEqual(packageJsonsAbove(dir), []);
    const config = loadLikeTheCli(join(dir, 'autoflow.config.ts')) as { leases: unknown; port: number };
    assert.deepEqual([config.leases, config.port], [{ runMs: 50_000, callMs: 120_000 }, 7001]);
    const inProcess = await loadConfig({ env: {}, cwd: dir });
    assert.deepEqual([inProcess.leases, inProcess.port], [{ runMs: 50_000, callMs: 120_000 }, 7001]);
  });

  test('what cannot load there says what to do', async () => {
    const readme = folder({
      'autoflow.config.ts': `import { defineConfig } from 'autoflow/config';\nexport default defineConfig({ port: 1 });\n`,
    });
    const message = await configError(loadConfig({ env: {}, cwd: readme }));
    assert.match(message, /cannot load config file .*autoflow\.config\.ts: Cannot find module 'autoflow\/config'/);
    assert.match(message, /Install the package autoflow where Node finds it .* or remove the import: defineConfig only adds types/);
    const awaiting = folder({ 'autoflow.config.ts': `const port: number = await Promise.resolve(1);\nexport default { port };\n` });
    assert.match(
      await configError(loadConfig({ env: {}, cwd: awaiting })),
      /no package\.json with "type": "module" is in its folder or above: add one beside it, or rename the file to \.mts/,
    );
    const esm = folder({
      'package.json': '{ "type": "module" }\n',
      'autoflow.config.ts': `const port: number = await Promise.resolve(1234);\nexport default { port };\n`,
    });
    assert.equal((await loadConfig({ env: {}, cwd: esm })).port, 1234);
  });
});
