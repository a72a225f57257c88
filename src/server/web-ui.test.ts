import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Context } from 'hono';
import type { Operations } from '../app/operations.js';
import type { EmbeddedGitLab } from '../testing/embedded-gitlab.js';
import type { UiEnv } from '../ui/env.js';
import { simulatorSignInRefusal, webUiOptions, type WebUiConfig } from './web-ui.js';

/** A request's context as @hono/node-server gives it: the socket it came over. */
const from = (remoteAddress: string | undefined) =>
  ({
    env: remoteAddress === undefined ? {} : { incoming: { socket: { remoteAddress, remotePort: 50000, remoteFamily: 'IPv4' } } },
  }) as unknown as Context<UiEnv>;

test("the simulator's password-less sign-in is for this machine only: another address, or none known, is refused with what to do", () => {
  for (const local of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) assert.equal(simulatorSignInRefusal(from(local)), undefined, local);
  const refusal = simulatorSignInRefusal(from('192.0.2.7'));
  assert.match(refusal ?? '', /without a password.*you connect from 192\.0\.2\.7.*--allow-remote-simulator-sign-in.*--gitlab-url/);
  assert.match(simulatorSignInRefusal(from(undefined)) ?? '', /an unknown address/);
});

test('the refusal guards the simulator only, unless the operator allowed other machines', () => {
  const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };
  const options = (config: Partial<WebUiConfig>, gitlab?: EmbeddedGitLab) =>
    webUiOptions({
      config: { db: { kind: 'memory' }, sessionSecret: 's'.repeat(32), ...config },
      operations: {} as Operations,
      logger: silent,
      gitlab,
    });
  const simulator = {} as EmbeddedGitLab;
  assert.equal(options({}, simulator).signInRefusal, simulatorSignInRefusal);
  assert.equal(options({ allowRemoteSimulatorSignIn: true }, simulator).signInRefusal, undefined);
  assert.equal(
    options({ gitlabUrl: 'https://gitlab.example', gitlabOAuthClientId: 'id', gitlabOAuthClientSecret: 'secret' }).signInRefusal,
    undefined,
  );
});

test('with a real GitLab, the server warns at start that anyone on it may sign in, unless uiUsers names who', () => {
  const warnings: string[] = [];
  const logger = { debug() {}, info() {}, warn: (_: object, message: string) => warnings.push(message), error() {}, child: () => logger };
  const real = { gitlabUrl: 'https://gitlab.example', gitlabOAuthClientId: 'id', gitlabOAuthClientSecret: 'secret' };
  const start = (config: Partial<WebUiConfig>) =>
    webUiOptions({
      config: { db: { kind: 'memory' }, sessionSecret: 's'.repeat(32), ...real, ...config },
      operations: {} as Operations,
      logger,
    });
  assert.equal(start({}).userRefusal, undefined);
  assert.deepEqual(warnings, [
    'anyone with an account on https://gitlab.example can sign in to the web UI and read every run: set uiUsers (AUTOFLOW_UI_USERS) to the people and groups who may (docs/ui.md)',
  ]);
  warnings.length = 0;
  assert.equal(typeof start({ uiUsers: ['alice'] }).userRefusal, 'function');
  assert.deepEqual(warnings, []);
  start({ uiUsers: ['group:ops'] });
  assert.deepEqual(warnings, ['uiUsers names groups, but the server has no GitLab token to read their members: their members are refused']);
});
