/** Calendar questions the sandbox cannot answer alone (it has no time-zone database). */
import { callCapability } from './capabilities.js';
import { now } from './durable.js';

export const calendar = {
  /**
   * The next time after now that a cron pattern matches, in `timezone` (IANA name, default UTC),
   * summer time included. A durable call: a replay gets the same answer.
   *
   * @example
   * await sleep.until(await calendar.next('0 9 * * MON', { timezone: 'Europe/Berlin' }));
   */
  async next(cron: string, options: { timezone?: string } = {}): Promise<Date> {
    const at = await callCapability<number>('calendar', 'next', {
      cron,
      after: now().getTime(),
      ...(options.timezone !== undefined && { timezone: options.timezone }),
    });
    return new Date(at);
  },
};
