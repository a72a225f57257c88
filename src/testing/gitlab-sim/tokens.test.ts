import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEmbeddedGitLab } from '../embedded-gitlab.js';

/** `autoflow simulate` lists these tokens as usable: each must work, and the bot's secret one stays out. */
test("the tokens the simulator announces are the demo users' working tokens", async () => {
  const { simulator } = createEmbeddedGitLab();
  const tokens = simulator.state.conventionalTokens();
  assert.deepEqual(tokens, ['alice-token', 'bob-token', 'carol-token']);
  for (const token of [...tokens, 'root-token', 'autoflow-bot-token']) {
    const response = await simulator.fetch(`${simulator.state.baseUrl}/api/v4/user`, { headers: { 'private-token': token } });
    assert.equal(response.status, tokens.includes(token) ? 200 : 401, token);
  }
});
