import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

/**
 * The layers of DESIGN.md §3, checked on every test run: imports point down only, the core does
 * no I/O of its own, and code that runs in the sandbox reaches nothing of the host.
 */
const SRC = fileURLToPath(new URL('../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.tsx?$/.test(name) && !name.endsWith('.test.ts') ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm),
    ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((match) => match[1] as string);
}

function layerOf(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const target = relative(SRC, join(file, '..', specifier));
  return target.startsWith('..') ? '(outside src)' : target.split('/')[0];
}

const rules: Record<string, { layers: string[]; packages: RegExp }> = {
  core: { layers: ['core'], packages: /^$/ },
  sdk: { layers: ['sdk', 'core'], packages: /^$/ },
  store: { layers: ['store', 'core'], packages: /^(better-sqlite3|pg|node:.*)$/ },
  sandbox: {
    layers: ['sandbox', 'sdk', 'core'],
    packages: /^(quickjs-emscripten.*|@jitl\/.*|esbuild|@jridgewell\/.*|yaml|croner|node:.*)$/,
  },
  capabilities: { layers: ['capabilities', 'core'], packages: /^(zod|croner|@kubernetes\/client-node|node:.*)$/ },
  blocks: { layers: ['blocks', 'sdk', 'core'], packages: /^$/ },
  ui: { layers: ['ui', 'app', 'core'], packages: /^(hono(\/.*)?|oauth4webapi|node:.*)$/ },
};

test('each layer imports only the layers below it', () => {
  const violations: string[] = [];
  for (const [layer, rule] of Object.entries(rules)) {
    for (const file of sources(join(SRC, layer))) {
      for (const specifier of imports(file)) {
        const target = layerOf(file, specifier);
        const allowed = target === undefined ? rule.packages.test(specifier) : rule.layers.includes(target);
        if (!allowed) violations.push(`${relative(SRC, file)} imports '${specifier}'`);
      }
    }
  }
  assert.deepEqual(violations, []);
});
