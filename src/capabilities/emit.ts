import { z } from 'zod';
import { CapabilityError, PermissionDeniedError } from '../core/errors.js';
import { withEventChain } from '../core/event-chain.js';
import { storableJsonProblem, textProblem } from '../core/storable-json.js';
import type { CloudEvent, Json } from '../core/model.js';
import type { Capability } from '../core/ports.js';
import { parseArgs } from './args.js';

/** The longest type a workflow may emit. */
export const MAX_EMIT_TYPE_CHARS = 200;
/** As the events API: triggers match types by glob, so a `*` or a space in a type would match by accident. */
export const EMITTABLE_TYPE = /^[^\s*]+$/u;

const emitSchema = z.object({
  type: z
    .string()
    .min(1)
    .max(MAX_EMIT_TYPE_CHARS)
    .regex(
      EMITTABLE_TYPE,
      "must be one exact event type, without '*' or spaces (such as com.example.deployed); globs belong in a workflow's triggers",
    ),
  data: z.unknown().optional(),
  subject: z.string().max(500).optional(),
});

/** Types that only AutoFlow itself and GitLab may produce: a workflow must not forge them. */
export const RESERVED_PREFIXES = ['com.gitlab.', 'autoflow.'] as const;

export type Ingest = (event: CloudEvent, dedupeKey: string) => Promise<{ seq: number; duplicate: boolean }>;

export interface EmitOptions {
  /**
   * How many emits led to the event that started the run `runId` (core/event-chain.ts runEventChain), read from the
   * store by the app layer.
   */
  chainOf(runId: string): Promise<number>;
}

/**
 * `emit(type, data, { subject })`: puts a CloudEvent into the inbox, where triggers and waits
 * receive it like any external event. The event id is the call's idempotency key, so a retried
 * call stores it once. The event is stored and shown: secrets stay `{{secret:NAME}}` references.
 * It carries the chain of emits that led to it (`autoflowchain`), one more than the emitting run's,
 * by which routing ends a loop of workflows that trigger each other.
 */
export function createEmitCapability(ingest: Ingest, options: EmitOptions): Capability {
  return {
    name: 'emit',
    storesArguments: true,
    async invoke(method, raw, context): Promise<Json> {
      if (method !== 'emit') throw new CapabilityError('unknown_method', `emit has no method '${method}'`, { retryable: false });
      const args = parseArgs(emitSchema, raw, 'emit');
      const reserved = RESERVED_PREFIXES.find((prefix) => args.type.startsWith(prefix));
      if (reserved) {
        throw new PermissionDeniedError(
          `workflows may not emit events of type '${args.type}': the '${reserved}' prefix is reserved; choose your own, e.g. 'com.example.${args.type.slice(reserved.length)}'`,
        );
      }
      // Refused for good here: from ingest, the same refusal would be retried like a failing store.
      const typeProblem = textProblem(args.type);
      const subjectProblem = args.subject === undefined ? undefined : textProblem(args.subject);
      const refused =
        storableJsonProblem('data', args.data) ??
        (typeProblem === undefined ? undefined : `type: ${typeProblem}`) ??
        (subjectProblem === undefined ? undefined : `subject: ${subjectProblem}`);
      if (refused !== undefined) throw new CapabilityError('invalid_event', `emit('${args.type}'): ${refused}`, { retryable: false });
      const event: CloudEvent = {
        specversion: '1.0',
        id: context.idempotencyKey,
        source: `autoflow:workflow/${context.workflow}`,
        type: args.type,
        time: new Date(context.now).toISOString(),
        data: (args.data ?? null) as Json,
      };
      if (args.subject !== undefined) event.subject = args.subject;
      const chain = (await options.chainOf(context.runId)) + 1;
      const { seq } = await ingest(withEventChain(event, chain), `emit:${context.idempotencyKey}`);
      return { id: event.id, seq };
    },
  };
}
