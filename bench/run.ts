import { dbosBench } from './dbos-bench.js';
import { engineBench } from './engine-bench.js';
import { uiBench } from './ui-bench.js';
import { webhookBench } from './webhook-bench.js';

/** `npm run bench`: figures, each beside the peer or limit measured in the same run. */
const print = (line: string): void => console.log(line);
print(`AutoFlow bench — node ${process.version}, ${new Date().toISOString()}`);
await engineBench(print);
await webhookBench(print);
await uiBench(print);
await dbosBench(print);
