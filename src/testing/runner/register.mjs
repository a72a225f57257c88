// `autoflow test` starts node with `--import` of this file. It makes TypeScript loadable (tsx, as
// bin/autoflow.js does) and makes `autoflow` and `autoflow/testing` resolve to the AutoFlow that
// runs the tests — so a workflows repository's tests run the same engine as the command, whether
// or not the repository installed AutoFlow. Plain JavaScript: it runs before any TypeScript loader.
import Module, { register } from 'node:module';
import { fileURLToPath } from 'node:url';
import 'tsx';

register('./resolve-autoflow.mjs', import.meta.url);

// tsx loads a .ts file outside an ESM package (a workflows folder with no package.json) as CommonJS,
// and `require` does not ask the hook above: it gets the same redirection here.
const insideAutoflow = new Module(fileURLToPath(import.meta.url));
insideAutoflow.filename = insideAutoflow.id;
insideAutoflow.paths = Module._nodeModulePaths(fileURLToPath(new URL('.', import.meta.url)));
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function resolveAutoflow(request, parent, ...rest) {
  const fromAutoflow = request === 'autoflow' || request.startsWith('autoflow/');
  return resolveFilename.call(this, request, fromAutoflow ? insideAutoflow : parent, ...rest);
};
