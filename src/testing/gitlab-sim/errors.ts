/**
 * GitLab's error answers, in the shapes its API really sends, so that clients written against
 * GitLab parse them unchanged. Operations throw these; the one error handler in `app.ts` writes them.
 */
export class GitLabApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(typeof body['message'] === 'string' ? body['message'] : typeof body['error'] === 'string' ? body['error'] : `${status}`);
    this.name = 'GitLabApiError';
  }
}

/** `401 {"message":"401 Unauthorized"}`: no token, or one GitLab does not know. */
export const unauthorized = (): GitLabApiError => new GitLabApiError(401, { message: '401 Unauthorized' });

/** `403 {"message":"403 Forbidden"}`: the user can see the object but may not do this. */
export const forbidden = (): GitLabApiError => new GitLabApiError(403, { message: '403 Forbidden' });

/**
 * `404 {"message":"404 Project Not Found"}`, or `404 Not found` when no resource is named. GitLab
 * answers 404, never 403, for a private object the user may not see, so its existence does not leak.
 */
export const notFound = (resource?: string): GitLabApiError =>
  new GitLabApiError(404, { message: resource === undefined ? '404 Not found' : `404 ${resource} Not Found` });

/** `400 {"error":"title is missing"}`: Grape's answer to a missing or malformed parameter. */
export const badRequest = (error: string): GitLabApiError => new GitLabApiError(400, { error });

/** `400 {"message":{"title":["can't be blank"]}}`: a model validation failure. */
export const invalid = (field: string, ...messages: string[]): GitLabApiError =>
  new GitLabApiError(400, { message: { [field]: messages } });

/** `400 {"message":"..."}`: a refused operation that GitLab explains in one sentence. */
export const refused = (message: string): GitLabApiError => new GitLabApiError(400, { message });

export const methodNotAllowed = (): GitLabApiError => new GitLabApiError(405, { message: '405 Method Not Allowed' });

/**
 * `405 {"error":"Keyset pagination is not yet available for this type of request"}`: `pagination=keyset` on a list
 * or an order that GitLab does not page by keyset.
 */
export const keysetUnavailable = (): GitLabApiError =>
  new GitLabApiError(405, { error: 'Keyset pagination is not yet available for this type of request' });

export const conflict = (message: string | string[]): GitLabApiError => new GitLabApiError(409, { message });
