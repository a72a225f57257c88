import { createHash } from 'node:crypto';
import type { SimUser } from './model.js';

/**
 * GitLab writes times differently in different places; each helper names the place. REST uses
 * ISO 8601 with milliseconds; most webhook attributes use Rails' `2015-05-17 18:08:09 UTC`.
 */

/** REST: `2026-01-05T09:00:00.000Z`. */
export const restTime = (ms: number): string => new Date(ms).toISOString();

export const restTimeOrNull = (ms: number | null): string | null => (ms === null ? null : restTime(ms));

/** Webhook attributes: `2026-01-05 09:00:00 UTC`. */
export const hookTime = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

export const hookTimeOrNull = (ms: number | null): string | null => (ms === null ? null : hookTime(ms));

/** Job hooks' `*_iso` fields: ISO 8601 without fractions. */
export const isoSeconds = (ms: number): string => `${new Date(ms).toISOString().slice(0, 19)}Z`;

export const isoSecondsOrNull = (ms: number | null): string | null => (ms === null ? null : isoSeconds(ms));

/** A calendar date, as due dates and expiry dates are stored. */
export const dateOnly = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Seconds between two times, as GitLab's `duration` fields. */
export const seconds = (from: number | null, to: number | null): number | null =>
  from === null || to === null ? null : Math.round((to - from) / 1000);

/** GitLab's default avatar: a Gravatar identicon of the user's email. */
export const avatarUrl = (user: SimUser): string =>
  `https://www.gravatar.com/avatar/${createHash('md5').update(user.email.trim().toLowerCase()).digest('hex')}?s=80&d=identicon`;

/** A git object id: deterministic, so that equal content in equal places gives equal shas. */
export const gitSha = (...parts: string[]): string => createHash('sha1').update(parts.join('\0')).digest('hex');

/** `workflow::ready` → `workflow`; `a::b::c` → `a::b`; an unscoped label has no scope. */
export function labelScope(name: string): string | null {
  const at = name.lastIndexOf('::');
  return at <= 0 ? null : name.slice(0, at);
}

/** GitLab picks black or white text so that the label stays readable on its colour. */
export function textColor(color: string): string {
  const hex = color.replace('#', '');
  const full = hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex;
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16) || 0) as [number, number, number];
  return r * 0.299 + g * 0.587 + b * 0.114 > 186 ? '#333333' : '#FFFFFF';
}

/** A merge request whose title starts with `Draft:`, `[Draft]` or `(Draft)` cannot be merged. */
export const isDraft = (title: string): boolean => /^\s*(\[draft\]|\(draft\)|draft:)/i.test(title);

/** A calendar date as GitLab accepts it for due and start dates: `YYYY-MM-DD`. */
export const isDate = (value: string): boolean => /^\d{4}-\d{2}-\d{2}$/.test(value);
