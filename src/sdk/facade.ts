/**
 * A facade (`gitlab`) whose lookup of a name it does not have throws, naming the name most likely meant:
 * `gitlab.issues.edti(…)` would otherwise fail with "not a function", and `gitlab.issue.edit(…)` with "cannot read
 * property 'edit' of undefined".
 */
import { closestWord } from '../core/filter.js';

/**
 * Names that code asks any object for to learn what it is, which must answer undefined: `then` (`await` and
 * promise libraries), `toJSON` (JSON.stringify), and what test and logging libraries probe. Symbols, and names that
 * are not plain camelCase words (`$$typeof`, `__esModule`, `@@iterator`), are let through too.
 */
const PROBED = ['then', 'toJSON', 'length', 'nodeType', 'inspect', 'asymmetricMatch'];
const MEMBER_NAME = /^[a-z][A-Za-z0-9]*$/;

/**
 * `object` behind a Proxy that throws a TypeError on the lookup of an unknown member; its plain-object members
 * (resources) are wrapped too, as `${path}.${key}`, their members called methods.
 */
export const strictFacade = /* @__NO_SIDE_EFFECTS__ */ <T extends object>(path: string, object: T, member = 'resource'): T => {
  const members = object as Record<string, unknown>;
  for (const key of Object.keys(members)) {
    const value = members[key];
    if (typeof value === 'object' && value !== null) members[key] = strictFacade(`${path}.${key}`, value, 'method');
  }
  return new Proxy(object, {
    get(target, name) {
      if (typeof name === 'string' && !(name in target) && !PROBED.includes(name) && MEMBER_NAME.test(name)) {
        const known = Object.keys(target);
        // Two edits at least: a swap of two letters (`edti`) is two.
        const meant = closestWord(name, known, Math.max(2, Math.floor(name.length / 3)));
        throw new TypeError(
          `${path} has no ${member} '${name}' (${meant === undefined ? '' : `did you mean '${meant}'? `}it has: ${known.join(', ')})`,
        );
      }
      return (target as Record<PropertyKey, unknown>)[name];
    },
  });
};
