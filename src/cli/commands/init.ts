import type { Command } from 'commander';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import packageJson from '../../../package.json' with { type: 'json' };
import { AutoflowError, toError } from '../../core/errors.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';

const TEMPLATE_DIR = fileURLToPath(new URL('../../../templates/init/', import.meta.url));
/** The folder of the AutoFlow package that runs this command. */
const PACKAGE_DIR = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * npm leaves `.gitignore` files out of published packages, so the template keeps it as
 * `gitignore` and the copy gets its real name.
 */
const RENAMED: Readonly<Record<string, string>> = { gitignore: '.gitignore' };

/** `autoflow init` stops before writing anything when a file it would create exists. */
export class WouldOverwriteError extends AutoflowError {
  constructor(dir: string, existing: readonly string[]) {
    super(
      'would_overwrite',
      `${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''} in ${dir}; nothing was written. ` +
        'Run autoflow init in a new folder (autoflow init my-workflows), or move those files away first.',
    );
  }
}

/** The nearest part of the path that exists must be a folder, or nothing can be created below it. */
function checkTarget(target: string, given: string): void {
  let existing = target;
  while (!existsSync(existing)) existing = dirname(existing);
  if (statSync(existing).isDirectory()) return;
  throw new UsageError(
    existing === target
      ? `${given} is a file; give init a folder to create the repository in (autoflow init my-workflows)`
      : `cannot create ${given}: ${existing} is a file, not a folder`,
  );
}

/**
 * Creates `dir` and its missing parents one by one. Not `mkdirSync(…, { recursive: true })`: on
 * Node 20 that spins for ever on a path under /proc instead of failing.
 */
function makeFolder(dir: string): void {
  if (existsSync(dir)) return;
  makeFolder(dirname(dir));
  mkdirSync(dir);
}

/** Every file of the template, as paths relative to it. */
function templateFiles(dir = TEMPLATE_DIR): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? templateFiles(path) : [relative(TEMPLATE_DIR, path)];
  });
}

/**
 * How the new repository depends on AutoFlow: on this version when AutoFlow was installed from a
 * registry (it sits in a node_modules folder); otherwise on this checkout by path, since the name
 * `autoflow` on the public npm registry is another project's.
 */
export function autoflowDependency(packageDir: string, targetDir: string, version: string): { spec: string; local: boolean } {
  if (packageDir.split(sep).includes('node_modules')) return { spec: `^${version}`, local: false };
  const path = relative(targetDir, packageDir).split(sep).join('/') || '.';
  return { spec: `file:${path}`, local: true };
}

/**
 * The new repository's package.json. Written here, not kept in the template: a package.json in
 * templates/ would make that folder a package of its own, and its example files could no longer
 * resolve `autoflow` to this repository when they are type-checked and linted with it.
 */
function packageFile(dir: string, autoflow: string): string {
  const name =
    basename(dir)
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[-._]+/, '') || 'workflows';
  const manifest = {
    name,
    private: true,
    type: 'module',
    // `autoflow check` bundles and validates but does not type-check: tsc does that.
    scripts: { check: 'tsc --noEmit && autoflow check workflows', test: 'autoflow test', start: 'autoflow server --dev' },
    dependencies: { autoflow },
    devDependencies: { '@types/node': '^20.19.0', typescript: '^5.9.3' },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export function registerInit(program: Command, context: CliContext): void {
  program
    .command('init')
    .description('create a workflows repository: an example workflow and its test, package.json, tsconfig.json, .gitlab-ci.yml')
    .argument('[dir]', 'folder to create it in (created when missing)', '.')
    .action((dir: string) => {
      const target = resolve(context.cwd, dir);
      checkTarget(target, dir);
      const dependency = autoflowDependency(PACKAGE_DIR, target, packageJson.version);
      const files = new Map<string, string>([['package.json', packageFile(target, dependency.spec)]]);
      for (const file of templateFiles()) files.set(RENAMED[file] ?? file, readFileSync(join(TEMPLATE_DIR, file), 'utf8'));
      const existing = [...files.keys()].filter((file) => existsSync(join(target, file)));
      if (existing.length > 0) throw new WouldOverwriteError(target, existing);
      for (const [file, text] of files) {
        const path = join(target, file);
        try {
          makeFolder(dirname(path));
          writeFileSync(path, text, { flag: 'wx' });
        } catch (caught) {
          throw new AutoflowError('init_failed', `cannot write ${path}: ${toError(caught).message}`, { cause: caught });
        }
      }
      const shown = relative(context.cwd, target) || '.';
      context.out(`created a workflows repository in ${shown}:`);
      for (const file of [...files.keys()].sort()) context.out(`  ${file}`);
      context.out('');
      context.out('next:');
      if (shown !== '.') context.out(`  cd ${shown}`);
      context.out('  npm install');
      context.out('  npx autoflow test');
      if (dependency.local) {
        context.out('');
        context.out(`package.json takes AutoFlow from this checkout (${dependency.spec}), which only this machine has.`);
        context.out('Before CI can install it, publish AutoFlow to your registry (npm publish in the checkout) and');
        context.out(`depend on that version instead: "autoflow": "^${packageJson.version}".`);
      }
    });
}
