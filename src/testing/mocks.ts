import type { Json } from '../core/model.js';
import type { Capability, CapabilityContext } from '../core/ports.js';
import { mockGuard, type MockGuardOptions } from './mock-guards.js';

/**
 * Answers the calls of one capability in a test: `method` and `args` as the workflow passed them
 * (`http.request({...})` → `('request', {...})`). Return the result, or throw to fail the call —
 * a plain Error is retried like a network failure, a `CapabilityError` with `retryable: false` is not.
 */
export type MockHandler = (method: string, args: Json, context: CapabilityContext) => Json | Promise<Json>;

/**
 * A capability answered by a function: `mockCapability('http', (method, args) => ...)`. The built-in capabilities'
 * permission checks (`http`, `activities`, `secrets`, `gitlab`) run first, with the errors production gives: a mock
 * stands in for the service, not for the workflow's permissions.
 */
export function mockCapability(name: string, handler: MockHandler, options: MockGuardOptions = {}): Capability {
  const answer = async (method: string, args: Json, context: CapabilityContext): Promise<Json> => handler(method, args, context);
  const guard = mockGuard(name, answer, options);
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
 * The capabilities of a test environment, each behind a forwarder: the runtime is built once with
 * the forwarders, so that `env.mock(name, …)` can swap what answers a capability at any moment of
 * a test, and restoring puts the real one back.
 */
export class CapabilitySwitch {
  private readonly real = new Map<string, Capability>();
  private readonly mocks = new Map<string, Capability>();

  constructor(
    capabilities: readonly Capability[],
    private readonly guardOptions: MockGuardOptions = {},
  ) {
    for (const capability of capabilities) this.real.set(capability.name, capability);
  }

  /** What the runtime is given: one forwarder per name. */
  forwarders(): Capability[] {
    return [...this.real.values()].map((real) => ({
      name: real.name,
      invoke: (method, args, context) => (this.mocks.get(real.name) ?? real).invoke(method, args, context),
      ...(real.storesArguments === true && { storesArguments: true }),
    }));
  }

  /** Answers `name` with `handler` until the returned function is called. */
  mock(name: string, handler: MockHandler): () => void {
    if (!this.real.has(name)) {
      throw new Error(
        `capability '${name}' cannot be mocked after the environment was created: the engine only knows ${[...this.real.keys()].join(', ')}. ` +
          `Pass it at creation instead: createTestEnv({ mocks: { ${name}: handler } })`,
      );
    }
    const mock = mockCapability(name, handler, this.guardOptions);
    this.mocks.set(name, mock);
    return () => {
      if (this.mocks.get(name) === mock) this.mocks.delete(name);
    };
  }
}
