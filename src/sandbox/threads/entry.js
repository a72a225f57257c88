// A worker thread starts without the main thread's module hooks: it registers tsx itself, as
// bin/autoflow.js does, before loading the TypeScript body.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
