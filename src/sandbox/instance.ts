/**
 * A live workflow run: a Vm with the bundle evaluated once, driven by the protocol of
 * src/sdk/protocol.ts. Each activation is three calls into the sandbox (activate, drain the job
 * queue, collect) under one CPU deadline, then the host post-processes the commands: call sites
 * and error stacks are mapped to the author's source, and limits are enforced.
 */
import { SandboxLimitError, toError } from '../core/errors.js';
import type { Activation, ActivationResult, Command, ErrorInfo } from '../core/model.js';
import type { ReplayResults, WorkflowInstance } from '../core/ports.js';
import { PROTOCOL_GLOBALS } from '../sdk/protocol.js';
import type { SourceMapper } from './source-map.js';
import { LimitReached, ScriptError, limitOf, type LimitKind, type Vm, type VmLimits } from './vm.js';

const MIB = 1024 * 1024;
/**
 * Measuring the heap walks every object (≈45 µs for a small run, ≈3 ms at 100,000 objects), so a
 * live activation measures only when its cell's memory grew since the last measurement, or every
 * this many activations. A run that grows only into memory its cell already has is caught within
 * that many tasks; meanwhile the cell's hard maximum bounds it (at 16, measuring cost 4% of the
 * CPU of 50 concurrent runs). Replays never measure: they rebuild a state that was measured live.
 */
const MEASURE_EVERY = 64;
/**
 * The most JSON one command may carry — a result, a call's arguments, a child's input, an event's data —
 * since it is written to the run's history and the API serves it back. Checked only when a whole activation's
 * commands are that large, so that ordinary steps pay nothing for it.
 */
export const MAX_COMMAND_CHARS = 2 * MIB;

/** What a command carries, in the words of the size limit's message. */
const CARRIED: Partial<Record<Command['kind'], string>> = {
  complete: 'a result',
  fail: 'an error',
  call: 'the arguments of a call',
  child: 'the input of a child run',
  continueAsNew: 'the input of the next run',
  wait: 'a wait',
  log: 'a log line',
};

/** Refuses a command whose JSON is over MAX_COMMAND_CHARS, saying which and what to do instead. */
function checkCommandSizes(commands: readonly Command[], workflow: string): void {
  for (const command of commands) {
    const size = JSON.stringify(command).length;
    if (size <= MAX_COMMAND_CHARS) continue;
    throw new SandboxLimitError(
      'size',
      `Workflow '${workflow}' produced ${CARRIED[command.kind] ?? `a '${command.kind}' command`} of ${(size / MIB).toFixed(1)} MiB; ` +
        `a run records at most ${MAX_COMMAND_CHARS / MIB} MiB per value in its history. Keep large data where it lives ` +
        '(GitLab, an artifact store, an HTTP service) and pass references to it.',
    );
  }
}

/** The message of a limit: which one, its value, and what to do about it. */
export function limitError(limit: LimitKind, limits: VmLimits, workflow: string): SandboxLimitError {
  switch (limit) {
    case 'cpu':
      return new SandboxLimitError(
        'cpu',
        `Workflow '${workflow}' ran for more than ${limits.cpuMs} ms of CPU in one workflow task and was stopped. ` +
          'Look for an endless loop; if the work is legitimate, raise sandbox.cpuMs in the configuration.',
      );
    case 'memory':
      return new SandboxLimitError(
        'memory',
        `Workflow '${workflow}' needed more than ${(limits.memoryLimitBytes / MIB).toFixed(0)} MiB of memory and was stopped. ` +
          'Keep less data in memory (page through API results); if it is legitimate, raise sandbox.memoryMb in the configuration.',
      );
    case 'stack':
      return new SandboxLimitError(
        'stack',
        `Workflow '${workflow}' overflowed the sandbox's stack (${(limits.maxStackBytes / 1024).toFixed(0)} KiB) and was stopped: ` +
          'its recursion (or the nesting of the data it parses) is too deep. Rewrite deep recursion as a loop.',
      );
  }
}

/**
 * Turns what the Vm threw into the port's errors: SandboxLimitError for limits, an Error with the
 * author's stack for exceptions; cell failures pass through as they are.
 */
export function hostErrorOf(error: unknown, limits: VmLimits, workflow: string, mapper: SourceMapper): Error {
  if (error instanceof LimitReached) return limitError(error.limit, limits, workflow);
  if (error instanceof ScriptError) {
    const mapped = new Error(`Workflow '${workflow}': ${error.info.name}: ${error.info.message}`);
    if (error.info.stack) mapped.stack = mapper.stackOf(error.info.name, error.info.message, error.info.stack);
    return mapped;
  }
  return toError(error);
}

/** The port's promise of work done on this thread: what `work` throws becomes the rejection. */
export function settled<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => resolve(work()));
}

/** Activates in turn until one throws: the results before it, and what it threw. */
export function replayNow(instance: QuickJsInstance, activations: Activation[]): ReplayResults {
  const results: ActivationResult[] = [];
  for (const activation of activations) {
    try {
      results.push(instance.activateNow(activation));
    } catch (error) {
      return { results, failure: toError(error) };
    }
  }
  return { results };
}

export class QuickJsInstance implements WorkflowInstance {
  private heap = 0;
  private unmeasured = MEASURE_EVERY;
  private cellBytesMeasured = 0;

  constructor(
    private readonly vm: Vm,
    private readonly mapper: SourceMapper,
    private readonly workflow: string,
  ) {}

  activate(activation: Activation): Promise<ActivationResult> {
    return settled(() => this.activateNow(activation));
  }

  replay(activations: Activation[]): Promise<ReplayResults> {
    return settled(() => replayNow(this, activations));
  }

  /** One activation, on this thread. */
  activateNow(activation: Activation): ActivationResult {
    try {
      const json = this.vm.withDeadline(() => {
        this.vm.call(PROTOCOL_GLOBALS.activate, JSON.stringify(activation));
        this.vm.drain();
        return this.vm.call(PROTOCOL_GLOBALS.collect);
      });
      const commands = (JSON.parse(json ?? '[]') as Command[]).map((command) => this.finish(command));
      if ((json?.length ?? 0) > MAX_COMMAND_CHARS) checkCommandSizes(commands, this.workflow);
      if (!activation.replaying) this.checkMemory();
      return { commands };
    } catch (error) {
      const failure = hostErrorOf(error, this.vm.limits, this.workflow, this.mapper);
      // A failed activation leaves the run half-advanced: the instance must not be used again.
      this.dispose();
      throw failure;
    }
  }

  /** Heap bytes as of the last measurement (the engine asks often; measuring is not free). */
  memoryUsage(): number {
    return this.heap;
  }

  dispose(): void {
    this.vm.dispose();
  }

  /** The exact check of the memory limit, when a measurement is due (see MEASURE_EVERY). */
  private checkMemory(): void {
    const cellBytes = this.vm.tenancy.cell.memoryBytes;
    if (++this.unmeasured < MEASURE_EVERY && cellBytes === this.cellBytesMeasured) return;
    this.unmeasured = 0;
    this.cellBytesMeasured = cellBytes;
    this.heap = this.vm.heapBytes();
    this.vm.tenancy.report(this.heap);
    if (this.heap > this.vm.limits.memoryLimitBytes) throw new LimitReached('memory');
  }

  private finish(command: Command): Command {
    if ('site' in command) {
      const site = command.site ? this.mapper.siteOf(command.site) : undefined;
      if (site) command.site = site;
      else delete command.site;
    }
    if (command.kind === 'fail') command.error = this.failure(command.error);
    return command;
  }

  /** A run that failed because of a limit stops the instance; other failures get mapped stacks. */
  private failure(error: ErrorInfo): ErrorInfo {
    const limit = limitOf(error);
    if (limit === 'stack') throw new LimitReached('stack');
    if (limit === 'memory') throw this.vm.outOfMemory();
    if (!error.stack) return error;
    return { ...error, stack: this.mapper.stackOf(error.name, error.message, error.stack) };
  }
}
