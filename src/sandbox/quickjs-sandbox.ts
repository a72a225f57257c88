/**
 * The Sandbox port implemented with QuickJS compiled to WebAssembly. See ARCHITECTURE.md beside
 * this file for the protocol and the reasons behind cells, limits and the allow-list.
 */
import { DefinitionError, SandboxLimitError } from '../core/errors.js';
import type { DeployedDefinition, Json, WorkflowManifest } from '../core/model.js';
import type { InputCheck, InstanceOptions, Sandbox, WorkflowInstance } from '../core/ports.js';
import { PROTOCOL_GLOBALS, type InitPayload, type ManifestReply } from '../sdk/protocol.js';
import { BoundedCache } from './bounded-cache.js';
import { CellPool } from './cells.js';
import { QuickJsInstance, hostErrorOf } from './instance.js';
import { parseManifest } from './manifest.js';
import { BUNDLE_FILENAME, SourceMapper } from './source-map.js';
import { inTurn } from './turns.js';
import { ScriptError, Vm, type VmLimits } from './vm.js';

const MIB = 1024 * 1024;

export interface QuickJsSandboxOptions {
  /** Memory limit of an instance unless InstanceOptions says otherwise. @default 64 MiB */
  memoryLimitBytes?: number;
  /** CPU deadline of one activation (and of loading a bundle) unless InstanceOptions says otherwise. @default 1000 */
  cpuMsPerActivation?: number;
  /**
   * QuickJS's stack limit. Measured: at 512 KiB plain JS recursion overflows V8's own stack
   * inside the WASM code before QuickJS notices; 256 KiB (≈1,300 nested calls) does not.
   * @default 256 KiB
   */
  maxStackBytes?: number;
  /** Memory each WebAssembly cell offers the runs it hosts (see cells.ts). @default 256 MiB */
  cellBytes?: number;
  /** Definitions whose input validator is kept loaded for checkInput. @default 16 */
  inputCheckCacheSize?: number;
}

/** Source maps are parsed once per definition version; this many are kept. */
const MAPPER_CACHE_SIZE = 64;
/** Definition versions (with their limits) that keep a spare instance loaded; the least recently used go. */
const SPARE_VERSIONS = 16;

export class QuickJsSandbox implements Sandbox {
  private readonly mappers = new BoundedCache<string, SourceMapper>(MAPPER_CACHE_SIZE);
  private readonly validators: BoundedCache<string, Vm>;
  /**
   * One Vm per recently used definition version, its bundle already evaluated: the next run of
   * that version takes it and skips the compile (≈2 ms, most of a new instance's cost), and
   * another is loaded on the next turn of the event loop. The bundle's module code runs before
   * `init` in either case, so it cannot see which run it will serve: a spare is the instance a
   * new run would have got, made earlier.
   */
  private readonly spares = new BoundedCache<string, Vm>(SPARE_VERSIONS, (vm) => vm.dispose());
  private readonly sparesDue = new Map<string, NodeJS.Immediate>();

  constructor(
    private readonly pool: CellPool,
    private readonly defaults: VmLimits,
    inputCheckCacheSize: number,
  ) {
    this.validators = new BoundedCache(inputCheckCacheSize, (vm) => vm.dispose());
  }

  inspect(bundle: string, options: { sourceMap?: string; origin?: string } = {}): WorkflowManifest {
    const origin = options.origin ?? 'the workflow bundle';
    const mapper = new SourceMapper(options.sourceMap);
    const vm = this.load(bundle, mapper, this.defaults, origin);
    let reply: ManifestReply;
    try {
      reply = JSON.parse(vm.withDeadline(() => vm.call(PROTOCOL_GLOBALS.manifest)) ?? 'null') as ManifestReply;
    } catch (error) {
      throw definitionErrorOf(error, origin, this.defaults, mapper);
    } finally {
      vm.dispose();
    }
    if (!reply.ok) throw new DefinitionError(`${origin}: ${reply.problem}`, { details: { origin } });
    return parseManifest(reply.manifest, origin);
  }

  checkInput(definition: DeployedDefinition, input: Json): InputCheck {
    // A JSON Schema is the engine's to check; only validator objects run in the sandbox.
    if (!definition.manifest.validatesInput) return { ok: true };
    const origin = definition.origin ?? definition.name;
    const vm =
      this.validators.get(definition.version) ??
      this.validators.set(definition.version, this.load(definition.bundle, this.mapperOf(definition), this.defaults, origin));
    try {
      return JSON.parse(vm.withDeadline(() => vm.callAsync(PROTOCOL_GLOBALS.checkInput, JSON.stringify(input))) ?? '') as InputCheck;
    } catch (error) {
      this.validators.delete(definition.version);
      throw hostErrorOf(error, this.defaults, definition.name, this.mapperOf(definition));
    }
  }

  createInstance(definition: DeployedDefinition, options: InstanceOptions): Promise<WorkflowInstance> {
    return inTurn(() => this.createInstanceNow(definition, options));
  }

  /** Drops the spares; the WebAssembly cells go with the last reference to them. */
  close(): Promise<void> {
    for (const due of this.sparesDue.values()) clearImmediate(due);
    this.sparesDue.clear();
    this.spares.clear();
    return Promise.resolve();
  }

  /** A fresh instance on this thread. */
  createInstanceNow(definition: DeployedDefinition, options: InstanceOptions): QuickJsInstance {
    const limits: VmLimits = {
      memoryLimitBytes: options.memoryLimitBytes ?? this.defaults.memoryLimitBytes,
      cpuMs: options.cpuMsPerActivation ?? this.defaults.cpuMs,
      maxStackBytes: this.defaults.maxStackBytes,
    };
    const mapper = this.mapperOf(definition);
    const spareKey = `${definition.version} ${limits.memoryLimitBytes} ${limits.cpuMs}`;
    const vm = this.spares.take(spareKey) ?? this.load(definition.bundle, mapper, limits, definition.origin ?? definition.name);
    this.loadSpareSoon(spareKey, definition, mapper, limits);
    const init: InitPayload = { runId: options.runId, seed: options.seed, workflow: definition.name };
    try {
      vm.withDeadline(() => vm.call(PROTOCOL_GLOBALS.init, JSON.stringify(init)));
    } catch (error) {
      vm.dispose();
      throw hostErrorOf(error, limits, definition.name, mapper);
    }
    return new QuickJsInstance(vm, mapper, definition.name);
  }

  /** Loads a spare for `key` on the next turn, unless one is there or on its way. */
  private loadSpareSoon(key: string, definition: DeployedDefinition, mapper: SourceMapper, limits: VmLimits): void {
    if (this.sparesDue.has(key) || this.spares.get(key)) return;
    const due = setImmediate(() => {
      this.sparesDue.delete(key);
      let spare: Vm;
      try {
        spare = this.load(definition.bundle, mapper, limits, definition.origin ?? definition.name);
      } catch {
        // This bundle loaded a moment ago; if it fails now (a crashed cell, say), the next run of
        // the version loads its own instance and meets the error there, where it is reported.
        return;
      }
      this.spares.set(key, spare);
    });
    // A spare is never a reason for the process to stay up.
    due.unref();
    this.sparesDue.set(key, due);
  }

  private mapperOf(definition: DeployedDefinition): SourceMapper {
    return this.mappers.get(definition.version) ?? this.mappers.set(definition.version, new SourceMapper(definition.sourceMap));
  }

  /** A Vm in a cell with the bundle evaluated, its module loaded. */
  private load(bundle: string, mapper: SourceMapper, limits: VmLimits, origin: string): Vm {
    const vm = new Vm(this.pool.acquire(limits.memoryLimitBytes), limits);
    try {
      vm.withDeadline(() => vm.evaluate(bundle, BUNDLE_FILENAME));
      return vm;
    } catch (error) {
      vm.dispose();
      throw definitionErrorOf(error, origin, limits, mapper);
    }
  }
}

/** Loading or inspecting a bundle failed: name the origin file and, for exceptions, the author's line. */
function definitionErrorOf(error: unknown, origin: string, limits: VmLimits, mapper: SourceMapper): Error {
  const failure = hostErrorOf(error, limits, origin, mapper);
  if (failure instanceof SandboxLimitError) {
    return new DefinitionError(`${origin}: loading the workflow module was stopped: ${failure.message}`, { cause: failure });
  }
  if (!(error instanceof ScriptError)) return failure;
  return new DefinitionError(`${origin}: loading the workflow module failed: ${failure.stack ?? failure.message}`, {
    cause: failure,
    details: { origin },
  });
}

/** Creates the QuickJS sandbox: compiles the WebAssembly module once and readies the first cell. */
export async function createQuickJsSandbox(options: QuickJsSandboxOptions = {}): Promise<QuickJsSandbox> {
  const pool = await CellPool.create({ cellBytes: options.cellBytes ?? 256 * MIB });
  const defaults: VmLimits = {
    memoryLimitBytes: options.memoryLimitBytes ?? 64 * MIB,
    cpuMs: options.cpuMsPerActivation ?? 1000,
    maxStackBytes: options.maxStackBytes ?? 256 * 1024,
  };
  return new QuickJsSandbox(pool, defaults, options.inputCheckCacheSize ?? 16);
}
