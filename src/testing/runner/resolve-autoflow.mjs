// Module resolution hook (see register.mjs): `autoflow` and `autoflow/*` are resolved as if
// imported from inside this package, where Node's self-reference finds them through the
// `exports` of AutoFlow's own package.json.
const INSIDE_AUTOFLOW = new URL('../../../package.json', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'autoflow' || specifier.startsWith('autoflow/'))
    return nextResolve(specifier, { ...context, parentURL: INSIDE_AUTOFLOW });
  return nextResolve(specifier, context);
}
