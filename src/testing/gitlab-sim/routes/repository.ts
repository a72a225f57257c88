import { createHash } from 'node:crypto';
import { CAN, type SimContext, authorize } from '../context.js';
import { badRequest, notFound } from '../errors.js';
import { type SimApi, type SimRequest, currentUser, projectParam } from '../http/app.js';
import { paginate } from '../http/pagination.js';
import { Params, scalarText } from '../http/params.js';
import type { SimCommit, SimProject, SimTag } from '../model.js';
import { history, requireRef, resolveRef, touches } from '../ops/git.js';
import { type FileAction, commitFiles, createBranch, createRelease, createTag, deleteBranch } from '../ops/repository.js';
import { commitBasic } from '../present/basic.js';
import { branchEntity, commitDetail, releaseEntity, tagEntity } from '../present/repo.js';

/** Files, commits, branches, tags and releases. */
export function registerRepository(api: SimApi, ctx: SimContext): void {
  const { state } = ctx;
  const repoProject = (c: SimRequest): SimProject => {
    const project = projectParam(c, ctx);
    authorize(state, currentUser(c), project, CAN.report);
    return project;
  };
  const file = (c: SimRequest, ref: string): { project: SimProject; commit: SimCommit; path: string; content: string } => {
    const project = repoProject(c);
    const path = c.req.param('file_path') ?? '';
    const commit = resolveRef(project, ref);
    const content = commit?.tree.get(path);
    if (!commit || content === undefined) throw notFound('File');
    return { project, commit, path, content };
  };

  api.get('/projects/:id/repository/files/:file_path/raw', async (c) => {
    const ref = (await Params.of(c)).string('ref') ?? projectParam(c, ctx).defaultBranch;
    const found = file(c, ref);
    c.header('X-Gitlab-File-Path', found.path);
    c.header('X-Gitlab-Commit-Id', found.commit.sha);
    return c.text(found.content);
  });
  api.get('/projects/:id/repository/files/:file_path', async (c) => {
    const ref = (await Params.of(c)).string('ref');
    if (ref === undefined) throw badRequest('ref is missing');
    const { project, commit, path, content } = file(c, ref);
    return c.json({
      file_name: path.split('/').at(-1),
      file_path: path,
      size: Buffer.byteLength(content),
      encoding: 'base64',
      content: Buffer.from(content).toString('base64'),
      content_sha256: createHash('sha256').update(content).digest('hex'),
      ref,
      blob_id: createHash('sha1')
        .update(`blob ${Buffer.byteLength(content)}\0${content}`)
        .digest('hex'),
      commit_id: commit.sha,
      last_commit_id: (history(project, commit.sha).find((item) => touches(project, item, path)) ?? commit).sha,
      execute_filemode: false,
    });
  });
  const writeFile = (action: FileAction['action'], status: 200 | 201) =>
    async function writeFileHandler(c: SimRequest): Promise<Response> {
      const p = await Params.of(c);
      const path = c.req.param('file_path') ?? '';
      const branch = p.string('branch');
      if (branch === undefined) throw badRequest('branch is missing');
      const message = p.string('commit_message');
      if (message === undefined) throw badRequest('commit_message is missing');
      const raw = p.string('content');
      if (raw === undefined && action !== 'delete') throw badRequest('content is missing');
      const content = p.string('encoding') === 'base64' && raw !== undefined ? Buffer.from(raw, 'base64').toString('utf8') : raw;
      commitFiles(ctx, currentUser(c), projectParam(c, ctx), {
        branch,
        startBranch: p.string('start_branch'),
        message,
        actions: [{ action, path, ...(content === undefined ? {} : { content }) }],
        authorName: p.string('author_name'),
        authorEmail: p.string('author_email'),
      });
      return action === 'delete' ? c.body(null, 204) : c.json({ file_path: path, branch }, status);
    };
  api.post('/projects/:id/repository/files/:file_path', writeFile('create', 201));
  api.put('/projects/:id/repository/files/:file_path', writeFile('update', 200));
  api.delete('/projects/:id/repository/files/:file_path', writeFile('delete', 200));

  api.post('/projects/:id/repository/commits', async (c) => {
    const p = await Params.of(c);
    const branch = p.string('branch');
    const message = p.string('commit_message');
    const actions = p.objects('actions');
    if (branch === undefined || message === undefined || actions === undefined)
      throw badRequest('branch, commit_message, actions are missing');
    const project = projectParam(c, ctx);
    const commit = commitFiles(ctx, currentUser(c), project, {
      branch,
      startBranch: p.string('start_branch'),
      message,
      actions: actions.map((a) => {
        const action = a['action'];
        if (action !== 'create' && action !== 'update' && action !== 'delete')
          throw badRequest('actions[action] does not have a valid value');
        const content = a['content'] === undefined ? {} : { content: scalarText('actions[content]', a['content']) };
        return { action, path: scalarText('actions[file_path]', a['file_path']), ...content };
      }),
      authorName: p.string('author_name'),
      authorEmail: p.string('author_email'),
    });
    return c.json(commitDetail(state, project, commit), 201);
  });
  api.get('/projects/:id/repository/commits', async (c) => {
    const p = await Params.of(c);
    const project = repoProject(c);
    const head = resolveRef(project, p.string('ref_name') ?? project.defaultBranch);
    const path = p.string('path');
    const commits = head ? history(project, head.sha).filter((commit) => path === undefined || touches(project, commit, path)) : [];
    return c.json(paginate(c, commits).map((commit) => commitBasic(state, project, commit)));
  });
  api.get('/projects/:id/repository/commits/:sha', (c) => {
    const project = repoProject(c);
    return c.json(commitDetail(state, project, requireRef(project, c.req.param('sha'))));
  });

  api.get('/projects/:id/repository/branches', async (c) => {
    const search = (await Params.of(c)).string('search');
    const project = repoProject(c);
    const branches = [...project.repository.branches]
      .filter(([name]) => search === undefined || name.includes(search))
      .sort(([a], [b]) => a.localeCompare(b));
    return c.json(paginate(c, branches).map(([name, sha]) => branchEntity(state, project, name, sha)));
  });
  api.get('/projects/:id/repository/branches/:branch', (c) => {
    const project = repoProject(c);
    const name = c.req.param('branch');
    const sha = project.repository.branches.get(name);
    if (sha === undefined) throw notFound('Branch');
    return c.json(branchEntity(state, project, name, sha));
  });
  api.post('/projects/:id/repository/branches', async (c) => {
    const p = await Params.of(c);
    const [name, ref] = [p.string('branch'), p.string('ref')];
    if (name === undefined) throw badRequest('branch is missing');
    if (ref === undefined) throw badRequest('ref is missing');
    const project = projectParam(c, ctx);
    const commit = createBranch(ctx, currentUser(c), project, name, ref);
    return c.json(branchEntity(state, project, name, commit.sha), 201);
  });
  api.delete('/projects/:id/repository/branches/:branch', (c) => {
    deleteBranch(ctx, currentUser(c), projectParam(c, ctx), c.req.param('branch'));
    return c.body(null, 204);
  });

  api.get('/projects/:id/repository/tags', (c) => {
    const project = repoProject(c);
    const tags = [...project.repository.tags.values()].sort((a, b) => b.createdAt - a.createdAt || b.name.localeCompare(a.name));
    return c.json(paginate(c, tags).map((tag) => tagEntity(state, project, tag)));
  });
  api.get('/projects/:id/repository/tags/:tag_name', (c) => {
    const project = repoProject(c);
    const tag = project.repository.tags.get(c.req.param('tag_name'));
    if (!tag) throw notFound('Tag');
    return c.json(tagEntity(state, project, tag));
  });
  api.post('/projects/:id/repository/tags', async (c) => {
    const p = await Params.of(c);
    const [name, ref] = [p.string('tag_name'), p.string('ref')];
    if (name === undefined) throw badRequest('tag_name is missing');
    if (ref === undefined) throw badRequest('ref is missing');
    const project = projectParam(c, ctx);
    createTag(ctx, currentUser(c), project, name, ref, p.string('message') ?? null);
    return c.json(tagEntity(state, project, project.repository.tags.get(name) as SimTag), 201);
  });

  api.get('/projects/:id/releases', (c) => {
    const project = repoProject(c);
    const releases = state.releases.filter((release) => release.projectId === project.id).sort((a, b) => b.releasedAt - a.releasedAt);
    return c.json(paginate(c, releases).map((release) => releaseEntity(state, release)));
  });
  api.get('/projects/:id/releases/:tag_name', (c) => {
    const project = repoProject(c);
    const release = state.releases.find((item) => item.projectId === project.id && item.tagName === c.req.param('tag_name'));
    if (!release) throw notFound('Release');
    return c.json(releaseEntity(state, release));
  });
  api.post('/projects/:id/releases', async (c) => {
    const p = await Params.of(c);
    const input = {
      tagName: p.string('tag_name'),
      name: p.string('name'),
      description: p.string('description'),
      ref: p.string('ref'),
      milestones: p.list('milestones'),
    };
    return c.json(releaseEntity(state, createRelease(ctx, currentUser(c), projectParam(c, ctx), input)), 201);
  });
}
