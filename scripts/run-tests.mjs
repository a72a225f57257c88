#!/usr/bin/env node
// Node's test runner neither expands globs nor finds .ts files by itself (DESIGN.md §6), so the
// list is collected here. A run that finds no test file fails instead of passing silently.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const roots = ['src', 'test', 'examples'];
const skip = new Set(['node_modules', 'data', 'artifacts', '.tmp']);

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    if (skip.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

const filter = process.argv.slice(2);
let files = roots.flatMap((r) => collect(join(root, r), []));
if (filter.length) files = files.filter((f) => filter.some((pattern) => f.includes(pattern)));
files.sort();
if (files.length === 0) {
  console.error(`no test files found under ${roots.join(', ')}${filter.length ? ` matching ${filter.join(' ')}` : ''}`);
  process.exit(1);
}
// The cluster fault tests run alone, after the others: they restart the shared PostgreSQL server
// and load both cores with several server processes, which would break or starve other tests.
const alone = (file) => file.startsWith('test/cluster/');
const phases = [
  { files: files.filter((f) => !alone(f)), concurrency: 2 },
  { files: files.filter(alone), concurrency: 1 },
].filter((phase) => phase.files.length > 0);
let status = 0;
for (const phase of phases) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${phase.concurrency}`, ...phase.files], {
    cwd: root,
    stdio: 'inherit',
  });
  if ((result.status ?? 1) !== 0) status = result.status ?? 1;
}
process.exit(status);
