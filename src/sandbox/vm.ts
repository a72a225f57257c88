/**
 * One QuickJS runtime + context in a cell, with its limits, speaking the protocol as JSON strings.
 * It turns everything that can go wrong into one of three errors: ScriptError (a JavaScript
 * exception, carried as ErrorInfo), LimitReached (cpu, memory, stack) or CellCrashed.
 */
import type { QuickJSContext, QuickJSHandle, QuickJSWASMModule } from 'quickjs-emscripten';
import type { ErrorInfo } from '../core/model.js';
import { toError } from '../core/errors.js';
import type { Tenancy } from './cells.js';
import { GLOBAL_NAMES_PROBE, preludeFor } from './globals.js';

export type LimitKind = 'cpu' | 'memory' | 'stack';

export interface VmLimits {
  memoryLimitBytes: number;
  cpuMs: number;
  maxStackBytes: number;
}

/** A JavaScript exception that escaped into the host. */
export class ScriptError extends Error {
  constructor(readonly info: ErrorInfo) {
    super(`${info.name}: ${info.message}`);
  }
}

export class LimitReached extends Error {
  /**
   * `where` is the sandbox's own stack (unmapped QuickJS frames) of the workflow when the limit stopped it, when
   * QuickJS made one: the interrupt, "out of memory" and "stack overflow" errors have one; a heap measured after the
   * task, a V8 overflow or an error QuickJS could not allocate do not.
   */
  constructor(
    readonly limit: LimitKind,
    readonly where?: string,
  ) {
    super(`sandbox ${limit} limit reached`);
  }
}

/** The cell's WebAssembly module failed underneath QuickJS; every sandbox in it is lost. */
export class CellCrashed extends Error {
  constructor(cause: unknown) {
    super(`the sandbox's WebAssembly cell crashed (${toError(cause).message}); the run will be replayed in a fresh sandbox`, {
      cause,
    });
  }
}

/** The run ran out of memory in a cell its neighbours had filled: not its fault, replay it elsewhere. */
export class CellExhausted extends Error {
  constructor(neighbours: number) {
    super(`the sandbox cell ran out of memory shared with ${neighbours} other runs; the run will be replayed in another cell`);
  }
}

/** Which limit an exception means, if any. QuickJS signals them as these InternalErrors. */
export function limitOf(info: ErrorInfo): LimitKind | undefined {
  if (info.name !== 'InternalError') return undefined;
  if (info.message === 'out of memory') return 'memory';
  if (info.message === 'stack overflow') return 'stack';
  return undefined;
}

function errorInfoOf(value: unknown): ErrorInfo {
  if (typeof value === 'object' && value !== null && 'message' in value) {
    const { name, message, stack } = value as { name?: unknown; message?: unknown; stack?: unknown };
    const info: ErrorInfo = { name: typeof name === 'string' ? name : 'Error', message: String(message) };
    if (typeof stack === 'string') info.stack = stack;
    return info;
  }
  return { name: 'Error', message: `non-error thrown: ${JSON.stringify(value) ?? String(value)}` };
}

/** Each module's prelude, made from one probe context of the module (see preludeFor). */
const preludes = new WeakMap<QuickJSWASMModule, string>();

function preludeOf(module: QuickJSWASMModule): string {
  const known = preludes.get(module);
  if (known !== undefined) return known;
  const probe = module.newContext();
  try {
    const names = probe.unwrapResult(probe.evalCode(GLOBAL_NAMES_PROBE));
    try {
      const prelude = preludeFor(JSON.parse(probe.getString(names)) as string[]);
      preludes.set(module, prelude);
      return prelude;
    } finally {
      names.dispose();
    }
  } finally {
    probe.dispose();
  }
}

export class Vm {
  private readonly ctx: QuickJSContext;
  private readonly functions = new Map<string, QuickJSHandle>();
  private deadline = Number.POSITIVE_INFINITY;
  private interrupted = false;
  /** A limit stopped QuickJS in the middle of its work: see dispose. */
  private stoppedByLimit = false;
  private disposed = false;

  /** Creates the runtime and runs the prelude that strips the globals down to the allow-list. */
  constructor(
    readonly tenancy: Tenancy,
    readonly limits: VmLimits,
  ) {
    // A context made by the module owns its runtime, and the runtime uses it (not a hidden extra
    // context, ≈35 KiB) when measuring memory.
    try {
      this.ctx = this.guard(() => tenancy.cell.module.newContext());
    } catch (error) {
      tenancy.release();
      throw error;
    }
    try {
      const runtime = this.ctx.runtime;
      runtime.setMemoryLimit(limits.memoryLimitBytes);
      runtime.setMaxStackSize(limits.maxStackBytes);
      runtime.setInterruptHandler(() => {
        if (performance.now() <= this.deadline) return false;
        this.interrupted = true;
        return true;
      });
      const prelude = this.guard(() => preludeOf(tenancy.cell.module));
      const stuck = this.withDeadline(() => this.evaluate(prelude, 'autoflow:prelude.js'));
      if (stuck !== '[]') {
        throw new Error(`the sandbox cannot remove these globals: ${stuck}; a QuickJS upgrade made them permanent`);
      }
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  /**
   * Runs `fn` under the CPU deadline of one activation. `whereOf` finds, in what `fn` returned, the stack of an
   * interrupt that the sandbox caught (see below), so that the limit's error can say where the workflow was.
   */
  withDeadline<T>(fn: () => T, whereOf?: (result: T) => string | undefined): T {
    this.interrupted = false;
    this.deadline = performance.now() + this.limits.cpuMs;
    try {
      const result = fn();
      // An interrupt inside an async function does not reach the host: QuickJS turns it into a
      // rejected promise, and the SDK would report an ordinary failure. It is the CPU limit.
      if (this.interrupted) throw this.stopped(new LimitReached('cpu', whereOf?.(result)));
      return result;
    } finally {
      this.deadline = Number.POSITIVE_INFINITY;
    }
  }

  /** Evaluates a script; returns its completion value when that is a string. */
  evaluate(code: string, filename: string): string | undefined {
    return this.guard(() => this.stringOf(this.unwrap(this.ctx.evalCode(code, filename, { type: 'global' }))));
  }

  /** Calls a global function with an optional string argument; returns its result when a string. */
  call(name: string, argument?: string): string | undefined {
    return this.guard(() => this.stringOf(this.invoke(name, argument)));
  }

  /** Calls a global function that returns a promise of a string, running jobs until it settles. */
  callAsync(name: string, argument?: string): string | undefined {
    return this.guard(() => {
      const promise = this.invoke(name, argument);
      try {
        this.drain();
        const state = this.ctx.getPromiseState(promise);
        if (state.type === 'pending') throw new ScriptError({ name: 'Error', message: `protocol error: ${name}() did not settle` });
        if (state.type === 'rejected') this.throwFrom(state.error);
        return this.stringOf(state.value);
      } finally {
        promise.dispose();
      }
    });
  }

  /** Runs promise jobs until none is left. */
  drain(): void {
    this.guard(() => {
      const result = this.ctx.runtime.executePendingJobs();
      if (result.error) this.throwFrom(result.error);
    });
  }

  /** Heap bytes of this runtime, by QuickJS's own count (≈45 µs). */
  heapBytes(): number {
    return this.guard(() => {
      const handle = this.ctx.runtime.computeMemoryUsage();
      try {
        return (this.ctx.dump(handle) as { memory_used_size: number }).memory_used_size;
      } finally {
        handle.dispose();
      }
    });
  }

  /**
   * Frees the runtime, unless a limit stopped it. Freeing one interrupted inside a chain of promise jobs fails
   * QuickJS's own check that nothing is left (`JS_FreeRuntime`: an assertion, which aborts the whole WebAssembly
   * module), and every other run in the cell would be lost with it; any limit stops QuickJS in the middle of its work
   * alike. Such a runtime is left where it is, and its cell retires instead (cells.ts).
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    try {
      if (this.stoppedByLimit) {
        this.tenancy.retireCell();
      } else if (!this.tenancy.cell.broken) {
        for (const handle of this.functions.values()) handle.dispose();
        this.ctx.dispose();
      }
    } catch {
      // Freeing failed inside the module: it is not to be trusted with new runs.
      this.tenancy.markCellBroken();
    } finally {
      this.tenancy.release();
    }
  }

  private invoke(name: string, argument: string | undefined): QuickJSHandle {
    let fn = this.functions.get(name);
    if (!fn) {
      fn = this.ctx.getProp(this.ctx.global, name);
      this.functions.set(name, fn);
    }
    if (this.ctx.typeof(fn) !== 'function') {
      throw new ScriptError({ name: 'TypeError', message: `${name} is not defined: the bundle was not built by bundleWorkflow()` });
    }
    if (argument === undefined) return this.unwrap(this.ctx.callFunction(fn, this.ctx.undefined));
    const arg = this.ctx.newString(argument);
    try {
      return this.unwrap(this.ctx.callFunction(fn, this.ctx.undefined, arg));
    } finally {
      arg.dispose();
    }
  }

  private stringOf(handle: QuickJSHandle): string | undefined {
    try {
      return this.ctx.typeof(handle) === 'string' ? this.ctx.getString(handle) : undefined;
    } finally {
      handle.dispose();
    }
  }

  private unwrap(result: { error?: QuickJSHandle; value?: QuickJSHandle }): QuickJSHandle {
    if (result.error) this.throwFrom(result.error);
    return result.value as QuickJSHandle;
  }

  /** Turns an exception handle into the matching host error. */
  private throwFrom(handle: QuickJSHandle): never {
    let value: unknown;
    try {
      value = this.ctx.dump(handle);
    } finally {
      handle.dispose();
    }
    // When even the error object cannot be allocated, QuickJS throws null.
    const info = value === null ? undefined : errorInfoOf(value);
    if (this.interrupted) throw new LimitReached('cpu', info?.stack);
    if (info === undefined) throw this.outOfMemory();
    const limit = limitOf(info);
    if (limit === 'memory') throw this.outOfMemory(info.stack);
    if (limit) throw new LimitReached(limit, info.stack);
    throw new ScriptError(info);
  }

  /**
   * The error for an "out of memory" inside the cell. The run is blamed only if it had its whole
   * limit available; otherwise the shared cell was full. `where`: the stack of the "out of memory", if it has one.
   */
  outOfMemory(where?: string): Error {
    const { cell } = this.tenancy;
    return this.tenancy.neighbourBytes() + this.limits.memoryLimitBytes <= cell.capacityBytes
      ? new LimitReached('memory', where)
      : new CellExhausted(cell.tenants - 1);
  }

  /** `error`, a limit that stopped QuickJS, after noting that this runtime may not be freed (see dispose). */
  private stopped(error: LimitReached | CellExhausted): LimitReached | CellExhausted {
    this.stoppedByLimit = true;
    return error;
  }

  /** Host-level failures inside the module: a V8 stack overflow or a WebAssembly trap. */
  private guard<T>(fn: () => T): T {
    if (this.disposed) throw new Error('this sandbox was disposed after an earlier failure; create a new instance');
    // Another run corrupted the module underneath: nothing in it can be trusted any more.
    if (this.tenancy.cell.broken) throw new CellCrashed(new Error('another run in the same cell crashed it'));
    try {
      return fn();
    } catch (error) {
      if (error instanceof LimitReached || error instanceof CellExhausted) throw this.stopped(error);
      if (error instanceof ScriptError) throw error;
      this.tenancy.markCellBroken();
      // V8 ran out of stack inside the WASM code (deep native recursion): the limit is the stack.
      if (error instanceof RangeError) throw this.stopped(new LimitReached('stack'));
      throw new CellCrashed(error);
    }
  }
}
