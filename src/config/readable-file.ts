import { accessSync, constants, statSync } from 'node:fs';
import { toError } from '../core/errors.js';

/**
 * Why this process cannot read the file at `path` (absolute), in words that follow "expected a file this server can
 * read: "; undefined when it can.
 */
export function unreadableFileProblem(path: string): string | undefined {
  try {
    if (statSync(path).isDirectory()) return `${path} is a folder`;
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (caught) {
    const error = toError(caught) as NodeJS.ErrnoException;
    switch (error.code) {
      case 'ENOENT':
        return `${path} does not exist`;
      case 'ENOTDIR':
        return `${path} does not exist: a part of its path is a file, not a folder`;
      case 'EACCES':
      case 'EPERM':
        return `the user this server runs as may not read ${path}`;
      default:
        return `${path} cannot be read (${error.message})`;
    }
  }
}
