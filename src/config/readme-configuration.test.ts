/**
 * README.md's "Configuration" table against the code: each setting's flag, variable and config-file key as the loader
 * reads them, and every key of the config file either in the table or in the line that lists the file's own.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { flagName } from './flag-names.js';
import { configSchema } from './schema.js';
import { CONFIG_FILE_VARIABLE, SECRET_PREFIX, SETTINGS } from './settings.js';

const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
const section = /\n## Configuration\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';

interface Row {
  flag: string;
  env: string;
  key: string;
}

/** The table's rows, by their first three cells without backquotes (empty when blank). */
const rows: Row[] = section
  .split('\n')
  .filter((line) => line.startsWith('|'))
  .slice(2)
  .map((line) => {
    const [flag = '', env = '', key = ''] = line
      .split('|')
      .slice(1, 4)
      .map((cell) => cell.trim().replace(/`/g, ''));
    return { flag, env, key };
  });

test('the table gives each setting its flag, its variable and its config-file key, as the loader reads them', () => {
  assert.deepEqual(
    section.split('\n').find((line) => line.startsWith('|')),
    '| flag | environment | config file | default | meaning |',
  );
  const expected: Row[] = [
    ...SETTINGS.map((setting) => ({ flag: setting.flag === undefined ? '' : flagName(setting.flag), env: setting.env, key: setting.key })),
    { flag: '--config', env: CONFIG_FILE_VARIABLE, key: '' },
    { flag: '', env: `${SECRET_PREFIX}<NAME>`, key: 'secrets.<NAME>' },
  ];
  const byVariable = (list: Row[]) => list.filter((row) => row.env !== '').sort((a, b) => a.env.localeCompare(b.env));
  assert.deepEqual(byVariable(rows), byVariable(expected));
});

test('every key of the config file is in the table or in the line that lists those only the file sets', () => {
  const fileOnly = /The config file alone sets the rest[^:]*:([^\n]*(?:\n[^\n]+)*)/.exec(section)?.[1] ?? '';
  const listed = new Set([
    ...rows.map((row) => row.key.split('.')[0]).filter((key) => key !== ''),
    ...[...fileOnly.matchAll(/`([^`]+)`/g)].map((match) => match[1]),
  ]);
  assert.deepEqual(
    Object.keys(configSchema.shape).filter((key) => !listed.has(key)),
    [],
  );
  assert.deepEqual(
    [...listed].filter((key) => key === undefined || !Object.hasOwn(configSchema.shape, key)),
    [],
  );
});
