import { createSecretSource } from '../../src/capabilities/secrets.js';
import { pino } from 'pino';
import { Engine, type EngineOptions } from '../../src/core/engine.js';

/**
 * An engine for virtual-time tests: silent, without capabilities or secrets unless given, and
 * without the poll and heartbeat timers, so that only what the test drives happens.
 */
export function virtualTimeEngine(options: Pick<EngineOptions, 'store' | 'sandbox' | 'clock'> & Partial<EngineOptions>): Engine {
  return new Engine({
    logger: pino({ level: 'silent' }),
    capabilities: new Map(),
    secrets: createSecretSource({}),
    nodeId: 'test',
    pollIntervalMs: null,
    ...options,
  });
}
