import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DefinitionError } from '../core/errors.js';
import type { TriagePolicies } from '../sdk/triage-policy.js';
import { expandBraces } from './triage-policy-conditions.js';
import { readTriagePolicies } from './triage-policy-file.js';

const FIXTURES = new URL('../../test/fixtures/triage-policies/', import.meta.url);

function fixture(name: string): { policies: TriagePolicies; warnings: string[] } {
  return readTriagePolicies(readFileSync(new URL(name, FIXTURES), 'utf8'), name);
}

/** The problems a file is refused for, one per line of the DefinitionError. */
function problems(read: () => unknown): string[] {
  try {
    read();
  } catch (error) {
    assert.ok(error instanceof DefinitionError, `expected a DefinitionError, got ${String(error)}`);
    return (error.details as { problems: string[] }).problems;
  }
  assert.fail('expected the file to be refused');
}

function inline(yaml: string): { policies: TriagePolicies; warnings: string[] } {
  return readTriagePolicies(yaml, '.triage-policies.yml');
}

function issueRule(body: string): string {
  return `resource_rules:\n  issues:\n    rules:\n      - name: R\n${body.replace(/^/gm, '        ')}\n`;
}

test('GNOME: host_url (kept, and warned about), dates, labels and actions of both resources', () => {
  const { policies, warnings } = fixture('GNOME__network-manager-applet__.triage-policies.yml');
  assert.deepEqual(warnings, [
    'GNOME__network-manager-applet__.triage-policies.yml:1: host_url: AutoFlow calls the GitLab its server is configured with, not https://gitlab.gnome.org; remove this key, or run the workflow on a server configured for that GitLab',
  ]);
  assert.equal(policies.hostUrl, 'https://gitlab.gnome.org');
  assert.equal(policies.file, 'GNOME__network-manager-applet__.triage-policies.yml');
  assert.deepEqual(
    policies.issues.rules.map((rule) => rule.name),
    ['Close issues with no activity for 6 months', 'Close RFE with no activity for 12 months', 'Clear auto-closed label for open issues'],
  );
  const [first] = policies.issues.rules;
  assert.deepEqual(first?.conditions, {
    date: { attribute: 'updated_at', condition: 'older_than', intervalType: 'months', interval: 6 },
    state: 'opened',
  });
  assert.equal(first?.actions.status, 'close');
  assert.deepEqual(first?.actions.labels, ['auto-closed']);
  assert.deepEqual(policies.issues.rules[1]?.conditions.labels, { kind: 'all_of_one', alternatives: [['1. Enhancement']] });
  assert.deepEqual(policies.mergeRequests.rules[1]?.actions, { removeLabels: ['auto-closed'] });
});

test('gitlabhq: the merge key injects forbidden_labels; legacy upvotes, No Milestone, No Label, member conditions, mention', () => {
  const { policies } = fixture('gitlabhq__gitlabhq__.triage-policies.yml');
  assert.equal(policies.issues.rules.length, 6);
  assert.equal(policies.mergeRequests.rules.length, 3);
  const exemptions = [
    'technical debt',
    'Accepting Merge Requests',
    'backstage',
    'security',
    'customer',
    'customer+',
    'test',
    'development guidelines',
    'schema redesign',
    'direction',
  ];
  assert.deepEqual(policies.issues.rules[0]?.conditions.forbiddenLabels, exemptions);
  assert.deepEqual(policies.issues.rules[4]?.conditions.forbiddenLabels, exemptions);
  assert.equal(policies.issues.rules[1]?.conditions.forbiddenLabels, undefined);
  assert.deepEqual(policies.issues.rules[0]?.conditions.milestone, { kind: 'none' });
  assert.deepEqual(policies.issues.rules[1]?.conditions.labels, { kind: 'none' });
  assert.deepEqual(policies.issues.rules[2]?.conditions.votes, { attribute: 'upvotes', condition: 'greater_than', threshold: 10 });
  assert.deepEqual(policies.issues.rules[0]?.actions.mention, ['markglenfletcher']);
  assert.deepEqual(policies.mergeRequests.rules[1]?.conditions.authorMember, {
    source: 'group',
    condition: 'member_of',
    sourceId: 'gitlab-org',
  });
  assert.equal(policies.mergeRequests.rules[2]?.conditions.authorMember?.condition, 'not_member_of');
});

test('1g4-mirror: rules reused by alias under hidden keys; add_labels is warned about, {{author}} is a placeholder', () => {
  const { policies, warnings } = fixture('1g4-mirror__xkeyboard-config__.triage-policies.yml');
  assert.equal(policies.issues.rules.length, 6);
  assert.equal(policies.mergeRequests.rules.length, 6);
  assert.deepEqual(
    policies.mergeRequests.rules.map((rule) => rule.name),
    policies.issues.rules.map((rule) => rule.name),
  );
  const needsInfo = policies.issues.rules[1];
  assert.equal(needsInfo?.name, 'Needs information');
  assert.equal(needsInfo?.actions.labels, undefined, 'add_labels is ignored, as the gem ignores it');
  const [hi, author, rest] = needsInfo?.actions.comment ?? [];
  assert.deepEqual(
    [hi, author],
    [
      { kind: 'text', text: 'Hi ' },
      { kind: 'placeholder', name: 'author' },
    ],
  );
  assert.ok(rest?.kind === 'text' && rest.text.startsWith('! Thanks for filing this issue/merge request.'));
  assert.ok(rest.text.endsWith('“Reply to comment” of the corresponding comment.\n'));
  assert.equal(warnings.length, 2);
  for (const [index, resource] of ['issues', 'merge_requests'].entries()) {
    assert.match(
      warnings[index] ?? '',
      new RegExp(
        `^1g4-mirror__xkeyboard-config__\\.triage-policies\\.yml:33: ${resource} rule 'Needs information': actions\\.add_labels: .*ignored.*\`labels\``,
      ),
    );
  }
});

test('AOSC: actions misplaced under conditions are warned about and do nothing', () => {
  const { policies, warnings } = fixture('AOSC-Tracking__libinput__.triage-policies.yml');
  assert.equal(policies.issues.rules.length, 8);
  assert.equal(policies.mergeRequests.rules.length, 4);
  const hwdb = policies.issues.rules.find((rule) => rule.name === 'Point to 60-evdev.hwdb');
  assert.deepEqual(hwdb?.conditions, { labels: { kind: 'all_of_one', alternatives: [['bugbot::evdev-hwdb']] } });
  assert.deepEqual(hwdb?.actions, {});
  assert.deepEqual(
    warnings.map((warning) => warning.split(': ').slice(0, 3).join(': ')),
    [
      "AOSC-Tracking__libinput__.triage-policies.yml:129: issues rule 'Point to 60-evdev.hwdb': conditions.remove_labels",
      "AOSC-Tracking__libinput__.triage-policies.yml:131: issues rule 'Point to 60-evdev.hwdb': conditions.comment",
    ],
  );
  assert.match(warnings[0] ?? '', /move it under `actions`/);
});

test('aivero: labels None, forbidden labels with non-ASCII, and the days.from_now date interpolation', () => {
  const { policies } = fixture('aivero__cicd__.triage-policies.yml');
  const [unlabelled, , workflow] = policies.issues.rules;
  assert.deepEqual(unlabelled?.conditions.labels, { kind: 'none' });
  assert.equal(workflow?.conditions.forbiddenLabels?.length, 12);
  assert.equal(workflow?.conditions.forbiddenLabels?.[11], 'workflow::on ice❄');
  assert.deepEqual(unlabelled?.actions.comment, [
    { kind: 'placeholder', name: 'author' },
    { kind: 'text', text: ' This issue is unlabelled after 5 days. It needs attention. Please take care of this before the end of ' },
    { kind: 'date', days: 2, format: '%Y-%m-%d' },
    { kind: 'text', text: '\n' },
  ]);
});

test('pralab: brace expansion into alternatives, limits oldest and most_recent, mention', () => {
  const { policies } = fixture('pralab__secml__.gitlab__triage-policies.yml');
  assert.equal(policies.hostUrl, 'https://pragit.diee.unica.it');
  const [unlabelled, priority] = policies.issues.rules;
  assert.deepEqual(unlabelled?.limit, { order: 'most_recent', count: 50 });
  assert.deepEqual(unlabelled?.actions.mention, ['m.melis']);
  assert.deepEqual(priority?.limit, { order: 'oldest', count: 50 });
  assert.equal(priority?.conditions.state, 'closed');
  assert.deepEqual(priority?.conditions.labels, { kind: 'all_of_one', alternatives: [['priority-medium'], ['priority-high']] });
  assert.deepEqual(policies.mergeRequests.rules[0]?.conditions.labels, priority?.conditions.labels);
});

test('ktopcuoglu and danieldiamond: numeric source_id becomes a string; conditions-only rules have no actions', () => {
  const { policies } = fixture('ktopcuoglu__gitlab-dbt-analytics__.triage-policies.yml');
  const [sanity, triage] = policies.issues.rules;
  assert.deepEqual(sanity, {
    name: 'find all open issues - any label (simple - should be lots) -- sanity check',
    conditions: { state: 'opened' },
    actions: {},
  });
  assert.deepEqual(triage?.conditions.authorMember, { source: 'group', condition: 'not_member_of', sourceId: '4347861' });
  assert.deepEqual(triage?.conditions.assigneeMember, triage?.conditions.authorMember);
  assert.equal(triage?.conditions.forbiddenLabels?.[0], 'workflow::1 - triage');
  const minimal = fixture('danieldiamond__gitlab-analytics__.triage-policies.yml').policies;
  assert.deepEqual(minimal.issues.rules, [
    { name: 'find all open issues - any label (simple - should be lots)', conditions: { state: 'opened' }, actions: {} },
  ]);
  assert.deepEqual(minimal.mergeRequests, { rules: [], summaries: [] });
});

test('jfedorov: a tab-indented file is refused naming the file and line 5', () => {
  const found = problems(() => fixture('jfedorov__gromacs__.triage-policies.yml'));
  assert.equal(found.length, 1);
  assert.match(found[0] ?? '', /^jfedorov__gromacs__\.triage-policies\.yml:5: not valid YAML: .*tab/);
});

test('Ruby conditions are refused, every one of them, naming file, line, rule and conditions.ruby', () => {
  const networkManager = problems(() => fixture('NetworkManager__NetworkManager__.triage-policies.yml'));
  assert.deepEqual(
    networkManager.map((problem) => problem.split(': Ruby')[0]),
    [
      "NetworkManager__NetworkManager__.triage-policies.yml:45: issues rule 'Remove help-needed::* and unassigned labels on assigned issue': conditions.ruby",
      "NetworkManager__NetworkManager__.triage-policies.yml:59: issues rule 'Add help-needed::triage and unassigned labels on unassigned issues': conditions.ruby",
      "NetworkManager__NetworkManager__.triage-policies.yml:84: issues rule 'Add help-needed::investigation and unassigned labels on unassigned issues': conditions.ruby",
      "NetworkManager__NetworkManager__.triage-policies.yml:109: issues rule 'Add help-needed::devel and unassigned labels on unassigned issues': conditions.ruby",
    ],
  );
  assert.match(
    networkManager[0] ?? '',
    /Ruby code cannot run in AutoFlow; write this condition in a workflow instead \(docs\/triage\.md\)$/,
  );
  assert.deepEqual(
    problems(() => fixture('Infomaniak__kchat-webapp__.gitlab__triage-policies.yml')),
    [
      "Infomaniak__kchat-webapp__.gitlab__triage-policies.yml:27: issues rule 'Copy metadata from merge request': conditions.ruby: Ruby code cannot run in AutoFlow; write this condition in a workflow instead (docs/triage.md)",
    ],
  );
  const galactipy = problems(() => fixture('manoelpqueiroz__galactipy__.triage-policies.yml'));
  assert.equal(galactipy.length, 1);
  assert.match(galactipy[0] ?? '', /:33: issues rule 'Unflag Stale Issues': conditions\.ruby: /);
});

test('the same NetworkManager rules without Ruby: brace expansion, duplicate names kept, member_of project, comment_type thread', () => {
  const text = readFileSync(new URL('NetworkManager__NetworkManager__.triage-policies.yml', FIXTURES), 'utf8').replace(
    /^ +ruby: .*\n/gm,
    '',
  );
  const { policies } = readTriagePolicies(text, 'nm.yml');
  assert.equal(policies.issues.rules.length, 13);
  const [, first, second] = policies.issues.rules;
  assert.equal(first?.name, 'Ensure that only one workflow label is used (1/2)');
  assert.equal(second?.name, first?.name);
  assert.deepEqual(second?.conditions.labels, {
    kind: 'all_of_one',
    alternatives: [
      ['workflow::triage', 'workflow::devel'],
      ['workflow::investigation', 'workflow::devel'],
    ],
  });
  assert.deepEqual(policies.issues.rules[3]?.conditions.labels, {
    kind: 'all_of_one',
    alternatives: [
      ['help-needed::triage', 'unassigned'],
      ['help-needed::investigation', 'unassigned'],
      ['help-needed::devel', 'unassigned'],
    ],
  });
  const [, project, group, community] = policies.mergeRequests.rules;
  assert.deepEqual(project?.conditions.authorMember, {
    source: 'project',
    condition: 'member_of',
    sourceId: 'NetworkManager/NetworkManager',
  });
  assert.equal(group?.conditions.authorMember?.source, 'group');
  assert.equal(community?.actions.commentType, 'thread');
  assert.deepEqual(community?.actions.comment, [
    {
      kind: 'text',
      text: 'Attention maintainers: remember to run the CI!!\nThis MR is authored by a contributor from the community and the CI does not run automatically.',
    },
  ]);
});

test('title: WIP (the gem has no title condition and ignores it) is refused, saying to write draft: true: FreeRDP, gnutls, openconnect', () => {
  for (const [name, line] of [
    ['FreeRDP__Remmina__.triage-policies.yml', 109],
    ['gnutls__gnutls__.triage-policies.yml', 56],
    ['openconnect__ocserv__.triage-policies.yml', 25],
  ] as const) {
    const titles = problems(() => fixture(name)).filter((problem) => problem.includes('conditions.title'));
    assert.deepEqual(titles.length, 1, name);
    assert.match(
      titles[0] ?? '',
      new RegExp(
        `^${name.replace(/\./g, '\\.')}:${line}: merge_requests rule '[^']+': conditions\\.title: the gem has no \`title\` condition and ignores it, ` +
          'so this rule would act on everything its other conditions select; for draft merge requests write `draft: true` instead$',
      ),
    );
  }
  assert.match(
    problems(() => inline(issueRule('conditions:\n  title: Crash')))[0] ?? '',
    /conditions\.title: the gem has no `title` condition .*; remove it, or write a workflow that selects by title \(docs\/triage\.md\)$/,
  );
});

test('no_additional_labels without labels is refused (the gem raises ArgumentError on it), every one at its line; false still applies', () => {
  const freeRdp = problems(() => fixture('FreeRDP__Remmina__.triage-policies.yml')).filter((problem) =>
    problem.includes('no_additional_labels'),
  );
  assert.deepEqual(
    freeRdp.map((problem) => problem.split(': needs')[0]),
    [
      "FreeRDP__Remmina__.triage-policies.yml:30: issues rule 'New issue disclaimer': conditions.no_additional_labels",
      "FreeRDP__Remmina__.triage-policies.yml:46: issues rule 'Unlabelled after 8 days': conditions.no_additional_labels",
      'FreeRDP__Remmina__.triage-policies.yml:116: merge_requests rule \'Close old "WIP" policy\': conditions.no_additional_labels',
    ],
  );
  assert.match(freeRdp[0] ?? '', /ArgumentError .*; to select resources that have no label at all, replace it with `labels: \[None\]`$/);
  const { policies, warnings } = inline(issueRule('conditions:\n  labels: [bug]\n  no_additional_labels: false'));
  assert.equal(policies.issues.rules[0]?.conditions.noAdditionalLabels, true);
  assert.match(
    warnings[0] ?? '',
    /:7: issues rule 'R': conditions\.no_additional_labels: `false` does not turn it off: the gem applies it/,
  );
});

test('gnutls without the title condition, with labels None: summarize, no_additional_labels, limits, a resource field with .capitalize', () => {
  const text = readFileSync(new URL('gnutls__gnutls__.triage-policies.yml', FIXTURES), 'utf8')
    .replace('          title: WIP\n', '')
    .replaceAll('          no_additional_labels: true\n', '          labels: [None]\n          no_additional_labels: true\n');
  const { policies } = readTriagePolicies(text, 'gnutls.yml');
  const [triage] = policies.issues.rules;
  assert.deepEqual([triage?.conditions.labels, triage?.conditions.noAdditionalLabels], [{ kind: 'none' }, true]);
  assert.deepEqual(triage?.limit, { order: 'most_recent', count: 50 });
  assert.deepEqual(triage?.actions.summarize, {
    title: [
      { kind: 'field', path: ['type'], transform: 'capitalize' },
      { kind: 'text', text: ' require labels\n' },
    ],
    item: [
      { kind: 'text', text: '- [ ] [' },
      { kind: 'placeholder', name: 'title' },
      { kind: 'text', text: '](' },
      { kind: 'placeholder', name: 'web_url' },
      { kind: 'text', text: ') ' },
      { kind: 'placeholder', name: 'labels' },
      { kind: 'text', text: '\n' },
    ],
    summary: [
      { kind: 'text', text: 'The following issues require labels:\n\n' },
      { kind: 'placeholder', name: 'items' },
      { kind: 'text', text: '\n\nPlease take care of them.\n\n/label ~"needs attention"\n' },
    ],
    redactConfidential: false,
  });
  assert.equal(policies.mergeRequests.rules[0]?.conditions.date?.intervalType, 'months');
});

test('galactipy without Ruby: {{ author }} with spaces stays text (as in the gem) with a warning; \\n in folded text is a newline', () => {
  const text = readFileSync(new URL('manoelpqueiroz__galactipy__.triage-policies.yml', FIXTURES), 'utf8').replace(
    /^ {10}ruby: \|\n.*\n/m,
    '',
  );
  const { policies, warnings } = readTriagePolicies(text, 'galactipy.yml');
  const close = policies.issues.rules[2];
  assert.deepEqual(close?.conditions.authorMember, { source: 'project', condition: 'not_member_of', sourceId: 'galactipy/galactipy' });
  const comment = close?.actions.comment ?? [];
  assert.deepEqual(comment.length, 1);
  assert.ok(
    comment[0]?.kind === 'text' && comment[0].text.startsWith(':wave: Hi {{ author }},\n\n This issue has received'),
    JSON.stringify(comment),
  );
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0] ?? '',
    /^galactipy\.yml:\d+: issues rule 'Close Stales Issues': actions\.comment: `\{\{ author \}\}` has spaces.*`\{\{author\}\}`/,
  );
});

test('Infomaniak without Ruby conditions: lowercase milestone none, nested resource field, state merged', () => {
  const text = readFileSync(new URL('Infomaniak__kchat-webapp__.gitlab__triage-policies.yml', FIXTURES), 'utf8').replace(
    /^ +ruby: .*\n/m,
    '',
  );
  const { policies } = readTriagePolicies(text, 'kchat.yml');
  assert.deepEqual(policies.issues.rules[0]?.conditions.milestone, { kind: 'none' });
  assert.deepEqual(policies.issues.rules[1]?.actions.comment, [
    { kind: 'text', text: '/copy_metadata !' },
    { kind: 'field', path: ['related_merge_requests', 0, 'iid'] },
    { kind: 'text', text: '\n' },
  ]);
  assert.equal(policies.mergeRequests.rules[0]?.conditions.state, 'merged');
});

test('every problem of a file is listed, each with line, rule and key path and what to do', () => {
  const found = problems(() =>
    inline(`resource_rules:
  epics:
    rules: []
  issues:
    rules:
      - name: Bad
        conditions:
          date:
            attribute: merged_at
            condition: before
            interval_type: fortnights
            interval: soon
          state: merged
          votes:
            attribute: hearts
            condition: greater_than
            threshold: 1
          milestone: [a, b]
          labels: [None, bug]
          draft: true
        limits:
          most_recent: 0
        actions:
          status: closed
          comment_type: note
          comment: "#{resource[:author][:username].reverse} {{asignee}} #{Time.now}"
          issue:
            title: x
      - conditions:
          author_member:
            source: team
            condition: member_of
`),
  );
  const expected: [RegExp, string][] = [
    [/^\.triage-policies\.yml:2: resource_rules\.epics: not supported: /, 'epics'],
    [/:9: issues rule 'Bad': conditions\.date\.attribute: must be one of created_at, updated_at, closed_at; got "merged_at"$/, 'attribute'],
    [/:10: issues rule 'Bad': conditions\.date\.condition: must be one of older_than, newer_than; got "before"$/, 'condition'],
    [
      /:11: .*conditions\.date\.interval_type: must be one of minutes, hours, days, weeks, months, years; got "fortnights"$/,
      'interval_type',
    ],
    [/:12: .*conditions\.date\.interval: must be a number, got "soon"$/, 'interval'],
    [/:13: .*conditions\.state: must be one of opened, closed, all; got "merged"$/, 'issue state'],
    [/:15: .*conditions\.votes\.attribute: must be one of upvotes, downvotes; got "hearts"$/, 'votes'],
    [/:18: .*conditions\.milestone: give one milestone/, 'milestone'],
    [/:19: .*conditions\.labels: `None` and `Any` stand alone/, 'labels'],
    [/:20: .*conditions\.draft: only merge requests can be drafts/, 'draft'],
    [/:22: .*limits\.most_recent: must be a whole number above 0, got 0$/, 'limits'],
    [/:24: .*actions\.status: must be one of close, reopen; got "closed"$/, 'status'],
    [/:25: .*actions\.comment_type: must be one of comment, thread; got "note"$/, 'comment_type'],
    [/:26: .*actions\.comment: `#\{resource\[:author\]\[:username\]\.reverse\}`: AutoFlow cannot evaluate Ruby/, 'ruby method'],
    [/:26: .*actions\.comment: `#\{Time\.now\}`: AutoFlow cannot evaluate Ruby/, 'Time.now'],
    [/:27: .*actions\.issue: not supported by AutoFlow/, 'issue action'],
    [/:31: issues rule 2: conditions\.author_member\.source: must be one of group, project; got "team"$/, 'member source'],
    [/:30: issues rule 2: conditions\.author_member: `source_id` is required$/, 'source_id'],
  ];
  for (const [pattern, what] of expected)
    assert.ok(
      found.some((problem) => pattern.test(problem)),
      `${what}: ${pattern} not in\n${found.join('\n')}`,
    );
  assert.equal(found.length, expected.length, found.join('\n'));
});

test('unknown keys: conditions are refused, actions and top-level keys warned about; branches refused', () => {
  assert.match(
    problems(() => inline(issueRule('conditions:\n  colour: red')))[0] ?? '',
    /conditions\.colour: unknown condition; the gem ignores it, so the rule would act on more than intended/,
  );
  assert.match(problems(() => inline(issueRule('conditions:\n  weight: {}')))[0] ?? '', /conditions\.weight: not supported by AutoFlow/);
  const { warnings } = inline(`colour: blue\n${issueRule('actions:\n  add_label: [x]\n  frobnicate: 1')}`);
  assert.deepEqual(warnings, [
    '.triage-policies.yml:1: colour: unknown top-level key, ignored (the gem ignores it too)',
    ".triage-policies.yml:7: issues rule 'R': actions.add_label: unknown action, ignored (the gem ignores it too); did you mean `labels`?",
    ".triage-policies.yml:8: issues rule 'R': actions.frobnicate: unknown action, ignored (the gem ignores it too); known actions: labels, remove_labels, status, mention, move, comment, comment_type, comment_internal, redact_confidential_resources, summarize, comment_on_summary",
  ]);
  assert.match(
    problems(() => inline('resource_rules:\n  branches:\n    rules: []\n'))[0] ?? '',
    /:2: resource_rules\.branches: not supported: /,
  );
  assert.match(problems(() => inline('host_url: x\n'))[0] ?? '', /no `resource_rules:`/);
});

test('labels: scalar specials, ranges, several brace groups; action labels are not expanded', () => {
  assert.deepEqual(inline(issueRule('conditions:\n  labels: Any')).policies.issues.rules[0]?.conditions.labels, { kind: 'any' });
  assert.deepEqual(inline(issueRule('conditions:\n  labels: No Label')).policies.issues.rules[0]?.conditions.labels, { kind: 'none' });
  assert.deepEqual(expandBraces('missed:{10..11}.{0..1}'), ['missed:10.0', 'missed:10.1', 'missed:11.0', 'missed:11.1']);
  assert.deepEqual(expandBraces('team::{a,  b c }'), ['team::a', 'team::b c']);
  assert.deepEqual(expandBraces('{not a list}'), ['{not a list}']);
  const { policies, warnings } = inline(issueRule('actions:\n  labels: ["x::{a, b}"]'));
  assert.deepEqual(policies.issues.rules[0]?.actions.labels, ['x::{a, b}']);
  assert.match(warnings[0] ?? '', /actions\.labels: the gem expands `\{a, b\}` in conditions only/);
});

test('actions: mention strips @, move, comment_internal, date ago and weeks, string-keyed fields, Ruby escapes', () => {
  const { policies } = inline(
    issueRule(`actions:
  mention: ["@alice", bob]
  move: group/backlog
  comment_internal: true
  comment: "#{1.week.ago.strftime(\\"%d\\")}|#{resource['title'].upcase}|#{resource[\\"labels\\"][0].downcase}|a\\\\tb \\\\#{x}"`),
  );
  const actions = policies.issues.rules[0]?.actions;
  assert.deepEqual(actions?.mention, ['alice', 'bob']);
  assert.equal(actions?.move, 'group/backlog');
  assert.equal(actions?.commentInternal, true);
  assert.deepEqual(actions?.comment, [
    { kind: 'date', days: -7, format: '%d' },
    { kind: 'text', text: '|' },
    { kind: 'field', path: ['title'], transform: 'upcase' },
    { kind: 'text', text: '|' },
    { kind: 'field', path: ['labels', 0], transform: 'downcase' },
    { kind: 'text', text: '|a\tb #{x}' },
  ]);
});

test('summaries: a summary policy with its own rules; redaction defaults to true', () => {
  const { policies } = inline(`resource_rules:
  merge_requests:
    summaries:
      - name: Weekly
        rules:
          - name: Most commented
            conditions:
              discussions:
                attribute: threads
                condition: greater_than
                threshold: 15
            actions:
              summarize:
                item: "- {{title}}"
                summary: "{{items}}"
        actions:
          summarize:
            title: Weekly {{type}}
            summary: "{{items}}"
            destination: group/reports
`);
  const [weekly] = policies.mergeRequests.summaries;
  assert.equal(weekly?.name, 'Weekly');
  assert.deepEqual(weekly?.summarize, {
    title: [
      { kind: 'text', text: 'Weekly ' },
      { kind: 'placeholder', name: 'type' },
    ],
    item: [],
    summary: [{ kind: 'placeholder', name: 'items' }],
    destination: 'group/reports',
    redactConfidential: true,
  });
  assert.deepEqual(weekly?.rules[0]?.conditions.discussions, { attribute: 'threads', condition: 'greater_than', threshold: 15 });
  assert.deepEqual(weekly?.rules[0]?.actions.summarize?.item, [
    { kind: 'text', text: '- ' },
    { kind: 'placeholder', name: 'title' },
  ]);
  assert.match(
    problems(() => inline(issueRule('actions:\n  summarize:\n    item: x')))[0] ?? '',
    /actions\.summarize: `title` is required/,
  );
});

test("a summary policy's rules give it items only, as in the gem: their other actions are warned about and dropped", () => {
  const { policies, warnings } = inline(`resource_rules:
  issues:
    summaries:
      - name: Weekly
        rules:
          - name: Bugs
            conditions: {labels: [bug]}
            actions:
              labels: [stale]
              comment: "sub-rule comment"
              summarize: {item: "- {{title}}", summary: "{{items}}"}
        actions:
          summarize: {title: Weekly, summary: "{{items}}"}
`);
  assert.deepEqual(Object.keys(policies.issues.summaries[0]?.rules[0]?.actions ?? {}), ['summarize']);
  assert.deepEqual(
    warnings.map((warning) => warning.replace(/:\s.*?(actions\.\w+): .*/, ': $1')),
    ['.triage-policies.yml:9: actions.labels', '.triage-policies.yml:10: actions.comment'],
  );
  assert.match(warnings[0] ?? '', /the gem takes only `summarize` from a rule of a summary policy.*write a rule under `rules:`/);
});

test("names that YAML reads as floats are Ruby's text of them (milestone 16.0 stays 16.0), and a changed one is warned about", () => {
  const { policies, warnings } = inline(`resource_rules:
  issues:
    rules:
      - name: 2.5
        conditions:
          milestone: 16.0
          labels: [2.0, 1.10, 3, 1e20]
`);
  const [rule] = policies.issues.rules;
  assert.equal(rule?.name, '2.5');
  assert.deepEqual(rule?.conditions.milestone, { kind: 'title', title: '16.0' });
  assert.deepEqual(rule?.conditions.labels, { kind: 'all_of_one', alternatives: [['2.0', '1.1', '3', '1.0e+20']] });
  assert.deepEqual(warnings, [
    ".triage-policies.yml:7: issues rule '2.5': conditions.labels: `1.10` is a number in YAML, so this name is '1.1' (as the gem reads it); quote it ('1.10') if the name is '1.10'",
    ".triage-policies.yml:7: issues rule '2.5': conditions.labels: `1e20` is a number in YAML, so this name is '1.0e+20' (as the gem reads it); quote it ('1e20') if the name is '1e20'",
  ]);
});

test('an unknown placeholder is posted as written, as the gem does, with a warning; a merge request move is warned about and dropped', () => {
  const { policies, warnings } = inline(`resource_rules:
  issues:
    rules:
      - name: R
        actions:
          comment: "{{title}} by {{author.username}}"
  merge_requests:
    rules:
      - name: M
        actions:
          move: acme/other
          comment: hi
`);
  assert.deepEqual(policies.issues.rules[0]?.actions.comment, [
    { kind: 'placeholder', name: 'title' },
    { kind: 'text', text: ' by {{author.username}}' },
  ]);
  assert.match(
    warnings[0] ?? '',
    /^\.triage-policies\.yml:6: .*actions\.comment: unknown placeholder `\{\{author\.username\}\}`, posted as written \(as the gem does\); known ones: /,
  );
  assert.deepEqual(Object.keys(policies.mergeRequests.rules[0]?.actions ?? {}), ['comment']);
  assert.match(
    warnings[1] ?? '',
    /^\.triage-policies\.yml:11: merge_requests rule 'M': actions\.move: ignored: a merge request cannot be moved/,
  );
});

test('common YAML mistakes name their own line and what to write: an unclosed quote, a value starting with {{, an unknown alias', () => {
  const rule = (body: string) => `resource_rules:\n  issues:\n    rules:\n${body}      - name: B\n        actions: {}\n`;
  assert.deepEqual(
    problems(() => inline(rule('      - name: "Unclosed\n        actions:\n          comment: x\n'))),
    ['.triage-policies.yml:4: not valid YAML: the value quoted here with " has no closing "'],
  );
  assert.deepEqual(
    problems(() => inline(rule("      - name: 'It''s\n        actions: {}\n"))),
    [".triage-policies.yml:4: not valid YAML: the value quoted here with ' has no closing '"],
  );
  assert.doesNotThrow(() => inline(rule('      - name: "two \\" lines\n          closed"\n')), 'a quoted value may go on over lines');
  assert.match(
    problems(() => inline(rule('      - name: A\n        actions:\n          comment: {{author}} please look\n')))[0] ?? '',
    /^\.triage-policies\.yml:6: not valid YAML: .*; a value that starts with \{ or \[ is a YAML mapping or list: quote the whole value/,
  );
  assert.equal(
    problems(() => inline(rule('      - name: A\n        actions:\n          comment: *missing\n')))[0],
    '.triage-policies.yml:6: `*missing` names no anchor: write `&missing` on the value it stands for, above it',
  );
});

test('comment_on_summary is read beside summarize, and refused without it, as the gem refuses it', () => {
  const { policies } = inline(
    issueRule('actions:\n  summarize: {title: T, item: "- {{title}}", summary: "{{items}}"}\n  comment_on_summary: "{{title}}"'),
  );
  assert.deepEqual(policies.issues.rules[0]?.actions.commentOnSummary, [{ kind: 'placeholder', name: 'title' }]);
  assert.deepEqual(
    problems(() => inline(issueRule('actions:\n  comment_on_summary: "{{title}}"'))),
    [
      ".triage-policies.yml:6: issues rule 'R': actions.comment_on_summary: comments on the summary this rule opens, but the rule has no `summarize` (the gem refuses it too)",
    ],
  );
});

test('YAML as Psych reads it: yes is true, later keys override a merge, duplicate keys keep the last', () => {
  const { policies } = inline(`.base: &base
  state: closed
  draft: no
resource_rules:
  merge_requests:
    rules:
      - name: R
        conditions:
          state: opened
          <<: *base
          draft: yes
          source_branch: a
          source_branch: b
`);
  assert.deepEqual(policies.mergeRequests.rules[0]?.conditions, { state: 'closed', draft: true, sourceBranch: 'b' });
});

function mergeRequestRule(body: string): string {
  return `resource_rules:\n  merge_requests:\n    rules:\n      - name: M\n${body.replace(/^/gm, '        ')}\n`;
}

test('reviewer_id, which the gem passes to GitLab for merge requests: a user id, none or any; refused on issues', () => {
  const reviewer = (value: string) => inline(mergeRequestRule(`conditions:\n  reviewer_id: ${value}`)).policies.mergeRequests.rules[0];
  assert.equal(reviewer('42')?.conditions.reviewerId, 42);
  assert.equal(reviewer('any')?.conditions.reviewerId, 'any');
  assert.equal(reviewer('None')?.conditions.reviewerId, 'none');
  assert.deepEqual(
    problems(() => inline(mergeRequestRule('conditions:\n  reviewer_id: alice'))),
    [".triage-policies.yml:6: merge_requests rule 'M': conditions.reviewer_id: must be a user id (a number), `none` or `any`"],
  );
  assert.deepEqual(
    problems(() => inline(issueRule('conditions:\n  reviewer_id: 42'))),
    [".triage-policies.yml:6: issues rule 'R': conditions.reviewer_id: only merge requests have reviewers; remove it from the issue rule"],
  );
});

test('date: filter_in_ruby is kept (the gem then compares dates itself); a wrong key inside date is named at its own line', () => {
  const date = (extra: string): string =>
    issueRule(
      `conditions:\n  date:\n    attribute: updated_at\n    condition: older_than\n    interval_type: days\n    interval: 5\n${extra}`,
    );
  const { policies, warnings } = inline(date('    filter_in_ruby: true'));
  assert.deepEqual(policies.issues.rules[0]?.conditions.date, {
    attribute: 'updated_at',
    condition: 'older_than',
    intervalType: 'days',
    interval: 5,
    filterInRuby: true,
  });
  assert.equal(inline(date('    filter_in_ruby: false')).policies.issues.rules[0]?.conditions.date?.filterInRuby, undefined);
  assert.deepEqual(warnings, []);
  assert.deepEqual(
    problems(() => inline(date('    filter_in_ruby: yes please\n    in_ruby: true'))),
    [
      `.triage-policies.yml:11: issues rule 'R': conditions.date.filter_in_ruby: must be true or false, got "yes please"`,
      ".triage-policies.yml:12: issues rule 'R': conditions.date.in_ruby: unknown key; a date condition has attribute, condition, interval_type, interval and filter_in_ruby",
    ],
  );
});

test('actions: redact_confidential_resources is the comment option the gem reads; labels keep their line for run-time errors', () => {
  const { policies, warnings } = inline(
    issueRule('actions:\n  redact_confidential_resources: false\n  labels: [stale]\n  comment: "{{title}}"'),
  );
  assert.deepEqual(warnings, []);
  const actions = policies.issues.rules[0]?.actions;
  assert.equal(actions?.redactConfidential, false);
  assert.deepEqual([actions?.labels, actions?.labelsLine], [['stale'], 7]);
  assert.equal(
    inline(issueRule('actions:\n  comment: x')).policies.issues.rules[0]?.actions.redactConfidential,
    undefined,
    'true by default',
  );
});

test('milestone upcoming and started: kept for issues (GitLab timeboxes); on merge requests the gem sends a title, which is warned about', () => {
  const issues = inline(issueRule('conditions:\n  milestone: Upcoming'));
  assert.deepEqual(issues.policies.issues.rules[0]?.conditions.milestone, { kind: 'title', title: 'Upcoming' });
  assert.deepEqual(issues.warnings, []);
  const { policies, warnings } = inline(mergeRequestRule('conditions:\n  milestone: started'));
  assert.deepEqual(policies.mergeRequests.rules[0]?.conditions.milestone, { kind: 'title', title: 'started' });
  assert.match(
    warnings[0] ?? '',
    /^\.triage-policies\.yml:6: merge_requests rule 'M': conditions\.milestone: `started` is a timebox of GitLab's issue lists only: .* selects merge requests in a milestone titled 'started'/,
  );
});

test('a refused file lists its warnings too, so that one round of fixes is enough', () => {
  try {
    inline(`host_url: https://gitlab.example.com\n${issueRule('conditions:\n  ruby: "true"')}`);
    assert.fail('expected the file to be refused');
  } catch (error) {
    assert.ok(error instanceof DefinitionError);
    assert.match(
      error.message,
      /:7: issues rule 'R': conditions\.ruby: .*\nand, accepted with a warning:\n {2}\.triage-policies\.yml:1: host_url: /,
    );
  }
});

test("the resource types keep the file's order, in which triage() runs them as the gem does", () => {
  const rule = '    rules:\n      - name: R\n        actions:\n          comment: hi\n';
  const mergeRequestsFirst = inline(`resource_rules:\n  merge_requests:\n${rule}  issues:\n${rule}`).policies;
  assert.deepEqual(
    Object.keys(mergeRequestsFirst).filter((key) => key !== 'file'),
    ['mergeRequests', 'issues'],
  );
  const issuesFirst = inline(`resource_rules:\n  issues:\n${rule}  merge_requests:\n${rule}`).policies;
  assert.deepEqual(
    Object.keys(issuesFirst).filter((key) => key !== 'file'),
    ['issues', 'mergeRequests'],
  );
});
