import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DefinitionError } from '../core/errors.js';
import type { WorkflowManifest } from '../core/model.js';
import { bundleWorkflow, MAX_BUNDLE_BYTES, versionOf } from './bundle.js';
import { createQuickJsSandbox } from './quickjs-sandbox.js';
import { deploy, ending, runThrough, startActivation, workflowFolder } from './test-support.js';

const folder = workflowFolder();
after(() => folder.remove());

describe('bundleWorkflow()', () => {
  test('follows relative imports and npm packages, and the result runs in the sandbox', async () => {
    folder.write('lib/format.ts', `export function title(text: string): string { return text[0]?.toUpperCase() + text.slice(1); }\n`);
    const file = folder.write(
      'uses-lib.ts',
      `import { workflow } from 'autoflow';
import { title } from './lib/format';
import { z } from 'zod';
export default workflow({ name: 'uses-lib', async run() { return title(z.string().parse('hello')); } });
`,
    );
    const sandbox = await createQuickJsSandbox();
    const definition = await deploy(sandbox, file);
    const sources = (JSON.parse(definition.sourceMap ?? '{}') as { sources: string[] }).sources;
    assert.ok(sources.includes('uses-lib.ts') && sources.includes('lib/format.ts'), 'author files keep their relative paths');
    assert.ok(
      sources.some((source) => source.startsWith('autoflow:sdk/')),
      'the SDK is marked as such',
    );
    assert.ok(
      sources.some((source) => source.startsWith('zod/')) && !sources.some((source) => source.includes('node_modules')),
      `a package's files are named after the package: ${sources.join(', ')}`,
    );
    assert.deepEqual(ending(runThrough(sandbox, definition, [startActivation(null)])[0] ?? []), { kind: 'complete', result: 'Hello' });
  });

  test("AutoFlow's own blocks are named like a package's files, never by where AutoFlow is installed", async () => {
    const file = folder.write(
      'uses-blocks.ts',
      `import { gitopsGate } from 'autoflow/blocks';
export default gitopsGate({ name: 'gate', project: 'acme/m', environments: [{ name: 'production', sync: { branch: { name: 'env/production' } }, observe: { kustomization: { namespace: 'flux-system', name: 'apps' } } }] });
`,
    );
    const sources = (JSON.parse((await bundleWorkflow(file)).sourceMap) as { sources: string[] }).sources;
    assert.ok(sources.includes('autoflow/blocks/gitops-gate.ts'), sources.join(', '));
    assert.ok(sources.includes('autoflow:core/human-task-rules.ts'), 'the core modules blocks import are skipped like the SDK');
    assert.deepEqual(
      sources.filter((source) => source.includes('..') || source.includes('/src/')),
      [],
      'no path that climbs out of the workflow folder into AutoFlow',
    );
  });

  test('leaves the gitlab client out of a workflow that does not use it (each new run compiles every byte)', async () => {
    const plain = folder.write(
      'plain.ts',
      `import { workflow } from 'autoflow';\nexport default workflow({ name: 'plain', async run() { return 1; } });\n`,
    );
    const usesGitlab = folder.write(
      'uses-gitlab.ts',
      `import { gitlab, workflow } from 'autoflow';\nexport default workflow({ name: 'uses-gitlab', async run() { return gitlab.issues.list({ id: 1 }); } });\n`,
    );
    assert.doesNotMatch((await bundleWorkflow(plain)).bundle, /mergeRequests\.closesIssues/);
    assert.match((await bundleWorkflow(usesGitlab)).bundle, /mergeRequests\.closesIssues/);
  });

  test('refuses Node.js built-ins, naming the file and line and saying what to use instead', async () => {
    const file = folder.write(
      'reads-files.ts',
      `import { workflow } from 'autoflow';

import fs from 'fs';
export default workflow({ name: 'reads-files', async run() { return fs.readFileSync('/etc/passwd', 'utf8'); } });
`,
    );
    await assert.rejects(bundleWorkflow(file), (error: unknown) => {
      assert.ok(error instanceof DefinitionError);
      assert.match(error.message, /reads-files\.ts:3:\d+: 'fs' is a Node\.js module/);
      assert.match(error.message, /no file system\/network: use http\.request \/ gitlab \/ activities/i);
      return true;
    });
    for (const specifier of ['node:child_process', 'net', 'http', 'fs/promises']) {
      const other = folder.write(`imports-${specifier.replace(/\W/g, '-')}.ts`, `import x from '${specifier}';\nexport default x;\n`);
      await assert.rejects(bundleWorkflow(other), new RegExp(`'${specifier}' is a Node\\.js module`));
    }
  });

  test('a syntax error is reported with file:line:column', async () => {
    const file = folder.write(
      'typo.ts',
      `import { workflow } from 'autoflow';\nexport default workflow({ name: 'typo', async run() {\n  const x = ;\n} });\n`,
    );
    await assert.rejects(bundleWorkflow(file), (error: unknown) => {
      assert.ok(error instanceof DefinitionError);
      assert.match(error.message, /typo\.ts:3:13: Unexpected ";"/);
      return true;
    });
  });

  test('a missing module is reported with the importing line', async () => {
    const file = folder.write('missing.ts', `import { nothing } from './does-not-exist';\nexport default nothing;\n`);
    await assert.rejects(bundleWorkflow(file), /missing\.ts:1:\d+: Could not resolve "\.\/does-not-exist"/);
  });

  test('refuses code over MAX_BUNDLE_BYTES, a file or the whole bundle, naming the file, the sizes, the limit and what to do', async () => {
    const constant = (name: string, mib: number): string => `export const ${name} = '${'x'.repeat(mib * 1024 * 1024)}';\n`;
    const big = folder.write(
      'big-constant.ts',
      `import { workflow } from 'autoflow';\n${constant('DATA', 6)}export default workflow({ name: 'big', async run() { return DATA.length; } });\n`,
    );
    await assert.rejects(bundleWorkflow(big), (error: unknown) => {
      assert.ok(error instanceof DefinitionError);
      assert.match(
        error.message,
        /^Cannot bundle the workflow .*big-constant\.ts:\n {2}big-constant\.ts is 6\.0 MiB, more than a workflow's bundle may hold \(5\.0 MiB\)\. Keep data out of the workflow's code: fetch it when the run needs it/,
      );
      return true;
    });
    folder.write('data/a.ts', constant('A', 3));
    folder.write('data/b.ts', constant('B', 3));
    const parts = folder.write(
      'big-parts.ts',
      `import { workflow } from 'autoflow';\nimport { A } from './data/a';\nimport { B } from './data/b';\nexport default workflow({ name: 'parts', async run() { return A + B; } });\n`,
    );
    await assert.rejects(bundleWorkflow(parts), (error: unknown) => {
      assert.ok(error instanceof DefinitionError);
      assert.match(
        error.message,
        /big-parts\.ts: its bundle is 6\.0 MiB, more than a workflow may hold \(5\.0 MiB\), the most from data\/a\.ts 3\.0 MiB, data\/b\.ts 3\.0 MiB\. Keep data out/,
      );
      assert.equal((error.details as { limit: number }).limit, MAX_BUNDLE_BYTES);
      return true;
    });
  });
});

describe('versionOf()', () => {
  const manifest: WorkflowManifest = { name: 'a', triggers: [], permissions: { http: ['https://x'] }, validatesInput: false };

  test('is the same for the same bundle and manifest, whatever the key order', () => {
    const reordered = { validatesInput: false, permissions: { http: ['https://x'] }, triggers: [], name: 'a' } as WorkflowManifest;
    assert.equal(versionOf('code', manifest), versionOf('code', reordered));
    assert.match(versionOf('code', manifest), /^[0-9a-f]{64}$/);
  });

  test('changes when the bundle or the manifest changes', () => {
    assert.notEqual(versionOf('code', manifest), versionOf('code2', manifest));
    assert.notEqual(versionOf('code', manifest), versionOf('code', { ...manifest, permissions: {} }));
  });
});
