import type { Logger } from '../../src/core/ports.js';

/** One line a component logged: what an operator would read. */
export interface LogEntry {
  level: string;
  data: Record<string, unknown>;
  message: string;
}

/** A Logger that keeps every line, its children's included, in `entries` (a given array, or a new one). */
export function memoryLogger(entries: LogEntry[] = []): Logger & { entries: LogEntry[] } {
  const at = (level: string) => (data: object, message?: string) =>
    void entries.push({ level, data: data as Record<string, unknown>, message: message ?? '' });
  const logger = { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

/** The messages of the lines logged at `level`, in order: what an operator reading the server's errors sees. */
export function messagesAt(entries: readonly LogEntry[], level: string): string[] {
  return entries.filter((entry) => entry.level === level).map((entry) => entry.message);
}
