import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMemoryStore } from '../store/memory/memory-store.js';
import type { CloudEvent, DeployedDefinition, StoredEvent, TriggerSpec } from './model.js';
import { type OwnAccount, type OwnEventSkip, ownActorOf, planRouting, triggerFor } from './router.js';

const event = (username: string | undefined, type = 'com.gitlab.events.issue_updated'): StoredEvent => ({
  specversion: '1.0',
  id: `e-${username ?? 'nobody'}`,
  source: 'https://gitlab.example.com/acme/app',
  type,
  data: { object_attributes: { iid: 1, title: 'LOOP 1' }, ...(username === undefined ? {} : { user: { username } }) },
  seq: 1,
  receivedAt: 0,
});

const definition = (name: string, triggers: TriggerSpec[]): DeployedDefinition => ({
  version: `${name}-v1`,
  name,
  manifest: { name, triggers, permissions: {}, validatesInput: false },
  bundle: '',
  deployedAt: 0,
});

/** An account read from `data.user.username`, as the app layer gives it for GitLab's hooks. */
const account = (name: string | undefined, skipped: OwnEventSkip[] = []): OwnAccount => ({
  name: () => name,
  actorOf: (e: CloudEvent) => {
    const user = (e.data as { user?: { username?: string } } | undefined)?.user;
    return user?.username;
  },
  skipped: (skip) => skipped.push(skip),
});

const ISSUES: TriggerSpec = { event: 'com.gitlab.events.issue_updated', filter: { 'object_attributes.title': { glob: 'LOOP*' } } };

describe('own events (the rule)', () => {
  test("the event's actor counts as AutoFlow's when it is the account, compared without regard to case", () => {
    assert.equal(ownActorOf(event('autoflow-bot'), account('autoflow-bot')), 'autoflow-bot');
    assert.equal(ownActorOf(event('AutoFlow-Bot'), account('autoflow-bot')), 'AutoFlow-Bot');
    assert.equal(ownActorOf(event('alice'), account('autoflow-bot')), undefined);
    assert.equal(ownActorOf(event(undefined), account('autoflow-bot')), undefined, 'an event that names nobody is nobody’s');
    assert.equal(ownActorOf(event('autoflow-bot'), account(undefined)), undefined, 'an account not known yet skips nothing');
    assert.equal(ownActorOf(event('autoflow-bot'), undefined), undefined);
  });

  test('a trigger that matches an own event does not start a run; the first such trigger is named', () => {
    const own = event('autoflow-bot');
    const result = triggerFor(definition('loop', [{ event: 'com.example.x' }, ISSUES]), own, own, 'autoflow-bot');
    assert.deepEqual(result, { trigger: undefined, skipped: 1 });
  });

  test('includeOwnEvents: true takes own events, also as a later trigger of the same definition', () => {
    const own = event('autoflow-bot');
    const opted: TriggerSpec = { ...ISSUES, includeOwnEvents: true };
    assert.deepEqual(triggerFor(definition('loop', [opted]), own, own, 'autoflow-bot'), { trigger: opted, skipped: undefined });
    assert.deepEqual(triggerFor(definition('loop', [ISSUES, opted]), own, own, 'autoflow-bot'), { trigger: opted, skipped: undefined });
    const refused: TriggerSpec = { ...ISSUES, includeOwnEvents: false };
    assert.deepEqual(triggerFor(definition('loop', [refused]), own, own, 'autoflow-bot'), { trigger: undefined, skipped: 0 });
  });

  test("someone else's event, or one that does not match, skips nothing", () => {
    const other = event('alice');
    assert.deepEqual(triggerFor(definition('loop', [ISSUES]), other, other, undefined), { trigger: ISSUES, skipped: undefined });
    const pipeline = event('autoflow-bot', 'com.gitlab.events.pipeline_failed');
    assert.deepEqual(triggerFor(definition('loop', [ISSUES]), pipeline, pipeline, 'autoflow-bot'), {
      trigger: undefined,
      skipped: undefined,
    });
  });
});

describe('own events (planRouting)', () => {
  test('starts no run for an own event and says which workflow and trigger it skipped; other workflows are unaffected', async () => {
    const store = createMemoryStore();
    const skipped: OwnEventSkip[] = [];
    const definitions = [definition('loop', [ISSUES]), definition('chained', [{ ...ISSUES, includeOwnEvents: true }])];
    const own = event('autoflow-bot');
    const routing = await planRouting(store, own, definitions, 0, { ownAccount: account('autoflow-bot', skipped) });
    assert.deepEqual(
      routing.newRuns.map((run) => run.workflow),
      ['chained'],
    );
    assert.deepEqual(
      skipped.map(({ definition: d, trigger, event: e, actor }) => [d.name, trigger, e.id, actor]),
      [['loop', 0, own.id, 'autoflow-bot']],
    );

    const byAlice = await planRouting(store, event('alice'), definitions, 0, { ownAccount: account('autoflow-bot', skipped) });
    assert.deepEqual(
      byAlice.newRuns.map((run) => run.workflow),
      ['loop', 'chained'],
    );
    const unknown = await planRouting(store, own, definitions, 0, { ownAccount: account(undefined, skipped) });
    assert.equal(unknown.newRuns.length, 2, 'while the account is not known, nothing is skipped');
    assert.equal(skipped.length, 1);
  });
});
