import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../core/errors.js';

export const SESSION_SECRET_FILE = 'session-secret';

/** A shorter key is refused: it could be guessed, and an empty one cannot sign at all. */
const MIN_SECRET_LENGTH = 32;

function readStored(path: string): string {
  const stored = readFileSync(path, 'utf8').trim();
  if (stored.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(
      `the web UI session secret in ${path} is ${stored.length === 0 ? 'empty' : `${stored.length} characters long`}; it needs at least ${MIN_SECRET_LENGTH}. ` +
        `Delete the file to have a new one generated at the next start (everyone signed in is signed out), or write one: ` +
        `node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))" > ${path}`,
      { details: { path, length: stored.length } },
    );
  }
  return stored;
}

/**
 * The key that signs session cookies: the configured one (AUTOFLOW_SESSION_SECRET; every server
 * of a scale-out deployment needs the same), else one generated once and kept in `dataDir`
 * (mode 0600) so that sessions survive a restart, else — no data folder (memory: database) — one
 * for this process only. A stored key shorter than 32 characters is refused (ConfigError naming the file).
 */
export function loadSessionSecret(options: { configured?: string | undefined; dataDir?: string | undefined }): { secret: string; source: 'configured' | 'file' | 'ephemeral' } {
  if (options.configured !== undefined) return { secret: options.configured, source: 'configured' };
  if (options.dataDir === undefined) return { secret: randomBytes(32).toString('base64url'), source: 'ephemeral' };
  const path = join(options.dataDir, SESSION_SECRET_FILE);
  try {
    return { secret: readStored(path), source: 'file' };
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error;
  }
  mkdirSync(options.dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  // Written whole under another name, then linked into place: when two processes start at once,
  // the first link wins and the second reads a complete file, never one still being written.
  const draft = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(draft, path);
    return { secret, source: 'file' };
  } catch (error) {
    const { code } = error as { code?: string };
    if (code === 'EEXIST') return { secret: readStored(path), source: 'file' };
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
    // A file system without hard links: `wx` instead, where the first file wins.
    try {
      writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
      return { secret, source: 'file' };
    } catch (again) {
      if ((again as { code?: string }).code !== 'EEXIST') throw again;
      return { secret: readStored(path), source: 'file' };
    }
  } finally {
    unlinkSync(draft);
  }
}
