import { html } from 'hono/html';
import type { SimCommit, SimJob, SimPipeline, SimProject } from '../model.js';
import { type Html, type View, page } from './layout.js';
import { badge, facts, newestFirst, pipelines, text, userLink, when } from './parts.js';

const maybeWhen = (ms: number | null): Html | undefined => (ms === null ? undefined : when(ms));

function jobsTable(view: View, jobs: readonly SimJob[]): Html {
  if (jobs.length === 0) return html`<p class="muted">No jobs.</p>`;
  const row = (job: SimJob): Html =>
    html`<tr>
      <td>${job.stage}</td>
      <td><a href="${view.to.job(job)}">${job.name}</a></td>
      <td>${badge(job.status)}${job.allowFailure && html`<span class="muted"> (allowed to fail)</span>`}</td>
      <td>${job.environment}</td>
    </tr>`;
  return html`<table>
    <thead>
      <tr>
        <th>Stage</th>
        <th>Job</th>
        <th>Status</th>
        <th>Environment</th>
      </tr>
    </thead>
    <tbody>
      ${jobs.map(row)}
    </tbody>
  </table>`;
}

export function pipelinePage(view: View, pipeline: SimPipeline, project: SimProject): Html {
  const mr = pipeline.mergeRequestId === null ? undefined : view.state.mergeRequests.get(pipeline.mergeRequestId);
  const rows = facts([
    ['Status', badge(pipeline.status)],
    ['Ref', html`<code>${pipeline.ref}</code>`],
    ['Commit', html`<a href="${view.to.commit(project, pipeline.sha)}">${pipeline.sha.slice(0, 8)}</a>`],
    ['Source', pipeline.source],
    ['Merge request', mr && html`<a href="${view.to.mergeRequest(mr)}">!${mr.iid}</a>`],
    ['Triggered by', userLink(view, pipeline.userId)],
    ['Created', when(pipeline.createdAt)],
    ['Started', maybeWhen(pipeline.startedAt)],
    ['Finished', maybeWhen(pipeline.finishedAt)],
  ]);
  return page(
    view,
    `Pipeline #${pipeline.id}`,
    html`${rows}
      <h2>Jobs</h2>
      ${jobsTable(view, view.state.jobsOf(pipeline))}`,
    project,
  );
}

export function jobPage(view: View, job: SimJob, project: SimProject): Html {
  const pipeline = view.state.pipelines.get(job.pipelineId);
  const rows = facts([
    ['Status', badge(job.status)],
    ['Stage', job.stage],
    ['Pipeline', pipeline && html`<a href="${view.to.pipeline(pipeline)}">#${pipeline.id}</a>`],
    ['Allowed to fail', job.allowFailure && 'yes'],
    ['Failure reason', job.failureReason],
    ['Environment', job.environment],
    ['Description', job.generic?.description],
    ['Created', when(job.createdAt)],
    ['Started', maybeWhen(job.startedAt)],
    ['Finished', maybeWhen(job.finishedAt)],
  ]);
  return page(view, `Job ${job.name}`, rows, project);
}

/** The files a commit adds, changes or deletes, against its first parent. */
function changedFiles(project: SimProject, commit: SimCommit): Array<[path: string, change: string]> {
  const before = project.repository.commits.get(commit.parentShas[0] ?? '')?.tree ?? new Map<string, string>();
  const paths = [...new Set([...before.keys(), ...commit.tree.keys()])].sort();
  return paths.flatMap((path): Array<[string, string]> => {
    if (!before.has(path)) return [[path, 'added']];
    if (!commit.tree.has(path)) return [[path, 'deleted']];
    return before.get(path) === commit.tree.get(path) ? [] : [[path, 'changed']];
  });
}

export function commitPage(view: View, commit: SimCommit, project: SimProject): Html {
  const [title = ''] = commit.message.split('\n');
  const link = (sha: string): Html => html`<a href="${view.to.commit(project, sha)}">${sha.slice(0, 8)}</a> `;
  const files = changedFiles(project, commit);
  const rows = facts([
    ['SHA', html`<code>${commit.sha}</code>`],
    ['Author', `${commit.authorName} <${commit.authorEmail}>`],
    ['Date', when(commit.createdAt)],
    ['Parents', commit.parentShas.length > 0 && commit.parentShas.map(link)],
  ]);
  const fileList =
    files.length === 0
      ? html`<p class="muted">No changes.</p>`
      : html`<ul>
          ${files.map(([path, change]) => html`<li><code>${path}</code> <span class="muted">${change}</span></li>`)}
        </ul>`;
  const ofCommit = newestFirst(view.state.pipelinesOf(project).filter((pipeline) => pipeline.sha === commit.sha));
  const body = html`${rows}
    <h2>Message</h2>
    ${text(commit.message, 'No message.')}
    <h2>Files</h2>
    ${fileList}
    <h2>Pipelines</h2>
    ${pipelines(view, ofCommit, 'No pipelines.')}`;
  return page(view, `Commit ${commit.sha.slice(0, 8)}: ${title}`, body, project);
}
