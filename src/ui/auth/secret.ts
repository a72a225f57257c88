import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SESSION_SECRET_FILE = 'session-secret';

/**
 * The key that signs session cookies: the configured one (AUTOFLOW_SESSION_SECRET; every server
 * of a scale-out deployment needs the same), else one generated once and kept in `dataDir`
 * (mode 0600) so that sessions survive a restart, else — no data folder (memory: database) — one
 * for this process only.
 */
export function loadSessionSecret(options: { configured?: string | undefined; dataDir?: string | undefined }): { secret: string; source: 'configured' | 'file' | 'ephemeral' } {
  if (options.configured !== undefined) return { secret: options.configured, source: 'configured' };
  if (options.dataDir === undefined) return { secret: randomBytes(32).toString('base64url'), source: 'ephemeral' };
  const path = join(options.dataDir, SESSION_SECRET_FILE);
  try {
    const stored = readFileSync(path, 'utf8').trim();
    if (stored.length >= 32) return { secret: stored, source: 'file' };
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error;
  }
  mkdirSync(options.dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  try {
    // `wx`: when two processes start at once, the first file wins and the second reads it.
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return { secret, source: 'file' };
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
    return { secret: readFileSync(path, 'utf8').trim(), source: 'file' };
  }
}
