/**
 * The body of a sandbox thread: an in-thread QuickJS sandbox whose instances the main thread
 * drives by message (see wire.ts). Requests of one instance arrive in order, each after the answer
 * to the one before. A replay is answered once done, in slices (QuickJsInstance.replay): the thread's
 * other instances are activated between them, so that one long history holds none of them up.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createQuickJsSandbox, type QuickJsSandboxOptions } from '../quickjs-sandbox.js';
import type { QuickJsInstance } from '../instance.js';
import type { DeployedDefinition } from '../../core/model.js';
import { toWire, type AnsweredRequest, type ThreadReply, type ThreadRequest } from './wire.js';

const port = parentPort;
if (!port) throw new Error('src/sandbox/threads/worker.ts runs only as a worker thread');

const sandbox = await createQuickJsSandbox(workerData as QuickJsSandboxOptions);
const instances = new Map<number, QuickJsInstance>();
const definitions = new Map<string, DeployedDefinition>();

async function answer(request: AnsweredRequest): Promise<ThreadReply> {
  try {
    if (request.op === 'create') {
      if (request.definition) definitions.set(request.version, request.definition);
      const definition = definitions.get(request.version);
      if (!definition) throw new Error(`protocol error: version ${request.version} was never sent to this thread`);
      const instance = sandbox.createInstanceNow(definition, request.options);
      instances.set(request.instance, instance);
      return { ref: request.ref, ok: true, heap: instance.memoryUsage() };
    }
    const instance = instances.get(request.instance);
    if (!instance) throw new Error(`protocol error: sandbox instance ${request.instance} is not on this thread`);
    if (request.op === 'activate') {
      const value = instance.activateNow(request.activation);
      return { ref: request.ref, ok: true, heap: instance.memoryUsage(), value };
    }
    const { results, failure } = await instance.replay(request.activations);
    if (failure) instances.delete(request.instance);
    return {
      ref: request.ref,
      ok: true,
      heap: instance.memoryUsage(),
      value: failure ? { results, failure: toWire(failure) } : { results },
    };
  } catch (error) {
    // A failed activation has disposed its instance (see QuickJsInstance.activateNow).
    if (request.op !== 'create') instances.delete(request.instance);
    return { ref: request.ref, ok: false, error: toWire(error) };
  }
}

port.on('message', (request: ThreadRequest) => {
  if (request.op === 'dispose') {
    instances.get(request.instance)?.dispose();
    instances.delete(request.instance);
  } else if (request.op === 'forget') {
    definitions.delete(request.version);
  } else {
    void answer(request).then((reply) => port.postMessage(reply));
  }
});
port.postMessage('ready');
