import type { WorkflowInstance } from './ports.js';

export interface CachedRun {
  instance: WorkflowInstance;
  /** History length the instance has seen; a run whose stored length differs is rebuilt. */
  historyLength: number;
  /** Steps already resolved in the instance: a second resolution of one is dropped. */
  resolvedSteps: Set<number>;
}

/**
 * Live sandboxes of recently active runs, least recently used evicted first. A run not in the
 * cache is rebuilt by replaying its history, so the cache bounds memory without losing anything.
 */
export class InstanceCache {
  private readonly entries = new Map<string, CachedRun>();

  /** `inUse` tells which runs are being advanced: their sandboxes are never evicted under them. */
  constructor(
    private readonly capacity: number,
    private readonly inUse: (runId: string) => boolean,
  ) {}

  get(runId: string): CachedRun | undefined {
    const entry = this.entries.get(runId);
    if (entry) {
      this.entries.delete(runId);
      this.entries.set(runId, entry);
    }
    return entry;
  }

  set(runId: string, entry: CachedRun): void {
    const previous = this.entries.get(runId);
    if (previous && previous !== entry) this.evict(runId);
    this.entries.set(runId, entry);
    this.trim();
  }

  /** Evicts least recently used sandboxes not in use until the cache is within its capacity. */
  trim(): void {
    // Called after every advance: return before copying the keys when nothing needs evicting.
    if (this.entries.size <= this.capacity) return;
    for (const runId of [...this.entries.keys()]) {
      if (this.entries.size <= this.capacity) return;
      if (!this.inUse(runId)) this.evict(runId);
    }
  }

  evict(runId: string): void {
    const entry = this.entries.get(runId);
    if (!entry) return;
    this.entries.delete(runId);
    entry.instance.dispose();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Bytes used by every cached sandbox. */
  memoryUsage(): number {
    let total = 0;
    for (const entry of this.entries.values()) total += entry.instance.memoryUsage();
    return total;
  }

  clear(): void {
    for (const runId of [...this.entries.keys()]) this.evict(runId);
  }
}
