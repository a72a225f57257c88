import { createSystemClock } from '../app/clocks.js';
import type { Json } from '../core/model.js';
import type { Capability, CapabilityContext, Clock } from '../core/ports.js';
import type { CallsInFlight } from './in-flight.js';
import { mockGuard, type MockGuardOptions } from './mock-guards.js';
import { mockedHttp } from './mock-http.js';

/**
 * Answers the calls of one capability in a test: `method` and `args` as the workflow passed them
 * (`http.request({...})` → `('request', {...})`). Return the result, or throw to fail the call —
 * a plain Error is retried like a network failure, a `CapabilityError` with `retryable: false` is not.
 */
export type MockHandler = (method: string, args: Json, context: CapabilityContext) => Json | Promise<Json>;

export interface MockOptions extends MockGuardOptions {
  /** What a mocked `http` request's `timeoutMs` runs on: the test environment's virtual clock. @default the system clock */
  clock?: Clock;
}

/**
 * A capability answered by a function: `mockCapability('http', (method, args) => ...)`. The built-in capabilities'
 * permission checks (`http`, `activities`, `secrets`, `gitlab`) run first, with the errors production gives: a mock
 * stands in for the service, not for the workflow's permissions. A mocked `http` answer goes through the capability's
 * handling of statuses and timeouts too (mock-http.ts): `{ status: 404 }` rejects with `HttpError`, 503 is retried.
 */
export function mockCapability(name: string, handler: MockHandler, options: MockOptions = {}): Capability {
  const handled = async (method: string, args: Json, context: CapabilityContext): Promise<Json> => handler(method, args, context);
  const answer = name === 'http' ? mockedHttp(handled, options.clock ?? createSystemClock()) : handled;
  const guard = mockGuard(name, handled, options);
  return {
    name,
    invoke: guard
      ? async (method, args, context) => {
          await guard(method, args, context);
          return answer(method, args, context);
        }
      : answer,
  };
}

/**
 * The capabilities of a test environment, each behind a forwarder: the runtime puts every capability it has — its own
 * (`emit`, `tasks`, `calendar`…) and those the environment gives it — behind one (`forward`, the runtime's
 * `wrapCapability`), so that `env.mock(name, …)` can swap what answers any of them at any moment of a test, and
 * restoring puts the real one back.
 */
export class CapabilitySwitch {
  private readonly real = new Map<string, Capability>();
  private readonly mocks = new Map<string, Capability>();
  /** What answers in test code, its attempts tracked in `inFlight`: the mocks, and the capabilities named at creation. */
  private readonly answeredByTest = new Map<Capability, Capability['invoke']>();

  /**
   * `testAnswered`: the capabilities that test code answers (the mocks given to createTestEnv), tracked in `inFlight`
   * as every mock is; the others (a simulated GitLab, stand-ins, activities) are waited for as in production.
   */
  constructor(
    private readonly inFlight: CallsInFlight,
    testAnswered: readonly Capability[],
    private readonly mockOptions: MockOptions = {},
  ) {
    for (const capability of testAnswered) this.answeredByTest.set(capability, inFlight.track(capability));
  }

  /** What the engine calls instead of `real`: a mock of its name while there is one, else `real`. */
  forward(real: Capability): Capability {
    this.real.set(real.name, real);
    return {
      name: real.name,
      invoke: (method, args, context) => {
        const target = this.mocks.get(real.name) ?? real;
        const invoke = this.answeredByTest.get(target);
        return invoke ? invoke(method, args, context) : target.invoke(method, args, context);
      },
      ...(real.storesArguments === true && { storesArguments: true }),
    };
  }

  /** Answers `name` with `handler` until the returned function is called. */
  mock(name: string, handler: MockHandler): () => void {
    if (!this.real.has(name)) {
      throw new Error(
        `capability '${name}' cannot be mocked after the environment was created: its engine has no capability of that name, only ${[...this.real.keys()].join(', ')}. ` +
          `To add one, pass it at creation: createTestEnv({ mocks: { ${name}: handler } })`,
      );
    }
    const mock = mockCapability(name, handler, this.mockOptions);
    this.mocks.set(name, mock);
    this.answeredByTest.set(mock, this.inFlight.track(mock));
    return () => {
      if (this.mocks.get(name) === mock) this.mocks.delete(name);
      this.answeredByTest.delete(mock);
    };
  }
}
