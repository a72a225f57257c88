/**
 * What the main thread and a sandbox thread say to each other. Errors cross as plain data and are
 * rebuilt as the port's own classes, so that the engine tells a limit from a crash as it does for
 * an instance on its own thread.
 */
import { AutoflowError, DefinitionError, SandboxLimitError } from '../../core/errors.js';
import type { Activation, ActivationResult, DeployedDefinition, Json } from '../../core/model.js';
import type { InstanceOptions } from '../../core/ports.js';

/**
 * A definition crosses once per thread: later creates name its `version` only (copying a bundle and
 * its source map, ≈90 KB, took ≈1 ms per message), until the main thread says to `forget` it.
 */
export type ThreadRequest =
  | { op: 'create'; ref: number; instance: number; version: string; definition?: DeployedDefinition; options: InstanceOptions }
  | { op: 'activate'; ref: number; instance: number; activation: Activation }
  | { op: 'replay'; ref: number; instance: number; activations: Activation[] }
  | { op: 'dispose'; instance: number }
  | { op: 'forget'; version: string };

/** The requests that are answered. */
export type AnsweredRequest = Extract<ThreadRequest, { ref: number }>;

/** `heap` is the instance's memory after the request, for the engine's cache and metrics. */
export type ThreadReply =
  { ref: number; ok: true; heap: number; value?: ActivationResult | WireReplayResults } | { ref: number; ok: false; error: WireError };

export interface WireReplayResults {
  results: ActivationResult[];
  failure?: WireError;
}

export interface WireError {
  name: string;
  message: string;
  stack?: string;
  limit?: SandboxLimitError['limit'];
  /** An AutoflowError's details (a DefinitionError's origin, say). */
  details?: Json;
}

export function toWire(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const wire: WireError = { name: error.name, message: error.message };
  if (error.stack !== undefined) wire.stack = error.stack;
  if (error instanceof SandboxLimitError) wire.limit = error.limit;
  else if (error instanceof AutoflowError && error.details !== undefined) wire.details = error.details;
  return wire;
}

export function fromWire(wire: WireError): Error {
  // The stack of a limit's error is the workflow's frames under its first line (SandboxLimitError).
  if (wire.limit) return new SandboxLimitError(wire.limit, wire.message, wire.stack?.split('\n').slice(1));
  const error =
    wire.name === 'DefinitionError'
      ? new DefinitionError(wire.message, wire.details === undefined ? undefined : { details: wire.details })
      : new Error(wire.message);
  error.name = wire.name;
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
}
