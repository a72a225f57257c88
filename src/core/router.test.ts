import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMemoryStore } from '../store/memory/memory-store.js';
import type { CloudEvent, DeployedDefinition, StoredEvent, TriggerSpec } from './model.js';
import {
  type ChainLimitSkip,
  matchesOnlyAddressedTypes,
  type OwnAccount,
  type OwnEventSkip,
  ownActorOf,
  planRouting,
  triggerFor,
} from './router.js';

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

/** An event of `type` that no GitLab user caused, with `extra` attributes (an extension such as `autoflowchain`). */
const plain = (type: string, extra: Record<string, unknown> = {}): StoredEvent => ({
  specversion: '1.0',
  id: `e-${type}`,
  source: 'autoflow:test',
  type,
  subject: 'rel-4',
  data: { approved: false },
  seq: 7,
  receivedAt: 0,
  ...extra,
});

describe('events addressed to one run', () => {
  const catchAll = [definition('everything', [{ event: '*' }]), definition('ours', [{ event: 'autoflow.*' }])];

  test("a signal or a task's answer starts no run, even for a trigger on '*' or 'autoflow.*'; a task's events for the outside do", async () => {
    const store = createMemoryStore();
    for (const type of ['autoflow.signal.promote', 'autoflow.task.closed']) {
      const routing = await planRouting(store, plain(type), [...catchAll, definition('exact', [{ event: type }])], 0);
      assert.deepEqual(routing.newRuns, [], type);
    }
    for (const type of ['autoflow.task.opened', 'autoflow.task.reminder']) {
      const routing = await planRouting(store, plain(type), catchAll, 0);
      assert.deepEqual(
        routing.newRuns.map((run) => run.workflow),
        ['everything', 'ours'],
        type,
      );
    }
  });

  test('a trigger whose type can only be one of them is told apart, for the deploy warning', () => {
    for (const pattern of ['autoflow.signal.approve', 'autoflow.signal.*', 'autoflow.task.closed'])
      assert.ok(matchesOnlyAddressedTypes(pattern), pattern);
    for (const pattern of ['*', 'autoflow.*', 'autoflow.sig*', 'autoflow.task.*', 'autoflow.task.opened', 'com.example.signal.x']) {
      assert.ok(!matchesOnlyAddressedTypes(pattern), pattern);
    }
  });
});

describe('chains of emits', () => {
  const definitions = [
    definition('loop', [{ event: 'com.example.other' }, { event: 'com.acme.loop' }]),
    definition('watcher', [{ event: 'com.acme.*' }]),
  ];

  test('an event 8 emits led to still starts runs; one 9 led to starts none, and each workflow skipped is told once', async () => {
    const store = createMemoryStore();
    const skips: ChainLimitSkip[] = [];
    const onChainLimit = (skip: ChainLimitSkip) => void skips.push(skip);
    const eighth = await planRouting(store, plain('com.acme.loop', { autoflowchain: 8 }), definitions, 0, { onChainLimit });
    assert.deepEqual(
      eighth.newRuns.map((run) => run.workflow),
      ['loop', 'watcher'],
    );
    assert.equal(skips.length, 0);
    const notACount = await planRouting(store, plain('com.acme.loop', { autoflowchain: '99' }), definitions, 0, { onChainLimit });
    assert.equal(notACount.newRuns.length, 2, 'a chain that is not a count counts as none');

    const ninth = plain('com.acme.loop', { autoflowchain: 9 });
    const routing = await planRouting(store, ninth, definitions, 0, { onChainLimit });
    assert.deepEqual(routing.newRuns, []);
    assert.equal(routing.markRouted, true, 'it is routed (to waits), not left in the inbox');
    assert.deepEqual(
      skips.map(({ definition: d, trigger, event: e, chain }) => [d.name, trigger, e.id, chain]),
      [
        ['loop', 1, ninth.id, 9],
        ['watcher', 0, ninth.id, 9],
      ],
    );
  });
});
