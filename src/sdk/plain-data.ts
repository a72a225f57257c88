/**
 * What JSON would silently turn into `{}`: a Promise (a forgotten `await`), a Map or a Set. A run's result, a call's
 * arguments and the input of a child or of the next run would lose it without a word, so the SDK refuses them instead.
 */

// Copies taken when the SDK loads, before any workflow code runs (see runtime.ts): workflow code that replaces these
// changes nothing here.
const { stringify } = JSON;
const SdkPromise = Promise;
const SdkMap = Map;
const SdkSet = Set;
const SdkWeakMap = WeakMap;

/**
 * Why `value`, whose JSON is `json`, is not the plain data it looks like, as "has a Promise at result.issue, …", or
 * undefined when it is. Costs nothing unless `json` has a `{}`: each of these is written so (a Map or Set with own
 * enumerable properties is not, and goes unnoticed).
 *
 * @param root the name of `value` in the message (`result`); '' for a command, whose fields are named alone (`args.p`)
 */
export function lostDataIn(value: unknown, json: string, root: string): string | undefined {
  if (!json.includes('{}')) return undefined;
  const paths = new SdkWeakMap<object, string>();
  let problem: string | undefined;
  // Written again with a replacer, which sees each value after its toJSON, as the JSON above did: each object is
  // given its path, so that the faulty one can be named.
  stringify(value, function (this: object, key: string, item: unknown) {
    if (problem !== undefined || typeof item !== 'object' || item === null) return item;
    const parent = paths.get(this);
    const at = parent === undefined ? root : Array.isArray(this) ? `${parent}[${key}]` : parent === '' ? key : `${parent}.${key}`;
    if (item instanceof SdkPromise) problem = `has a Promise at ${at || '(root)'}: did you forget \`await\`?`;
    else if (item instanceof SdkMap) {
      problem = `has a Map at ${at || '(root)'}, which JSON writes as {}: convert it with Object.fromEntries(map) or [...map]`;
    } else if (item instanceof SdkSet) problem = `has a Set at ${at || '(root)'}, which JSON writes as {}: convert it with [...set]`;
    else paths.set(item, at);
    return problem === undefined ? item : undefined;
  });
  return problem;
}
