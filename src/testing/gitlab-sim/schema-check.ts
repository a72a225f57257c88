import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';

/**
 * GitLab's REST v4 response schemas (test/fixtures/gitlab-api-schemas, see SOURCE.md there), read
 * the way GitLab's own specs read them, and the known places where those schemas and GitLab's
 * API disagree. Used by `schemas.test.ts`; anything failing that FINDINGS does not explain is a
 * bug of the simulator.
 */

const ROOT = fileURLToPath(new URL('../../../test/fixtures/gitlab-api-schemas/', import.meta.url));
const BASE = 'https://gitlab-schemas.invalid/';

// Type names GitLab's Ruby validator ignored but JSON Schema does not know, read as meant.
const ODD_TYPES: Record<string, string | string[]> = {
  date: ['string', 'null'],
  uri: 'string',
  'string ': 'string',
  'integer ': 'integer',
};

/**
 * GitLab's schemas as its Ruby validator read them: odd type names mapped; `required` lists
 * without repeats (milestones.json names `state` twice, which JSON Schema's meta-schema refuses);
 * a quantified quantifier, which Ruby's regexps accept and JavaScript's refuse, grouped
 * (label_basic.json's colour `[0-9A-Fa-f]{3}{1,2}`: three or six hex digits).
 */
function tolerant(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tolerant);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node).map(([key, value]) => {
      if (key === 'type' && typeof value === 'string') return [key, ODD_TYPES[value] ?? value];
      if (key === 'required' && Array.isArray(value)) return [key, [...new Set(value)]];
      if (key === 'pattern' && typeof value === 'string') return [key, value.replace(/(\[[^\]]+\]\{\d+\})(\{\d+,\d+\})/g, '(?:$1)$2')];
      return [key, tolerant(value)];
    }),
  );
}

function loadSchemas(ajv: Ajv, dir = ROOT): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) loadSchemas(ajv, path);
    else if (name.endsWith('.json'))
      ajv.addSchema({ ...(tolerant(JSON.parse(readFileSync(path, 'utf8'))) as object), $id: BASE + relative(ROOT, path) });
  }
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function createValidator(): Ajv {
  // strict: false because GitLab's schemas put properties where keywords belong (`time_stats`, `head_pipeline`).
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('date-time', (value: string) => DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)));
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat('uri', (value: string) => URL.canParse(value));
  // release.json gives an example (`{"format": "zip", "url": "string"}`) where a schema belongs.
  ajv.addFormat('zip', true);
  loadSchemas(ajv);
  return ajv;
}

interface Finding {
  schemas: RegExp;
  path: RegExp;
  keyword: string;
  param?: string;
  why: string;
}

/** Known differences between GitLab's schemas and GitLab's API; each must still be observed, so the list stays true. */
const FINDINGS: Finding[] = [
  {
    schemas: /^public_api\/v4\/projects\.json$/,
    path: /^\/\d+$/,
    keyword: 'additionalProperties',
    param: 'topics',
    why: 'projects.json predates `topics` (GitLab 14.0) and allows no other properties, while project.json requires it: no answer satisfies both. Lists are also checked item by item against project.json.',
  },
  ...[
    'reviewers',
    'draft',
    'merged_by',
    'merge_user',
    'merged_at',
    'closed_by',
    'closed_at',
    'assignees',
    'references',
    'detailed_merge_status',
    'reference',
    'imported',
    'imported_from',
    'squash_on_merge',
    'squash_commit_sha',
    'has_conflicts',
    'blocking_discussions_resolved',
    'prepared_at',
    'task_completion_status',
    'merge_after',
  ].map((param): Finding => ({
    schemas: /^public_api\/v4\/merge_requests\.json$/,
    path: /^\/\d+$/,
    keyword: 'additionalProperties',
    param,
    why: 'merge_requests.json is from about 2018 (SOURCE.md): it forbids fields GitLab has sent since. Lists are also checked item by item against merge_request.json.',
  })),
  {
    schemas: /^public_api\/v4\/merge_requests\.json$/,
    path: /^\/\d+$/,
    keyword: 'required',
    param: 'approvals_before_merge',
    why: 'approvals_before_merge is a GitLab EE field, deprecated since; CE does not send it.',
  },
  {
    schemas: /./,
    path: /milestones?(\/\d+)?\/(due_date|start_date)$|^\/(\d+\/)?(due_date|start_date)$/,
    keyword: 'format',
    why: 'GitLab sends milestone dates as dates (`2026-03-01`); milestone.json says date-time, while issue.json’s own milestone allows `date`.',
  },
  {
    schemas: /^public_api\/v4\/group_labels\.json$/,
    path: /^\/\d+\/description$/,
    keyword: 'type',
    why: 'group_labels.json’s malformed `"string "` type, read as string, refuses the null description GitLab sends for a label without one (GitLab’s Ruby validator ignored the malformed type).',
  },
  {
    schemas: /^public_api\/v4\/job\.json$/,
    path: /^$/,
    keyword: 'additionalProperties',
    param: 'failure_reason',
    why: 'GitLab adds failure_reason to failed jobs; job.json, which allows no unlisted property, does not list it.',
  },
  ...['target', 'protected', 'created_at'].map((param): Finding => ({
    schemas: /^public_api\/v4\/tags?\.json$/,
    path: /^(\/\d+)?$/,
    keyword: 'additionalProperties',
    param,
    why: 'tag.json is its only version found (SOURCE.md); GitLab’s tags API has sent target, protected and created_at since.',
  })),
  {
    schemas: /^public_api\/v4\/tags?\.json$/,
    path: /^(\/\d+)?\/release$/,
    keyword: 'required',
    why: 'tag.json points `release` at release.json, which has become the full Release entity; the tags API still sends the {tag_name, description} stub (SOURCE.md).',
  },
  ...['expired', 'web_url'].map((param): Finding => ({
    schemas: /^public_api\/v4\/(milestones|merge_requests)\.json$/,
    path: /^\/\d+(\/milestone)?$/,
    keyword: 'additionalProperties',
    param,
    why: 'milestones.json (and the milestone inside the old merge_requests.json) predate `expired` and `web_url`, which milestone.json lists and requires (`expired`). Lists are also checked item by item against milestone.json.',
  })),
  {
    schemas: /^public_api\/v4\/members\.json$/,
    path: /^\/\d+\/expires_at$/,
    keyword: 'format',
    why: 'members.json says date-time; GitLab sends membership expiry as a date (`2026-12-31`).',
  },
];

/** Summary errors (`oneOf`, `anyOf`) and the "must be null" branch of nullable unions say nothing of their own. */
const substantive = (error: ErrorObject): boolean => !['oneOf', 'anyOf'].includes(error.keyword) && error.params['type'] !== 'null';

const paramOf = (error: ErrorObject): string | undefined =>
  (error.params['additionalProperty'] as string | undefined) ?? (error.params['missingProperty'] as string | undefined);

export interface SchemaCheck {
  /** The errors of `body` against `schema` (a path under the schema folder) that no finding explains. */
  check(body: unknown, schema: string, arrayOf?: boolean): string[];
  /** Findings never observed so far: a stale entry to remove. */
  unobserved(): string[];
}

export function createSchemaCheck(): SchemaCheck {
  const ajv = createValidator();
  const observed = new Set<Finding>();
  return {
    check(body, schema, arrayOf = false) {
      const id = BASE + schema;
      const validate = arrayOf ? ajv.compile({ type: 'array', minItems: 1, items: { $ref: id } }) : ajv.getSchema(id);
      if (!validate) return [`no schema ${schema}`];
      if (validate(body)) return [];
      const unexplained = (validate.errors ?? []).filter(substantive).filter((error) => {
        const finding = FINDINGS.find(
          (f) =>
            f.schemas.test(schema) &&
            f.path.test(error.instancePath) &&
            f.keyword === error.keyword &&
            (f.param === undefined || f.param === paramOf(error)),
        );
        if (finding) observed.add(finding);
        return !finding;
      });
      return unexplained.map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
    },
    unobserved: () =>
      FINDINGS.filter((finding) => !observed.has(finding)).map((f) => `${f.schemas.source} ${f.path.source} ${f.keyword} ${f.param ?? ''}`),
  };
}
