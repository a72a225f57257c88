/**
 * The capabilities a test environment has in place of a server's configuration: what reaches outside (`http`,
 * `gitlab`) refuses to unless the test says where to, and the advice of every error names what a test changes —
 * `createTestEnv({ secrets, activities, mocks })`, `env.mock` — instead of a server's `autoflow.config.ts`.
 */
import { createActivitiesCapability, type ActivityFunction } from '../capabilities/activities.js';
import { checkHttpRequest, createHttpCapability } from '../capabilities/http.js';
import { createSecretSource, createSecretsCapability } from '../capabilities/secrets.js';
import { CapabilityError } from '../core/errors.js';
import type { Capability } from '../core/ports.js';
import { isStandIn } from './standins/http-server.js';

export interface EnvCapabilityOptions {
  secrets?: Record<string, string>;
  activities?: Record<string, ActivityFunction>;
  /** The test's own fetch: `http` then sends requests, as on a server. */
  fetch?: typeof fetch;
  /** The simulated GitLab's capability, when the test gave a seed. */
  gitlab?: Capability;
}

/** How a test answers a capability with a function, for the advice of its errors. */
const mockAdvice = (name: string): string => `mock ${name}: createTestEnv({ mocks: { ${name}: handler } }) or env.mock('${name}', handler)`;

/**
 * Tests run without a network: a request no mock answers fails at once, not retried (a retry would not send it either),
 * instead of reaching whatever listens at its URL — unless autoflow/testing's own stand-ins serve it (Prometheus, a
 * Flux Receiver, `listenLoopback`), which the test started as it would write a mock. The permission check runs first,
 * as on a server.
 */
function offlineHttp(): Capability {
  const standIns = createHttpCapability();
  return {
    name: 'http',
    invoke: async (method, args, context) => {
      const { url } = checkHttpRequest(method, args, context);
      if (isStandIn(url)) return standIns.invoke(method, args, context);
      throw new CapabilityError(
        'http_not_mocked',
        `http.request to ${url.href} was not sent: a test environment has no network. Answer it with a mock, ` +
          `createTestEnv({ mocks: { http: (method, args) => ({ status: 200, headers: {}, body: … }) } }) or env.mock('http', handler); ` +
          'serve it from a stand-in (listenLoopback); or give createTestEnv a fetch of your own to send it with',
        { retryable: false, details: { url: url.href } },
      );
    },
  };
}

/** Without a seed there is no GitLab to call; the capability exists all the same, so that env.mock can answer it. */
function absentGitLab(): Capability {
  return {
    name: 'gitlab',
    invoke: (method) =>
      Promise.reject(
        new CapabilityError(
          'gitlab_not_simulated',
          `gitlab.${method} was not sent: this test environment has no GitLab. Give it a simulated one, ` +
            `createTestEnv({ gitlab: demoSeed() }), or ${mockAdvice('gitlab')}`,
          { retryable: false },
        ),
      ),
  };
}

/** `http`, `secrets`, `activities` and `gitlab` as a test environment has them (module comment). */
export function envCapabilities(options: EnvCapabilityOptions): Capability[] {
  const secrets = createSecretSource(options.secrets ?? {});
  return [
    options.fetch ? createHttpCapability({ fetch: options.fetch }) : offlineHttp(),
    createSecretsCapability(secrets, {
      howToConfigure: (name) =>
        `give it to the test environment, createTestEnv({ secrets: { ${name}: '…' } }), or ${mockAdvice('secrets')}`,
    }),
    createActivitiesCapability(options.activities ?? {}, {
      secrets,
      howToRegister: (name) =>
        `give it to the test environment, createTestEnv({ activities: { ${name}: async (args) => … } }), or ${mockAdvice('activities')}`,
    }),
    options.gitlab ?? absentGitLab(),
  ];
}
