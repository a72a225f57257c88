/**
 * Validates the manifest a bundle declares. It comes from untrusted code, so every field is
 * checked here, on the host, and each problem is reported with its path (`triggers[1].cron`).
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { DefinitionError } from '../core/errors.js';
import type { WorkflowManifest } from '../core/model.js';

const NAME = /^[a-z0-9][a-z0-9-_.]*$/;

const names = z.array(z.string().min(1, 'must not be empty'));
const jsonObject = z.record(z.string(), z.unknown());

function validCron(pattern: string): boolean {
  try {
    new Cron(pattern, { paused: true }).stop();
    return true;
  } catch {
    return false;
  }
}

function validTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}

const eventTrigger = z.strictObject({
  event: z.string().min(1, 'must name an event type, such as com.gitlab.events.issue_updated'),
  filter: jsonObject.optional(),
});

const cronTrigger = z.strictObject({
  cron: z.string().refine(validCron, 'is not a valid cron expression (five or six fields, e.g. "0 6 * * 1")'),
  timezone: z.string().refine(validTimeZone, 'is not an IANA time zone (e.g. "Europe/Berlin")').optional(),
  input: z.unknown().optional(),
});

// Each trigger is checked against the shape its key announces, so a mistake gets one precise
// message instead of a union's list of everything it could have been.
const trigger = z.unknown().superRefine((value, ctx) => {
  const shape =
    typeof value === 'object' && value !== null && 'event' in value
      ? eventTrigger
      : typeof value === 'object' && value !== null && 'cron' in value
        ? cronTrigger
        : undefined;
  if (!shape) {
    ctx.addIssue({ code: 'custom', message: 'a trigger is { event, filter? } or { cron, timezone?, input? }' });
    return;
  }
  for (const issue of shape.safeParse(value).error?.issues ?? []) {
    ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
  }
});

const manifestSchema = z.strictObject({
  name: z.string({ error: 'is required: give the workflow a name' }).regex(NAME, {
    error: (issue) =>
      `must be lower case letters, digits, '-', '_' or '.', starting with a letter or digit (got ${JSON.stringify(issue.input)})`,
  }),
  description: z.string().optional(),
  triggers: z.array(trigger),
  permissions: z.strictObject({
    http: names.optional(),
    secrets: names.optional(),
    activities: names.optional(),
    gitlab: z
      .strictObject({
        projects: names.optional(),
        groups: names.optional(),
        access: z.enum(['read', 'write']).optional(),
      })
      .optional(),
  }),
  inputSchema: jsonObject.optional(),
  validatesInput: z.boolean(),
});

function pathOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)),
    '',
  );
}

/** The manifest, or a DefinitionError naming the origin file and every bad field. */
export function parseManifest(raw: unknown, origin: string): WorkflowManifest {
  const result = manifestSchema.safeParse(raw);
  if (result.success) return result.data as WorkflowManifest;
  const problems = result.error.issues.map((issue) => `  ${pathOf(issue.path) || '(declaration)'}: ${issue.message}`);
  throw new DefinitionError(`${origin}: the workflow({...}) declaration is invalid:\n${problems.join('\n')}`, {
    details: { origin, problems },
  });
}
