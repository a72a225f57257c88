import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConfig } from './load.js';
import { KNOWN_VARIABLES } from './unknown-variables.js';

const cwd = mkdtempSync(join(tmpdir(), 'autoflow-unknown-variables-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

/** What the server is to log of `env`'s variables at start: each name with its message. */
async function warningsOf(env: Record<string, string>): Promise<Array<[string, string]>> {
  const config = await loadConfig({ env, cwd });
  return config.unknownVariables.map((unknown) => [unknown.name, unknown.message]);
}

const ignored = (name: string): string =>
  `environment variable ${name} is set, but AutoFlow reads no variable of that name, so it changes nothing`;

test('each misspelt AUTOFLOW_* variable is named, with the one meant; the server starts on what it does read', async () => {
  const env = { AUTOFLOW_PROT: '18263', AUTOFLOW_LOGLEVEL: 'debug', AUTOFLOW_WEBHOOK_SECRET: 'abc', AUTOFLOW_SECRETS_FOO: 'bar' };
  const config = await loadConfig({ env, cwd });
  assert.deepEqual([config.port, config.logLevel, config.gitlabWebhookSecret, config.secrets], [8080, 'info', undefined, {}]);
  assert.deepEqual(
    config.unknownVariables.map(({ name, meant, message }) => ({ name, meant, message })),
    [
      {
        name: 'AUTOFLOW_LOGLEVEL',
        meant: 'AUTOFLOW_LOG_LEVEL',
        message: `${ignored('AUTOFLOW_LOGLEVEL')}; did you mean AUTOFLOW_LOG_LEVEL?`,
      },
      { name: 'AUTOFLOW_PROT', meant: 'AUTOFLOW_PORT', message: `${ignored('AUTOFLOW_PROT')}; did you mean AUTOFLOW_PORT?` },
      {
        name: 'AUTOFLOW_SECRETS_FOO',
        meant: 'AUTOFLOW_SECRET_FOO',
        message: `${ignored('AUTOFLOW_SECRETS_FOO')}; did you mean AUTOFLOW_SECRET_FOO?`,
      },
      {
        name: 'AUTOFLOW_WEBHOOK_SECRET',
        meant: 'AUTOFLOW_GITLAB_WEBHOOK_SECRET',
        message: `${ignored('AUTOFLOW_WEBHOOK_SECRET')}; did you mean AUTOFLOW_GITLAB_WEBHOOK_SECRET?`,
      },
    ],
  );
});

test('a variable near no known one is named alone; a lower-case prefix is a typo too, and keeps the secret its name', async () => {
  assert.deepEqual(await warningsOf({ AUTOFLOW_FROBNICATE: '1', autoflow_secret_chat: 'x', AUTOFLOW_DB_PASWORD: 'pw' }), [
    ['AUTOFLOW_DB_PASWORD', `${ignored('AUTOFLOW_DB_PASWORD')} (README.md, "Configuration", lists those it reads)`],
    ['AUTOFLOW_FROBNICATE', `${ignored('AUTOFLOW_FROBNICATE')} (README.md, "Configuration", lists those it reads)`],
    ['autoflow_secret_chat', `${ignored('autoflow_secret_chat')}; did you mean AUTOFLOW_SECRET_chat?`],
  ]);
});

test("known variables, secrets, the client commands' own, empty ones and other tools' are not warned of", async () => {
  writeFileSync(join(cwd, 'af.config.ts'), 'export default {};\n');
  const env: Record<string, string> = {
    AUTOFLOW_SECRET_CHAT_TOKEN: 'x',
    AUTOFLOW_CONFIG: join(cwd, 'af.config.ts'),
    AUTOFLOW_URL: 'http://127.0.0.1:18450',
    AUTOFLOW_API_TOKEN: 'af_0123456789abcdef',
    AUTOFLOW_PORT: '18451',
    AUTOFLOW_PROT: '',
    PATH: '/usr/bin',
    GITLAB_TOKEN: 'glpat',
  };
  assert.deepEqual(await warningsOf(env), []);
});

/** The `AUTOFLOW_*` names the CLI reads from its environment (`env.AUTOFLOW_X`, `env['AUTOFLOW_X']`). */
function variablesReadBy(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return variablesReadBy(path);
    if (!name.endsWith('.ts') || name.endsWith('.test.ts')) return [];
    const text = readFileSync(path, 'utf8');
    return [...text.matchAll(/env(?:\.|\[['"])(AUTOFLOW_[A-Z0-9_]+)/g)].map((match) => match[1] as string);
  });
}

test('every AUTOFLOW_* variable the CLI reads counts as known', () => {
  const read = new Set(variablesReadBy(join(import.meta.dirname, '..', 'cli')));
  assert.ok(read.has('AUTOFLOW_URL'), 'the scan finds what the client commands read');
  assert.deepEqual(
    [...read].filter((name) => !KNOWN_VARIABLES.includes(name)),
    [],
  );
});
