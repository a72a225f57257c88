import type { Engine } from '../core/engine.js';
import { toError } from '../core/errors.js';
import type { Clock, Logger } from '../core/ports.js';
import type { VersionDrift } from './version-drift.js';

/** How often a node on PostgreSQL reads which workflow versions are active. */
export const DEFINITION_SYNC_MS = 2000;

/**
 * Several nodes on one PostgreSQL database each keep the active workflow versions in memory; a
 * deploy or retire through one of them is read by the others here, within `intervalMs`, so that no
 * node goes on starting runs of a retired workflow or of an old version. A version that is not the one this node's
 * own files build (`drift`) is warned of: the last deploy wins, also an old node's that restarted. Returns what stops it.
 */
export function followDefinitions(options: {
  engine: Engine;
  clock: Clock;
  logger: Logger;
  onChange: () => Promise<void>;
  /** This node's own builds, to warn when the active version of one of them is another (and set the drift gauge). */
  drift?: VersionDrift;
  intervalMs?: number;
}): () => Promise<void> {
  const { engine, clock, logger, onChange } = options;
  const intervalMs = options.intervalMs ?? DEFINITION_SYNC_MS;
  let cancel: (() => void) | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const next = (): void => {
    if (stopped) return;
    cancel = clock.schedule(clock.now() + intervalMs, () => {
      running = sync().finally(next);
    });
  };
  const sync = async (): Promise<void> => {
    try {
      if (!(await engine.syncDefinitions())) return;
      logger.info(
        { workflows: engine.definitions().map((definition) => `${definition.name}@${definition.version.slice(0, 12)}`) },
        'active workflow versions changed on another node; following them',
      );
      options.drift?.check(engine.definitions(), 'sync');
      await onChange();
    } catch (error) {
      logger.warn({ err: toError(error) }, 'reading the active workflow versions failed; trying again at the next interval');
    }
  };
  next();
  return async () => {
    stopped = true;
    cancel?.();
    await running;
  };
}
