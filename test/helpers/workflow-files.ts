import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Test workflows live under the repo's git-ignored .tmp/, so that imports of npm packages resolve. */
const TMP_ROOT = fileURLToPath(new URL('../../.tmp/', import.meta.url));

export interface WorkflowFolder {
  dir: string;
  /** Path of a file written into the folder. */
  path(name: string): string;
  write(name: string, source: string): string;
  remove(): void;
}

export function workflowFolder(files: Record<string, string> = {}): WorkflowFolder {
  mkdirSync(TMP_ROOT, { recursive: true });
  const dir = mkdtempSync(join(TMP_ROOT, 'wf-'));
  const folder: WorkflowFolder = {
    dir,
    path: (name) => join(dir, name),
    write(name, source) {
      const path = join(dir, name);
      writeFileSync(path, source);
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  for (const [name, source] of Object.entries(files)) folder.write(name, source);
  return folder;
}
