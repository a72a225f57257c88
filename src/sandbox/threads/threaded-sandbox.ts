/**
 * The Sandbox port over several threads: the main thread's own QuickJS sandbox and worker threads
 * that each run another (worker.ts). Creating and running sandboxes is most of a step's CPU time
 * (≈2.4 ms to load a bundle, ≈25 µs per activation), and it is the only part that can leave the
 * main thread, whose remaining work is the store's and the engine's.
 *
 * Each new instance goes where the fewest live instances are, the main thread counting
 * MAIN_THREAD_WEIGHT as much as a worker thread: a lone run stays on the main thread (no message
 * latency), concurrent ones spread. A worker thread starts when it is first chosen; one that cannot
 * start is left out for good, and the instance that found out goes elsewhere. When one
 * stops (a crash, an out-of-memory kill of its heap), its pending requests and instances fail with
 * an error the engine treats like a crashed cell: the runs are replayed in a new instance.
 */
import { Worker } from 'node:worker_threads';
import { toError } from '../../core/errors.js';
import type { Activation, ActivationResult, DeployedDefinition, Json, WorkflowManifest } from '../../core/model.js';
import type { InputCheck, InstanceOptions, ReplayResults, Sandbox, WorkflowInstance } from '../../core/ports.js';
import { createQuickJsSandbox, type QuickJsSandbox, type QuickJsSandboxOptions } from '../quickjs-sandbox.js';
import { BoundedCache } from '../bounded-cache.js';
import { fromWire, type AnsweredRequest, type ThreadReply, type ThreadRequest, type WireReplayResults } from './wire.js';

/**
 * The main thread also commits, routes and serves HTTP. Measured on SQLite with 50 concurrent runs
 * of 10 steps and one worker thread (2 CPUs): weights 0.3–1 all gave 2,750–3,080 steps/s, against
 * ≈2,500 with no worker thread; a half share keeps the first run of a quiet server at home.
 */
const MAIN_THREAD_WEIGHT = 0.5;

export interface ThreadedSandboxOptions extends QuickJsSandboxOptions {
  /** Worker threads besides the main thread. */
  threads: number;
}

/** What stays on the main thread: these cannot be sent to a worker thread. */
export interface ThreadedSandboxHooks {
  /** Told once per thread that fails to start; from then on the main thread takes its share. */
  onStartFailure?: (error: Error) => void;
  /** The script a worker thread starts with. @default entry.js beside this file */
  workerEntry?: URL;
}

const WORKER_ENTRY = new URL('./entry.js', import.meta.url);

/** A request as the caller gives it; the host numbers it. */
type Outgoing = { [Op in AnsweredRequest as Op['op']]: Omit<Op, 'ref'> }[AnsweredRequest['op']];

/** Definitions a worker thread keeps; the least recently used beyond these is forgotten there. */
const DEFINITIONS_PER_THREAD = 64;

/** Somewhere instances live, with how many are there now. */
interface Host {
  live: number;
  readonly weight: number;
  /** False while a thread that failed to start is left out. */
  usable(): boolean;
  create(definition: DeployedDefinition, options: InstanceOptions): Promise<WorkflowInstance>;
}

/** Counts an instance out of its host when it is disposed. */
function counted(host: Host, instance: WorkflowInstance): WorkflowInstance {
  let disposed = false;
  return {
    activate: (activation) => instance.activate(activation),
    replay: (activations) => instance.replay(activations),
    memoryUsage: () => instance.memoryUsage(),
    dispose() {
      if (disposed) return;
      disposed = true;
      host.live--;
      instance.dispose();
    },
  };
}

class MainThreadHost implements Host {
  live = 0;
  readonly weight = MAIN_THREAD_WEIGHT;
  constructor(private readonly sandbox: QuickJsSandbox) {}

  usable(): boolean {
    return true;
  }

  create(definition: DeployedDefinition, options: InstanceOptions): Promise<WorkflowInstance> {
    return this.sandbox.createInstance(definition, options);
  }
}

class ThreadStopped extends Error {
  constructor(cause: unknown) {
    super(`the sandbox thread stopped (${toError(cause).message}); its runs are replayed in a new sandbox`, { cause });
  }
}

class WorkerHost implements Host {
  live = 0;
  readonly weight = 1;
  private worker: Promise<Worker> | undefined;
  private current: Worker | undefined;
  /** Bumped whenever the thread stops: instances of an earlier one are gone with it. */
  private generation = 0;
  private startFailure: Error | undefined;
  private lastStop: Error | undefined;
  private readonly waiting = new Map<number, { resolve: (reply: ThreadReply) => void; reject: (error: Error) => void }>();
  private nextRef = 1;
  private nextInstance = 1;
  /** Versions the current thread holds (see wire.ts). */
  private sent = this.sentDefinitions();

  constructor(
    private readonly options: QuickJsSandboxOptions,
    private readonly hooks: ThreadedSandboxHooks,
  ) {}

  usable(): boolean {
    return this.startFailure === undefined;
  }

  async create(definition: DeployedDefinition, options: InstanceOptions): Promise<WorkflowInstance> {
    const instance = this.nextInstance++;
    const generation = this.generation;
    const { version } = definition;
    // Decided as the message leaves: the thread it goes to is the one `sent` describes.
    const reply = await this.request(() => {
      if (this.sent.get(version)) return { op: 'create', instance, version, options };
      this.sent.set(version, version);
      return { op: 'create', instance, version, definition, options };
    });
    return new RemoteInstance(this, instance, generation, reply.heap);
  }

  /** Sends a request (built as it is sent) and resolves with its successful reply; an error reply rejects, rebuilt. */
  async request(build: () => Outgoing): Promise<Extract<ThreadReply, { ok: true }>> {
    const worker = await this.start();
    const ref = this.nextRef++;
    const reply = await new Promise<ThreadReply>((resolve, reject) => {
      this.waiting.set(ref, { resolve, reject });
      // A thread with requests in flight keeps the process alive; an idle one does not.
      if (this.waiting.size === 1) worker.ref();
      worker.postMessage({ ...build(), ref });
    });
    if (!reply.ok) throw fromWire(reply.error);
    return reply;
  }

  dispose(instance: number, generation: number): void {
    if (generation === this.generation) this.current?.postMessage({ op: 'dispose', instance } satisfies ThreadRequest);
  }

  /** Why the thread of `generation` is gone, or undefined while it runs. */
  stoppedSince(generation: number): Error | undefined {
    return generation === this.generation ? undefined : this.lastStop;
  }

  async close(): Promise<void> {
    const worker = this.current;
    if (!worker) return;
    this.stopped(worker, new Error('the sandbox was closed'));
    await worker.terminate();
  }

  private sentDefinitions(): BoundedCache<string, string> {
    return new BoundedCache(DEFINITIONS_PER_THREAD, (version) => this.current?.postMessage({ op: 'forget', version } satisfies ThreadRequest));
  }

  private start(): Promise<Worker> {
    this.worker ??= new Promise<Worker>((resolve, reject) => {
      let worker: Worker;
      try {
        worker = new Worker(this.hooks.workerEntry ?? WORKER_ENTRY, { workerData: this.options });
      } catch (cause) {
        reject(this.failedToStart(cause));
        return;
      }
      this.current = worker;
      worker.unref();
      let ready = false;
      worker.on('message', (message: ThreadReply | 'ready') => {
        if (message === 'ready') {
          ready = true;
          resolve(worker);
          return;
        }
        const waiter = this.waiting.get(message.ref);
        this.waiting.delete(message.ref);
        if (this.waiting.size === 0) worker.unref();
        waiter?.resolve(message);
      });
      const stopped = (cause: unknown): void => {
        // A thread that fails before it is ready (not one closed meanwhile) is left out for good:
        // the next would most likely fail the same way, and the main thread can take every run.
        if (!ready) reject(worker === this.current ? this.failedToStart(cause) : toError(cause));
        this.stopped(worker, cause);
      };
      worker.on('error', stopped);
      worker.on('exit', (code) => stopped(new Error(`exit code ${code}`)));
    });
    return this.worker;
  }

  /** Leaves this thread out for good, and says so once. */
  private failedToStart(cause: unknown): Error {
    if (this.startFailure) return this.startFailure;
    this.startFailure = new Error(`a sandbox thread could not start: ${toError(cause).message}`, { cause });
    this.hooks.onStartFailure?.(this.startFailure);
    return this.startFailure;
  }

  /** Fails what waits on a thread that stopped; the next request starts a new one. */
  private stopped(worker: Worker, cause: unknown): void {
    if (worker !== this.current) return;
    this.current = undefined;
    this.worker = undefined;
    this.generation++;
    this.sent = this.sentDefinitions();
    const failure = new ThreadStopped(cause);
    this.lastStop = failure;
    for (const waiter of this.waiting.values()) waiter.reject(failure);
    this.waiting.clear();
  }
}

class RemoteInstance implements WorkflowInstance {
  constructor(
    private readonly host: WorkerHost,
    private readonly id: number,
    private readonly generation: number,
    private heap: number,
  ) {}

  async activate(activation: Activation): Promise<ActivationResult> {
    this.requireThread();
    const reply = await this.host.request(() => ({ op: 'activate', instance: this.id, activation }));
    this.heap = reply.heap;
    return reply.value as ActivationResult;
  }

  async replay(activations: Activation[]): Promise<ReplayResults> {
    this.requireThread();
    const reply = await this.host.request(() => ({ op: 'replay', instance: this.id, activations }));
    this.heap = reply.heap;
    const { results, failure } = reply.value as WireReplayResults;
    return failure ? { results, failure: fromWire(failure) } : { results };
  }

  memoryUsage(): number {
    return this.heap;
  }

  dispose(): void {
    this.host.dispose(this.id, this.generation);
  }

  private requireThread(): void {
    const stopped = this.host.stoppedSince(this.generation);
    if (stopped) throw stopped;
  }
}

export class ThreadedSandbox implements Sandbox {
  constructor(
    private readonly local: QuickJsSandbox,
    private readonly hosts: [MainThreadHost, ...WorkerHost[]],
  ) {}

  inspect(bundle: string, options?: { sourceMap?: string; origin?: string }): WorkflowManifest {
    return this.local.inspect(bundle, options);
  }

  checkInput(definition: DeployedDefinition, input: Json): InputCheck {
    return this.local.checkInput(definition, input);
  }

  async createInstance(definition: DeployedDefinition, options: InstanceOptions): Promise<WorkflowInstance> {
    const host = this.place();
    host.live++;
    try {
      return counted(host, await host.create(definition, options));
    } catch (error) {
      host.live--;
      // Its thread could not start and is now left out: the instance goes elsewhere (in the end, the main thread).
      if (!host.usable()) return this.createInstance(definition, options);
      throw error;
    }
  }

  /** Stops the worker threads; instances on them fail from now on, new ones start new threads. */
  async close(): Promise<void> {
    await Promise.all(this.workers().map((host) => host.close()));
  }

  /** Live instances on the main thread, then on each worker thread (for metrics and tests). */
  placement(): { mainThread: number; threads: number[] } {
    return { mainThread: this.hosts[0].live, threads: this.workers().map((host) => host.live) };
  }

  private workers(): WorkerHost[] {
    const [, ...workers] = this.hosts;
    return workers;
  }

  /** The host with the fewest live instances for its weight; ties go to the first (the main thread). */
  private place(): Host {
    let best: Host = this.hosts[0];
    for (const host of this.hosts) {
      if (host.usable() && host.live / host.weight < best.live / best.weight) best = host;
    }
    return best;
  }
}

/** The QuickJS sandbox spread over the main thread and `threads` worker threads (0: the main thread alone). */
export async function createThreadedSandbox(
  options: ThreadedSandboxOptions,
  hooks: ThreadedSandboxHooks = {},
): Promise<QuickJsSandbox | ThreadedSandbox> {
  const { threads, ...sandboxOptions } = options;
  const local = await createQuickJsSandbox(sandboxOptions);
  if (threads === 0) return local;
  const workers = Array.from({ length: threads }, () => new WorkerHost(sandboxOptions, hooks));
  return new ThreadedSandbox(local, [new MainThreadHost(local), ...workers]);
}
