import { z } from 'zod';

/** What an argument must be: a JSON value of a plain kind, or one a schema checks. */
export type ArgumentKind = 'text' | 'number' | 'list' | 'text or null' | z.ZodType;
/** One argument of an action: how `autoflow simulate` shows it, and what it must be. */
export type ActionArgument = readonly [shown: string, kind: ArgumentKind];

/** An object argument: its keys are checked too, so that a mistyped one (`source_branch`, `state_event`) is refused, not ignored. */
export function fields<Shape extends z.ZodRawShape>(shape: Shape) {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') {
        return `has the unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')} (it takes ${known})`;
      }
      return issue.code === 'invalid_type' && issue.input === undefined ? undefined : `must be a JSON object with ${known}`;
    },
  });
}

/** What is wrong with one argument, in words, or nothing. */
function argumentProblem(value: unknown, kind: ArgumentKind): string[] {
  switch (kind) {
    case 'text':
      return typeof value === 'string' ? [] : ['must be text'];
    case 'number':
      return typeof value === 'number' ? [] : ['must be a number'];
    case 'list':
      return Array.isArray(value) ? [] : ['must be a JSON list'];
    case 'text or null':
      return typeof value === 'string' || value === null ? [] : ['must be text or null'];
    default: {
      const parsed = kind.safeParse(value);
      if (parsed.success) return [];
      return parsed.error.issues.map((issue) => {
        if (issue.path.length === 0) return issue.message;
        // A missing key reads as one that must be there; zod says "expected …, received undefined".
        const given = issue.path.reduce<unknown>((node, key) => (node as Record<PropertyKey, unknown> | undefined)?.[key], value);
        const wanted = given === undefined ? 'is missing' : `must be ${issue.message}`;
        return `has ${issue.path.join('.')}, which ${wanted}`;
      });
    }
  }
}

/** Every argument that is missing, extra or not what `expected` says, in words. */
export function argumentProblems(expected: readonly ActionArgument[], args: readonly unknown[]): string[] {
  const problems = expected.flatMap(([shown, kind], index) => {
    if (index >= args.length) return [`argument ${index + 1} (${shown}) is missing`];
    return argumentProblem(args[index], kind).map(
      (problem) => `argument ${index + 1} (${shown}) ${problem}, got ${JSON.stringify(args[index])}`,
    );
  });
  if (args.length > expected.length) problems.push(`${args.length - expected.length} argument(s) too many`);
  return problems;
}
