import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDuration, parseDuration } from '../../durations.js';
import { parseDueDate, spokenDate } from './due-dates.js';
import { extractCommands } from './extract.js';

const NAMES = ['label', 'labels', 'close', 'assign'];

describe('extractCommands (GitLab’s extractor)', () => {
  test('takes command lines out with their arguments and the blank lines after them', () => {
    const { text, commands } = extractCommands('Summary\n/label ~a ~"b c"\n\n\n/CLOSE\nMore\n/assign @x  \n', NAMES);
    assert.equal(text, 'Summary\nMore');
    assert.deepEqual(commands, [
      { name: 'label', arg: '~a ~"b c"' },
      { name: 'close', arg: undefined },
      { name: 'assign', arg: '@x' },
    ]);
  });

  test('leaves unknown commands, indented ones and mentions of commands inside a line as text', () => {
    const body = '/cc @x\n/remilestone %v1\n /close\nPlease /close it\n/closeit\n/label\t~a';
    assert.deepEqual(extractCommands(body, NAMES), { text: body, commands: [] });
  });

  test('skips fenced code, quotes of >>>, HTML blocks and text between backticks that spans lines', () => {
    const body = [
      '```',
      '/close',
      '```',
      '>>>',
      '/close',
      '>>>',
      '<details>',
      '/close',
      '</details>',
      'Run `this',
      '/close',
      'and that`',
      '/label ~a',
    ].join('\n');
    const { text, commands } = extractCommands(body, NAMES);
    assert.deepEqual(commands, [{ name: 'label', arg: '~a' }]);
    assert.equal(text, body.replace('\n/label ~a', ''));
  });

  test('removes carriage returns and trailing whitespace, as GitLab stores the text', () => {
    assert.deepEqual(extractCommands('Hello\r\n/close\r\n', NAMES), { text: 'Hello', commands: [{ name: 'close', arg: undefined }] });
    assert.equal(extractCommands('/close', NAMES).text, '');
  });
});

describe('durations (GitLab’s time tracking units)', () => {
  test('reads weeks of 5 days, days of 8 hours, months of 4 weeks; a bare number is hours', () => {
    assert.equal(parseDuration('1w 3d 2h 14m'), 144_000 + 3 * 28_800 + 2 * 3600 + 14 * 60);
    assert.equal(parseDuration('1h30m'), 5400);
    assert.equal(parseDuration('1.5h'), 5400);
    assert.equal(parseDuration('3'), 3 * 3600);
    assert.equal(parseDuration('1mo'), 20 * 28_800);
    assert.equal(parseDuration('-30m'), -1800);
    assert.equal(parseDuration('0'), 0);
    for (const bad of ['soon', '1 fortnight', '', 'h']) assert.equal(parseDuration(bad), undefined, bad);
  });

  test('writes the largest units first, as GitLab’s human_* fields do', () => {
    assert.equal(formatDuration(144_000 + 3 * 28_800 + 2 * 3600 + 14 * 60), '1w 3d 2h 14m');
    assert.equal(formatDuration(-5400), '1h 30m');
    assert.equal(formatDuration(0), null);
  });
});

describe('due dates', () => {
  const monday = Date.parse('2026-01-05T09:00:00Z');

  test('reads dates, relative days and weekdays from the clock’s day', () => {
    const read = (text: string): string | undefined => parseDueDate(text, monday);
    assert.equal(read('2026-01-31'), '2026-01-31');
    assert.equal(read('today'), '2026-01-05');
    assert.equal(read('tomorrow'), '2026-01-06');
    assert.equal(read('in 2 days'), '2026-01-07');
    assert.equal(read('in 1 month'), '2026-02-05');
    assert.equal(read('Friday'), '2026-01-09');
    assert.equal(read('this friday'), '2026-01-09');
    assert.equal(read('monday'), '2026-01-12', 'the next one after today');
    assert.equal(read('December 31st'), '2026-12-31');
    assert.equal(read('Jan 1'), '2027-01-01', 'a day of this year already past means next year');
    assert.equal(read('31 March 2027'), '2027-03-31');
    for (const bad of ['2026-02-30', 'someday', 'Smarch 3']) assert.equal(read(bad), undefined, bad);
  });

  test('are spoken as GitLab’s messages write them', () => {
    assert.equal(spokenDate('2026-01-09'), 'Jan 9, 2026');
  });
});
