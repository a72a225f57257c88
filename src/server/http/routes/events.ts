import { Hono } from 'hono';
import { z } from 'zod';
import { CONTROL_CHARACTER, CONTROL_CHARACTER_ISSUE } from '../../../app/operations-impl.js';
import type { Operations } from '../../../app/operations.js';
import { MAX_EVENT_TYPE_CHARS, textProblem } from '../../../core/storable-json.js';
import type { Json } from '../../../core/model.js';
import type { Logger } from '../../../core/ports.js';
import type { AppEnv } from '../env.js';
import { HttpError } from '../errors.js';
import { queryInteger, readBody, readQuery } from '../input.js';

/** A media type (`application/json; charset=utf-8`) is short; RFC 6838 caps its two names at 127 characters each. */
const MAX_MEDIA_TYPE_CHARS = 255;

/**
 * The longest id, source, type and subject a CloudEvent may have, in UTF-16 code units (JavaScript's `length`). Each is
 * a key of a PostgreSQL index (source and id together in `dedupe_key`, `type` in two, `subject` in `events_by_subject`),
 * whose entries hold at most 2,704 bytes; at three bytes of UTF-8 per code unit at most, 400 + 1 + 400 fit, and so do
 * 500. The subject's is emit's (capabilities/emit.ts).
 */
export const EVENT_ATTRIBUTE_LIMITS = { id: 400, source: 400, type: MAX_EVENT_TYPE_CHARS, subject: 500 } as const;

/**
 * Refuses what the stores cannot index or hold: beyond `limit` characters, U+0000, a lone surrogate. Where control
 * characters are refused already, U+0000 (one of them) is not named twice.
 */
const storable =
  (limit: number, controlRefused = false) =>
  (value: string, context: z.RefinementCtx) => {
    if (value.length > limit) context.addIssue({ code: 'custom', message: `at most ${limit} characters (this one has ${value.length})` });
    const problem = textProblem(value);
    if (problem !== undefined && !(controlRefused && CONTROL_CHARACTER.test(value))) {
      context.addIssue({ code: 'custom', message: `contains ${problem}` });
    }
  };

const nonEmpty = (what: string) => z.string(what).min(1, what);
const keyPart = (what: string, limit: number) =>
  nonEmpty(what)
    .refine((value) => !CONTROL_CHARACTER.test(value), CONTROL_CHARACTER_ISSUE)
    .superRefine(storable(limit, true));

/**
 * A CloudEvent 1.0 in structured JSON mode. Extension attributes are accepted and dropped: the
 * engine's events carry only the core attributes, and refusing them would break senders that add
 * tracing extensions. Binary data would be dropped too, so it is refused instead.
 */
const cloudEventSchema = z.object(
  {
    specversion: z.literal('1.0', "'1.0' (CloudEvents 1.0)"),
    id: keyPart('a non-empty string', EVENT_ATTRIBUTE_LIMITS.id),
    source: keyPart('a non-empty string (URI-reference)', EVENT_ATTRIBUTE_LIMITS.source),
    // Triggers match types by glob (`com.gitlab.events.issue_*`): a `*` or a space in a type would match by accident.
    type: nonEmpty('a non-empty string')
      .regex(/^[^\s*]+$/u, 'a type without spaces or `*`, reverse-DNS like com.example.deployed')
      .superRefine(storable(EVENT_ATTRIBUTE_LIMITS.type)),
    subject: z.string('a string').superRefine(storable(EVENT_ATTRIBUTE_LIMITS.subject)).optional(),
    time: z.iso.datetime({ offset: true, error: 'an RFC 3339 timestamp' }).optional(),
    datacontenttype: z.string('a media type').superRefine(storable(MAX_MEDIA_TYPE_CHARS)).optional(),
    // Parsed from the request's JSON, so JSON: not checked again here. How deep it may nest is the engine's check
    // (Engine.ingest), made once for every way in; z.json() would recurse and overflow on data nested 150,000 deep.
    data: z.custom<Json>().optional(),
    data_base64: z.never('absent: binary data is not supported, send JSON in `data`').optional(),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'a CloudEvent: a JSON object with specversion, id, source and type' : undefined) },
);

const listSchema = z.object({
  limit: queryInteger(1, 500).optional(),
  before: queryInteger(0, Number.MAX_SAFE_INTEGER).optional(),
  type: z.string().min(1, 'an event type').optional(),
});

const STRUCTURED_TYPES = new Set(['application/cloudevents+json', 'application/json']);

/** What `ingestEvent` adds for a redelivery that differs from the stored event (see operations-impl.ts). */

/** `/api/v1/events`: the durable inbox for outside events. */
export function eventRoutes(operations: Operations, logger?: Logger): Hono<AppEnv> {
  return new Hono<AppEnv>()
    .post('/', async (c) => {
      const mediaType = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (!STRUCTURED_TYPES.has(mediaType)) {
        throw new HttpError(
          415,
          'unsupported_media_type',
          `send one CloudEvent in structured mode with Content-Type application/cloudevents+json or application/json (got ${mediaType || 'none'})`,
        );
      }
      const { data_base64: _binary, ...event } = await readBody(c, cloudEventSchema);
      const { bodyDiffers, storedType, ...result } = await operations.ingestEvent(event);
      if (bodyDiffers) {
        // The new event is dropped: a sender that reuses ids would lose events without a trace.
        logger?.warn(
          { seq: result.seq, source: event.source, id: event.id, type: event.type, storedType },
          `a CloudEvent came again with the source and id of stored event ${result.seq} (${storedType ?? event.type}) but another type or body; the stored one is kept and the new one dropped: check that the sender gives each event its own id`,
        );
      }
      return c.json(result, 202);
    })
    .get('/', async (c) => {
      const { limit, before, type } = readQuery(c, listSchema);
      return c.json({ events: await operations.listEvents({ limit, beforeSeq: before, type }) });
    });
}
