import type { ErrorInfo, HistoryEvent, Json } from '../core/model.js';

/** One call a run made, as its history records it. */
export interface RecordedCall {
  /** The call's step: its position among the run's durable commands. */
  step: number;
  capability: string;
  method: string;
  /** The arguments as stored (secret values appear as `{{secret:NAME}}`). */
  args: Json;
  /** `pending` while no outcome is recorded yet (in flight, or waiting to be retried). */
  status: 'completed' | 'failed' | 'pending';
  /** Present when `completed`. */
  result?: Json;
  /** Present when `failed`: the last attempt's error. */
  error?: ErrorInfo;
  /** Attempts it took, once it has an outcome. */
  attempts?: number;
  /** Where the workflow made the call (`file:line:column`). */
  site?: string;
}

/**
 * The calls of a run in the order the workflow made them, each with its outcome: what a test
 * asserts on to check "what did my workflow do", without mocking every capability.
 */
export function callsOf(history: readonly HistoryEvent[]): RecordedCall[] {
  const calls = new Map<number, RecordedCall>();
  for (const event of history) {
    switch (event.type) {
      case 'call_scheduled': {
        const call: RecordedCall = {
          step: event.step,
          capability: event.capability,
          method: event.method,
          args: event.args,
          status: 'pending',
        };
        if (event.site !== undefined) call.site = event.site;
        calls.set(event.step, call);
        break;
      }
      case 'call_completed':
      case 'call_failed': {
        const call = calls.get(event.step);
        if (!call) break;
        call.attempts = event.attempts;
        if (event.type === 'call_completed') {
          call.status = 'completed';
          call.result = event.value;
        } else {
          call.status = 'failed';
          call.error = event.error;
        }
        break;
      }
      default:
        break;
    }
  }
  return [...calls.values()];
}
