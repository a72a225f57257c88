/**
 * Logging from workflow code: `log.info(...)` and `console.*` become `log` commands stored with
 * the run. A replay re-executes code that already logged, so nothing is emitted while replaying.
 */
import type { LogLevel } from '../core/model.js';
import { currentRuntime } from './runtime.js';

function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    return String(value);
  }
  try {
    return JSON.stringify(value);
  } catch {
    // Circular structures and the like: the best we can do.
    return Object.prototype.toString.call(value);
  }
}

/** A util.format-lite: strings as they are, errors as `Name: message`, anything else as JSON. */
export function formatLogArgs(args: readonly unknown[]): string {
  return args.map(formatValue).join(' ');
}

type LogFunction = (...args: unknown[]) => void;

const writer =
  (level: LogLevel): LogFunction =>
  (...args) =>
    currentRuntime().log(level, formatLogArgs(args));

export const log: Record<LogLevel, LogFunction> = {
  debug: writer('debug'),
  info: writer('info'),
  warn: writer('warn'),
  error: writer('error'),
};

/** The sandbox's `console`, writing to the run's log. */
export function createConsole(): Record<'log' | 'info' | 'warn' | 'error' | 'debug' | 'trace', LogFunction> {
  return { log: log.info, info: log.info, warn: log.warn, error: log.error, debug: log.debug, trace: log.debug };
}
