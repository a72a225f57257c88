import { calendar, gitlab, log, now, race, sleep, startChild, tasks, workflow, type FormOutcome, type Member } from 'autoflow';

/**
 * The retrospective bot. When a milestone closes (or its due date passes), it waits until the
 * next Monday 09:00 in the team's time zone, opens an issue for each member of the project's
 * group with a link to their form (went well / went wrong / praise), pings whoever has not answered
 * after two days, and — once every form is in or a week has passed — opens one issue with all the
 * answers, assigned to the group's manager, mentioning everyone.
 */
const SETTINGS = {
  /** Projects whose milestones get a retrospective; the issues are opened there. */
  projects: ['demo/app'],
  /** GitLab groups have no time zone of their own: the team's is set here. */
  timezone: 'Europe/Berlin',
  /** When the forms go out: Mondays 09:00. */
  start: '0 9 * * MON',
  remindAfter: '2d',
  collectFor: 7 * 24 * 60 * 60 * 1000,
};

interface Retro {
  project: string;
  milestoneId: number;
}

type Input = { type: string; data?: MilestoneHook } | { scan: true } | Retro;

interface MilestoneHook {
  project?: { path_with_namespace?: string };
  object_attributes?: { id?: number };
}

const FIELDS = [
  { name: 'wentWell', label: 'What went well?', type: 'textarea' as const, maxLength: 5000 },
  { name: 'wentWrong', label: 'What went wrong?', type: 'textarea' as const, maxLength: 5000 },
  { name: 'praise', label: 'Who deserves praise, and for what?', type: 'textarea' as const, required: false, maxLength: 5000 },
];

const retroRunId = (retro: Retro): string => `retrospective-${retro.project.replace(/\W+/g, '-')}-${retro.milestoneId}`;

/** The group that owns the project: its members are the team. */
const groupOf = (project: string): string => project.slice(0, project.lastIndexOf('/'));

/** The manager: the member with the highest role (Owner, else Maintainer…), the first by username on a tie. */
function managerOf(members: Member[]): Member | undefined {
  return [...members].sort((a, b) => b.access_level - a.access_level || a.username.localeCompare(b.username))[0];
}

/** A child run per milestone, with an id of its own: a close and a due date never start two. */
async function startFor(retro: Retro): Promise<void> {
  await startChild('retrospective', retro as never, { id: retroRunId(retro) });
}

/** The daily check: milestones of the configured projects whose due date has passed and that are still open. */
async function startForDueMilestones(): Promise<number> {
  const today = now().toISOString().slice(0, 10);
  let started = 0;
  for (const project of SETTINGS.projects) {
    const milestones = await gitlab.milestones.list({ project }, { state: 'active' }, { all: true });
    for (const milestone of milestones) {
      if (milestone.due_date === null || milestone.due_date >= today) continue;
      await startFor({ project, milestoneId: milestone.id });
      started++;
    }
  }
  return started;
}

function section(title: string, answers: Array<{ user: string; text: string | undefined }>): string {
  const lines = answers.filter((answer) => answer.text).map((answer) => `- @${answer.user}: ${answer.text!.replace(/\n+/g, ' ')}`);
  return `## ${title}\n\n${lines.length ? lines.join('\n') : '_Nothing._'}`;
}

async function runRetrospective(retro: Retro) {
  const { project } = retro;
  const milestone = await gitlab.milestones.get({ project }, retro.milestoneId);
  const start = await calendar.next(SETTINGS.start, { timezone: SETTINGS.timezone });
  log.info(`retrospective of ${milestone.title} starts at ${start.toISOString()}`);
  await sleep.until(start);
  const deadline = start.getTime() + SETTINGS.collectFor;

  // The account AutoFlow acts as is a member too, and its name gives it away only by chance: an access token's
  // bot user is `project_123_bot_…` or `group_45_bot_…`. The members API does not say who is a bot.
  const self = (await gitlab.users.current()).username;
  const members = (await gitlab.members.listAll({ group: groupOf(project) }, undefined, { all: true })).filter(
    (member) => member.state === 'active' && member.username !== self,
  );
  const manager = managerOf(members);

  const answers = await Promise.all(
    members.map(async (member) => {
      const form = await tasks.openForm({
        title: `Retrospective: ${milestone.title}`,
        description: `Looking back at [${milestone.title}](${milestone.web_url}). Your answers are shared with the team.`,
        fields: FIELDS,
        assignees: [member.username],
        timeout: deadline - now().getTime(),
      });
      const issue = await gitlab.issues.create(project, {
        title: `Your retrospective for ${milestone.title}`,
        description: `@${member.username}, please tell us how ${milestone.title} went: ${form.url}`,
        assignee_ids: [member.id],
      });
      const early = await race({ answer: form.result(), ping: sleep(SETTINGS.remindAfter) });
      if (early.key === 'ping') {
        await gitlab.notes.create({
          project,
          issueIid: issue.iid,
          body: `@${member.username} friendly ping: your retrospective form is still open — ${form.url}`,
        });
      }
      const outcome: FormOutcome = await form.result();
      await gitlab.issues.close(project, issue.iid);
      return { user: member.username, outcome };
    }),
  );

  const submitted = answers.flatMap(({ user, outcome }) => (outcome.status === 'submitted' ? [{ user, values: outcome.values }] : []));
  const pick = (key: string) => submitted.map(({ user, values }) => ({ user, text: values[key] as string | undefined }));
  const silent = answers.filter(({ outcome }) => outcome.status !== 'submitted').map(({ user }) => `@${user}`);
  const summary = await gitlab.issues.create(project, {
    title: `Retrospective: ${milestone.title}`,
    description: [
      `Answers from ${submitted.length} of ${members.length} team members.`,
      section('What went well', pick('wentWell')),
      section('What went wrong', pick('wentWrong')),
      section('Praise', pick('praise')),
      silent.length ? `No answer from ${silent.join(', ')}.` : 'Everyone answered.',
      `cc ${members.map((member) => `@${member.username}`).join(' ')}`,
    ].join('\n\n'),
    ...(manager && { assignee_ids: [manager.id] }),
  });
  return { issue: summary.iid, answered: submitted.length, members: members.length };
}

export default workflow({
  name: 'retrospective',
  description: 'A retrospective per milestone: forms for the whole team on the next Monday, reminders, one summary issue',
  triggers: [{ event: 'com.gitlab.events.milestone_closed' }, { cron: '0 6 * * *', timezone: SETTINGS.timezone, input: { scan: true } }],
  permissions: { gitlab: { projects: SETTINGS.projects, groups: SETTINGS.projects.map(groupOf) } },
  async run(input: Input) {
    if ('scan' in input) return { started: await startForDueMilestones() };
    if ('type' in input) {
      const project = input.data?.project?.path_with_namespace;
      const attributes = input.data?.object_attributes;
      if (!project || !SETTINGS.projects.includes(project) || attributes?.id === undefined) return { skipped: 'not a configured project' };
      const retro = { project, milestoneId: attributes.id };
      await startFor(retro);
      return { started: retroRunId(retro) };
    }
    return runRetrospective(input);
  },
});
