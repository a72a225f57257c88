/**
 * How a wait rides out a server that is away, on a clock of the test's own: the pauses between attempts, the notes,
 * and when it gives up (the real restart: wait-through-restart.test.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NotFoundError } from '../core/errors.js';
import { ApiError, ServerUnreachableError } from './client.js';
import { exitCodeOf } from './errors.js';
import { LONGEST_OUTAGE_MS, rideOutOutages, type OutageClock, type RideOutOptions } from './server-outage.js';

const URL = 'http://autoflow.test';

const refused = (): ServerUnreachableError =>
  new ServerUnreachableError(URL, new TypeError('fetch failed', { cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }) }));

/** A clock whose sleeps pass at once, and are recorded. */
function fakeClock(): OutageClock & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: (ms) => {
      slept.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

/** What fails `failures` times with `error()`, then answers `answer`. */
function failingTimes<T>(failures: number, error: () => Error, answer: T): () => Promise<T> {
  let calls = 0;
  return () => (++calls <= failures ? Promise.reject(error()) : Promise.resolve(answer));
}

function options(clock: OutageClock, notes: string[], extra: Partial<RideOutOptions> = {}): RideOutOptions {
  return { url: URL, runId: 'r-1', note: (line) => notes.push(line), clock, ...extra };
}

test('a server that is back after a few attempts: the pauses grow from 0.5 s to 5 s, and the notes say lost and back once', async () => {
  const clock = fakeClock();
  const notes: string[] = [];
  const result = await rideOutOutages(failingTimes(1, refused, 'ended'), failingTimes(6, refused, null), options(clock, notes));
  assert.equal(result, 'ended');
  assert.deepEqual(clock.slept, [500, 1000, 2000, 4000, 5000, 5000, 5000]);
  assert.deepEqual(notes, [
    `lost AutoFlow at ${URL} (ECONNREFUSED); run r-1 goes on there: trying to reach it again`,
    `AutoFlow at ${URL} answers again; waiting for run r-1`,
  ]);
});

test('a proxy answering 502, 503 or 504 is a server away; another answer is thrown at once', async () => {
  for (const status of [502, 503, 504]) {
    const notes: string[] = [];
    const answer = failingTimes(1, () => new ApiError(status, `http_${status}`, 'no backend'), 'ended');
    assert.equal(await rideOutOutages(answer, () => Promise.resolve(), options(fakeClock(), notes)), 'ended');
    assert.match(notes[0] ?? '', new RegExp(`\\(it answered ${status}\\)`));
  }
  for (const error of [new ApiError(500, 'internal', 'it broke'), new NotFoundError('run', 'r-1')]) {
    const clock = fakeClock();
    await assert.rejects(
      rideOutOutages(
        failingTimes(1, () => error, 'ended'),
        () => Promise.resolve(),
        options(clock, []),
      ),
      error,
    );
    assert.deepEqual(clock.slept, [], 'no retry');
  }
  const unknownHost = new ServerUnreachableError(
    URL,
    new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }) }),
  );
  await assert.rejects(
    rideOutOutages(
      failingTimes(1, () => unknownHost, 'ended'),
      () => Promise.resolve(),
      options(fakeClock(), []),
    ),
    unknownHost,
    'a name that does not resolve is a wrong --url',
  );
});

test('without --timeout, a server away for 10 minutes ends the wait with exit 1, saying the run may go on and how to wait again', async () => {
  const clock = fakeClock();
  const error = await rideOutOutages(
    () => Promise.reject(refused()),
    () => Promise.reject(refused()),
    options(clock, []),
  ).catch((caught: unknown) => caught);
  assert.ok(error instanceof Error);
  assert.equal(exitCodeOf(error), 1);
  assert.equal(
    error.message,
    `AutoFlow at ${URL} could not be reached for 10 minutes (ECONNREFUSED); run r-1 may still be going on there: once the server is back, wait again with \`autoflow wait r-1\``,
  );
  assert.equal(clock.now(), LONGEST_OUTAGE_MS, 'not a moment longer');
});

test('with --timeout, the wait ends when it passes, as a timeout (exit 124), saying the server could not be reached lately', async () => {
  const clock = fakeClock();
  const timeout = { deadline: 3_000, seconds: 3 };
  const error = await rideOutOutages(
    () => Promise.reject(refused()),
    () => Promise.reject(refused()),
    options(clock, [], { timeout }),
  ).catch((caught: unknown) => caught);
  assert.ok(error instanceof Error);
  assert.equal(exitCodeOf(error), 124);
  assert.equal(
    error.message,
    `--timeout (3 s) passed while AutoFlow at ${URL} could not be reached (for the last 3 s: ECONNREFUSED); run r-1 may still be running there: wait again with \`autoflow wait r-1\``,
  );
  assert.deepEqual(clock.slept, [500, 1000, 1500], 'the last pause ends at the deadline');
});
