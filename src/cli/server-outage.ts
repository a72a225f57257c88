import { setTimeout as pause } from 'node:timers/promises';
import { AutoflowError } from '../core/errors.js';
import { ApiError, ServerUnreachableError } from './client.js';
import { StillRunningError } from './errors.js';

/**
 * Network errors of a server that is down or restarting: the connection is refused, or it is cut (a SIGTERM closes
 * the long poll in flight). A name that does not resolve is not among them: that is a wrong --url, not an outage.
 */
const AWAY_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/** What a proxy or load balancer in front of AutoFlow answers while no server is behind it. */
const AWAY_STATUSES = new Set([502, 503, 504]);

const FIRST_PAUSE_MS = 500;
const LONGEST_PAUSE_MS = 5_000;

/** Without --timeout, how long a server may stay away before waiting gives up. */
export const LONGEST_OUTAGE_MS = 10 * 60_000;

/** Why the server is taken to be away for now, or undefined when `error` is an answer (or another failure). */
export function outageReason(error: unknown): string | undefined {
  if (error instanceof ServerUnreachableError) return error.reason !== undefined && AWAY_CODES.has(error.reason) ? error.reason : undefined;
  if (error instanceof ApiError && AWAY_STATUSES.has(error.status)) return `it answered ${error.status}`;
  return undefined;
}

/** How a script waits for a run again, once this command has given up. */
export const waitAgain = (runId: string): string => `\`autoflow wait ${runId}\``;

/** The server stayed away longer than waiting goes on for. The run may well go on there. */
export class ServerAwayError extends AutoflowError {
  constructor(url: string, runId: string, reason: string) {
    super(
      'server_away',
      `AutoFlow at ${url} could not be reached for ${LONGEST_OUTAGE_MS / 60_000} minutes (${reason}); run ${runId} may still be going on there: once the server is back, wait again with ${waitAgain(runId)}`,
    );
  }
}

export interface OutageClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: OutageClock = { now: () => Date.now(), sleep: (ms) => pause(ms) };

export interface RideOutOptions {
  /** The server's base URL and the run waited for: what the notes and errors name. */
  url: string;
  runId: string;
  /** `--timeout`: when waiting ends (epoch ms) and how long it was (s), for the message. Without it, an outage may last LONGEST_OUTAGE_MS. */
  timeout?: { deadline: number; seconds: number };
  /** Writes a note for the person waiting (stderr). */
  note: (line: string) => void;
  clock?: OutageClock;
}

/**
 * `call`, again and again while the server is away (down, restarting, a proxy without a backend): a wait must not
 * fail, nor look like a failed run, because the server restarted while the run goes on. While it is away, `probe`
 * (a quick request) asks whether it is back, after a pause that grows from 0.5 s to 5 s; a note says once that the
 * server was lost, and once that it is back. Gives up when --timeout passes (StillRunningError, as a run that did not
 * end in time), or, without one, after LONGEST_OUTAGE_MS away (ServerAwayError). Any other error is thrown at once.
 */
export async function rideOutOutages<T>(call: () => Promise<T>, probe: () => Promise<unknown>, options: RideOutOptions): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (caught) {
      const reason = outageReason(caught);
      if (reason === undefined) throw caught;
      await untilBack(reason, probe, options);
    }
  }
}

async function untilBack(firstReason: string, probe: () => Promise<unknown>, options: RideOutOptions): Promise<void> {
  const { url, runId, timeout, note } = options;
  const clock = options.clock ?? realClock;
  const since = clock.now();
  const giveUpAt = timeout?.deadline ?? since + LONGEST_OUTAGE_MS;
  note(`lost AutoFlow at ${url} (${firstReason}); run ${runId} goes on there: trying to reach it again`);
  let reason = firstReason;
  for (let wait = FIRST_PAUSE_MS; ; wait = Math.min(wait * 2, LONGEST_PAUSE_MS)) {
    const now = clock.now();
    if (now >= giveUpAt) {
      if (timeout === undefined) throw new ServerAwayError(url, runId, reason);
      throw new StillRunningError(
        `--timeout (${timeout.seconds} s) passed while AutoFlow at ${url} could not be reached (for the last ${Math.round((now - since) / 1000)} s: ${reason}); run ${runId} may still be running there: wait again with ${waitAgain(runId)}`,
      );
    }
    await clock.sleep(Math.min(wait, giveUpAt - now));
    try {
      await probe();
      note(`AutoFlow at ${url} answers again; waiting for run ${runId}`);
      return;
    } catch (caught) {
      const again = outageReason(caught);
      if (again === undefined) throw caught;
      reason = again;
    }
  }
}
