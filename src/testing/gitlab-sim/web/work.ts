import { html } from 'hono/html';
import { isDraft } from '../format.js';
import type { SimIssue, SimMergeRequest, SimMilestone, SimProject } from '../model.js';
import { discussionsOf, notesOf } from '../ops/discussions.js';
import { closingIssues } from '../ops/merge-requests.js';
import { type Content, type Html, type View, page } from './layout.js';
import {
  type Fact,
  badge,
  facts,
  labels,
  muted,
  newestFirst,
  pipelines,
  reference,
  text,
  userLink,
  users,
  when,
  workItems,
} from './parts.js';

/** The comments on an issue or merge request, thread by thread, oldest first; `#note_<id>` is the anchor hooks link to. */
function notes(view: View, item: SimIssue | SimMergeRequest): Html {
  const threads = discussionsOf(notesOf(view.state, item));
  if (threads.length === 0) return html`<p class="muted">No comments.</p>`;
  return html`${threads.map((thread) =>
    thread.map(
      (note, index) =>
        html`<article class="${index === 0 ? 'note' : 'note reply'}" id="note_${note.id}">
          <div>
            ${userLink(view, note.authorId)} ${muted('commented')}
            ${when(note.createdAt)}${note.internal && html` ${badge('internal')}`}${note.system && html` ${badge('system')}`}
          </div>
          ${text(note.body, '(empty)')}
        </article>`,
    ),
  )}`;
}

/** What issues and merge requests share: people, labels, milestone, times. */
function commonFacts(view: View, item: SimIssue | SimMergeRequest): Fact[] {
  const milestone = item.milestoneId === null ? undefined : view.state.milestones.get(item.milestoneId);
  return [
    ['Author', userLink(view, item.authorId)],
    ['Assignees', users(view, item.assigneeIds)],
    ['Labels', labels(view, item.labelIds)],
    ['Milestone', milestone ? html`<a href="${view.to.milestone(milestone)}">${milestone.title}</a>` : muted('none')],
    ['Created', when(item.createdAt)],
    ['Updated', when(item.updatedAt)],
    ['Closed', item.closedAt !== null && html`${when(item.closedAt)} by ${userLink(view, item.closedById)}`],
  ];
}

/** Facts, then what is particular to the kind (`extra`), then the description and the comments. */
function workItemPage(view: View, item: SimIssue | SimMergeRequest, project: SimProject, rows: Fact[], extra?: Content): Html {
  const body = html`${facts(rows)}${extra}
    <h2>Description</h2>
    ${text(item.description, 'No description.')}
    <h2>Comments</h2>
    ${notes(view, item)}`;
  return page(view, `${reference(view, item)} ${item.title}`, body, project);
}

export function issuePage(view: View, issue: SimIssue, project: SimProject): Html {
  const { state } = view;
  const movedTo = issue.movedToId === null ? undefined : state.issues.get(issue.movedToId);
  const closedBy = [...state.mergeRequests.values()].filter((mr) => closingIssues(state, mr).includes(issue));
  return workItemPage(view, issue, project, [
    ['State', badge(issue.state)],
    ['Confidential', issue.confidential && 'yes'],
    ...commonFacts(view, issue),
    ['Due date', issue.dueDate],
    ['Weight', issue.weight],
    ['Moved to', movedTo && html`<a href="${view.to.issue(movedTo)}">${reference(view, movedTo, true)}</a>`],
    ['Merge requests that close it', closedBy.length > 0 && workItems(view, closedBy, '')],
  ]);
}

export function mergeRequestPage(view: View, mr: SimMergeRequest, project: SimProject): Html {
  const { state } = view;
  const commit = (sha: string): Html => html`<a href="${view.to.commit(project, sha)}">${sha.slice(0, 8)}</a>`;
  const merged = mr.mergedAt !== null && html`${when(mr.mergedAt)} by ${userLink(view, mr.mergedById)}`;
  const closes = closingIssues(state, mr);
  const branchPipelines = newestFirst(state.pipelinesOf(project).filter((p) => p.mergeRequestId === mr.id || p.ref === mr.sourceBranch));
  const rows: Fact[] = [
    ['State', badge(mr.state)],
    ['Draft', isDraft(mr.title) ? 'yes' : 'no'],
    ['Branches', html`<code>${mr.sourceBranch}</code> into <code>${mr.targetBranch}</code>`],
    ['Head commit', commit(mr.sha)],
    ...commonFacts(view, mr),
    ['Reviewers', users(view, mr.reviewerIds)],
    ['Approved by', users(view, mr.approvedByIds)],
    ['Merged', merged && html`${merged}${mr.mergeCommitSha !== null && html` as ${commit(mr.mergeCommitSha)}`}`],
    ['Closes', closes.length > 0 && workItems(view, closes, '')],
  ];
  const extra = html`<h2>Pipelines</h2>
    ${pipelines(view, branchPipelines, 'No pipelines for its branch.')}`;
  return workItemPage(view, mr, project, rows, extra);
}

/** A project's or a group's milestone, with the issues and merge requests in it (of every project, for a group's). */
export function milestonePage(view: View, milestone: SimMilestone): Html {
  const { state } = view;
  const { owner } = milestone;
  const project = owner.kind === 'project' ? state.projects.get(owner.id) : undefined;
  const group = owner.kind === 'group' ? state.groups.get(owner.id) : undefined;
  const inIt = <T extends SimIssue | SimMergeRequest>(items: Iterable<T>): T[] =>
    newestFirst([...items].filter((item) => item.milestoneId === milestone.id));
  const rows: Fact[] = [
    ['State', badge(milestone.state)],
    ['Of', group ? html`<a href="${view.to.group(group)}">group ${state.groupPath(group)}</a>` : project && state.projectPath(project)],
    ['Starts', milestone.startDate],
    ['Due', milestone.dueDate],
  ];
  const body = html`${facts(rows)}${text(milestone.description, 'No description.')}
    <h2>Issues</h2>
    ${workItems(view, inIt(state.issues.values()), 'No issues.', group !== undefined)}
    <h2>Merge requests</h2>
    ${workItems(view, inIt(state.mergeRequests.values()), 'No merge requests.', group !== undefined)}`;
  return page(view, `Milestone ${milestone.title}`, body, project);
}
