import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freezeStatus } from './calendar.js';

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
