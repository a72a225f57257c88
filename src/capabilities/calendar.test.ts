import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capabilityContext } from '../../test/helpers/capability-context.js';
import { createCalendarCapability, freezeStatus } from './calendar.js';

// GitLab's documented example: a freeze from Friday 23:00 to Monday 07:00.
const weekend = { id: 1, freeze_start: '0 23 * * 5', freeze_end: '0 7 * * 1', cron_timezone: 'UTC' };

test('a freeze period holds from an occurrence of its start to the next occurrence of its end', () => {
  assert.equal(freezeStatus([weekend], new Date('2026-01-09T22:59:00Z')).frozen, false, 'Friday 22:59');
  const saturday = freezeStatus([weekend], new Date('2026-01-10T12:00:00Z'));
  assert.equal(saturday.frozen, true);
  assert.equal(saturday.endsAt, '2026-01-12T07:00:00.000Z');
  assert.equal(freezeStatus([weekend], new Date('2026-01-12T07:00:00Z')).frozen, false, 'Monday 07:00 ends it');
  assert.equal(freezeStatus([weekend], new Date('2026-01-07T12:00:00Z')).frozen, false, 'midweek');
});

test('cron_timezone is honoured: 23:00 in Berlin is 22:00 UTC in winter', () => {
  const berlin = { ...weekend, cron_timezone: 'Europe/Berlin' };
  assert.equal(freezeStatus([berlin], new Date('2026-01-09T22:30:00Z')).frozen, true);
  assert.equal(freezeStatus([weekend], new Date('2026-01-09T22:30:00Z')).frozen, false);
});

test('date: the calendar date a time falls on in a time zone; an unknown zone or an abbreviation is refused', async () => {
  const calendar = createCalendarCapability();
  const at = Date.parse('2026-03-31T11:00:00Z');
  assert.equal(await calendar.invoke('date', { at, timezone: 'UTC' }, capabilityContext()), '2026-03-31');
  assert.equal(await calendar.invoke('date', { at, timezone: 'Pacific/Auckland' }, capabilityContext()), '2026-04-01');
  assert.equal(await calendar.invoke('date', { at, timezone: 'America/Los_Angeles' }, capabilityContext()), '2026-03-31');
  await assert.rejects(
    calendar.invoke('date', { at, timezone: 'Mars/Olympus' }, capabilityContext()),
    /calendar\.date: "Mars\/Olympus" is not an IANA time zone/,
  );
  // Intl reads these as Dhaka and Kolkata; a London or Dublin author meant something else.
  for (const abbreviation of ['BST', 'IST']) {
    await assert.rejects(
      calendar.invoke('next', { cron: '0 9 * * *', timezone: abbreviation, after: at }, capabilityContext()),
      /not the IANA name of a place/,
    );
  }
  // POSIX inverts the sign: Etc/GMT+5 is five hours behind UTC, not ahead.
  await assert.rejects(
    calendar.invoke('date', { at, timezone: 'Etc/GMT+5' }, capabilityContext()),
    /"Etc\/GMT\+5" is UTC−5: POSIX inverts the sign of the Etc\/GMT zones, so it is not the UTC\+5 it seems to say/,
  );
  assert.equal(await calendar.invoke('date', { at, timezone: 'Etc/GMT-0' }, capabilityContext()), '2026-03-31');
  assert.equal(await calendar.invoke('date', { at, timezone: 'Etc/UTC' }, capabilityContext()), '2026-03-31');
  assert.equal(await calendar.invoke('date', { at, timezone: 'GMT' }, capabilityContext()), '2026-03-31');
});

test('next: the patterns a trigger takes, and only those; a seven-field pattern (years) is refused as a trigger is', async () => {
  const calendar = createCalendarCapability();
  const after = Date.parse('2026-03-31T11:00:00Z');
  const next = (cron: string) => calendar.invoke('next', { cron, timezone: 'Europe/Berlin', after }, capabilityContext());
  assert.equal(await next('0 9 * * 1'), Date.parse('2026-04-06T07:00:00Z'), 'Monday 09:00 in Berlin, summer time');
  assert.equal(await next('30 0 9 * * 1'), Date.parse('2026-04-06T07:00:30Z'), 'six fields: seconds first');
  assert.equal(await next('@daily'), Date.parse('2026-03-31T22:00:00Z'));
  for (const pattern of ['0 0 9 * * 1 2027', '0 9 * *', '0 25 * * *']) {
    await assert.rejects(next(pattern), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'invalid_arguments');
      assert.match(error.message, /is not a valid cron expression \(five or six fields/);
      assert.ok(error.message.includes(JSON.stringify(pattern)), error.message);
      return true;
    });
  }
});
