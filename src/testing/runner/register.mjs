// `autoflow test` starts node with `--import` of this file. It makes TypeScript loadable (tsx, as
// bin/autoflow.js does) and makes `autoflow` and `autoflow/testing` resolve to the AutoFlow that
// runs the tests — so a workflows repository's tests run the same engine as the command, whether
// or not the repository installed AutoFlow. Plain JavaScript: it runs before any TypeScript loader.
import { register } from 'node:module';
import 'tsx';

register('./resolve-autoflow.mjs', import.meta.url);
