import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError } from '../core/errors.js';
import { loadConfig } from './index.js';

const cwd = mkdtempSync(join(tmpdir(), 'autoflow-config-username-'));
after(() => rmSync(cwd, { recursive: true, force: true }));

test('gitlabUsername: from AUTOFLOW_GITLAB_USERNAME, a leading @ dropped; none by default; a name GitLab cannot have is refused', async () => {
  assert.equal((await loadConfig({ env: {}, cwd })).gitlabUsername, undefined);
  assert.equal((await loadConfig({ env: { AUTOFLOW_GITLAB_USERNAME: '@autoflow-bot' }, cwd })).gitlabUsername, 'autoflow-bot');
  assert.equal((await loadConfig({ env: { AUTOFLOW_GITLAB_USERNAME: 'group_42_bot_1f' }, cwd })).gitlabUsername, 'group_42_bot_1f');
  await assert.rejects(
    loadConfig({ env: { AUTOFLOW_GITLAB_USERNAME: 'Auto Flow' }, cwd }),
    (error: unknown) =>
      error instanceof ConfigError &&
      /gitlabUsername from env AUTOFLOW_GITLAB_USERNAME is .*a GitLab username, such as autoflow-bot/.test(error.message),
  );
});
