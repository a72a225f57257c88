import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError } from '../core/errors.js';
import { loadConfig } from './load.js';
import { configSchema } from './schema.js';

test('kubernetes: a kubeconfig, or a server with a token; unknown keys and bad URLs are refused with the known keys', () => {
  assert.deepEqual(configSchema.parse({ kubernetes: { kubeconfig: '/etc/kubeconfig', context: 'prod' } }).kubernetes, {
    kubeconfig: '/etc/kubeconfig',
    context: 'prod',
  });
  assert.deepEqual(configSchema.parse({ kubernetes: { server: 'https://10.0.0.1:6443', token: 't' } }).kubernetes, {
    server: 'https://10.0.0.1:6443',
    token: 't',
  });
  assert.equal(configSchema.parse({}).kubernetes, undefined);
  const typo = configSchema.safeParse({ kubernetes: { kubeConfig: '/x' } });
  assert.ok(!typo.success && /unknown key "kubeConfig"; known keys: kubeconfig, context, server/.test(typo.error.issues[0]?.message ?? ''));
  assert.ok(!configSchema.safeParse({ kubernetes: { server: 'ftp://x' } }).success);
});

const root = mkdtempSync(join(tmpdir(), 'autoflow-kubernetes-config-'));
after(() => rmSync(root, { recursive: true, force: true }));

let folders = 0;
/** A folder with a config file setting `kubernetes` (a fresh path each time: config modules are cached by URL). */
function configFolder(kubernetes: Record<string, string>, files: Record<string, string> = {}): { dir: string; file: string } {
  const dir = join(root, `case-${folders++}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const file = join(dir, 'autoflow.config.ts');
  writeFileSync(file, `export default { kubernetes: ${JSON.stringify(kubernetes)} };\n`);
  return { dir, file };
}

async function refusal(dir: string): Promise<string> {
  const error = await loadConfig({ env: {}, cwd: dir }).catch((caught: unknown) => caught);
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
  return error.message;
}

test('a kubeconfig or caFile the server cannot read stops the start, naming the key, the file that set it and the path', async () => {
  const missing = configFolder({ kubeconfig: '/nope/kubeconfig' });
  assert.equal(
    await refusal(missing.dir),
    `invalid configuration: kubernetes.kubeconfig from ${missing.file} is "/nope/kubeconfig", expected a file this server can read: /nope/kubeconfig does not exist`,
  );
  const folder = configFolder({ server: 'https://10.0.0.1:6443', token: 't', caFile: 'certs' });
  mkdirSync(join(folder.dir, 'certs'));
  assert.equal(
    await refusal(folder.dir),
    `invalid configuration: kubernetes.caFile from ${folder.file} is "certs", expected a file this server can read: ${join(folder.dir, 'certs')} is a folder`,
  );
  const underAFile = configFolder({ kubeconfig: 'kubeconfig/config' }, { kubeconfig: 'apiVersion: v1\n' });
  assert.equal(
    await refusal(underAFile.dir),
    `invalid configuration: kubernetes.kubeconfig from ${underAFile.file} is "kubeconfig/config", expected a file this server can read: ` +
      `${join(underAFile.dir, 'kubeconfig/config')} does not exist: a part of its path is a file, not a folder`,
  );
});

test("a kubeconfig's relative path is relative to the config file's folder, not to where the server was started", async () => {
  const { dir } = configFolder({ kubeconfig: 'kube/config', context: 'prod' });
  mkdirSync(join(dir, 'kube'));
  writeFileSync(join(dir, 'kube/config'), 'apiVersion: v1\n');
  const config = await loadConfig({ flags: { config: join(dir, 'autoflow.config.ts') }, env: {}, cwd: root });
  assert.deepEqual(config.kubernetes, { kubeconfig: join(dir, 'kube/config'), context: 'prod' });
});
