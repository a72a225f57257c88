import assert from 'node:assert/strict';
import { test } from 'node:test';
import { capabilityContext } from '../../test/helpers/capability-context.js';
import { CapabilityError } from '../core/errors.js';
import { createSecretSource, createSecretsCapability } from './secrets.js';

const context = capabilityContext({ permissions: { secrets: ['CHAT_TOKEN'] } });
const messageOf = (error: unknown): string => (error instanceof CapabilityError && !error.retryable ? error.message : String(error));

test('a secret that is not configured says how to configure it: on a server, or as the embedding says', async () => {
  const onServer = createSecretsCapability(createSecretSource({}));
  assert.equal(
    messageOf(await onServer.invoke('get', { name: 'CHAT_TOKEN' }, context).catch((e: unknown) => e)),
    "secret 'CHAT_TOKEN' is not configured: set AUTOFLOW_SECRET_CHAT_TOKEN or add it to secrets in autoflow.config.ts",
  );
  const embedded = createSecretsCapability(createSecretSource({}), { howToConfigure: (name) => `pass { ${name} } to the harness` });
  assert.equal(
    messageOf(await embedded.invoke('get', { name: 'CHAT_TOKEN' }, context).catch((e: unknown) => e)),
    "secret 'CHAT_TOKEN' is not configured: pass { CHAT_TOKEN } to the harness",
  );
});
