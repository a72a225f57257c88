/**
 * Rows keyed by (run id, number) — the primary key of most per-run tables — so that a run's rows
 * can be listed or dropped together, as the SQL stores do with their (run_id, …) keys.
 */
export class ByRun<T> {
  readonly #runs = new Map<string, Map<number, T>>();

  get(runId: string, key: number): T | undefined {
    return this.#runs.get(runId)?.get(key);
  }

  has(runId: string, key: number): boolean {
    return this.#runs.get(runId)?.has(key) ?? false;
  }

  set(runId: string, key: number, row: T): void {
    let rows = this.#runs.get(runId);
    if (!rows) this.#runs.set(runId, (rows = new Map<number, T>()));
    rows.set(key, row);
  }

  delete(runId: string, key: number): boolean {
    const rows = this.#runs.get(runId);
    if (!rows?.delete(key)) return false;
    if (rows.size === 0) this.#runs.delete(runId);
    return true;
  }

  deleteRun(runId: string): void {
    this.#runs.delete(runId);
  }

  /** The run's rows in key order. */
  ofRun(runId: string): T[] {
    const rows = this.#runs.get(runId);
    if (!rows) return [];
    return [...rows.entries()].sort((a, b) => a[0] - b[0]).map((entry) => entry[1]);
  }

  *all(): IterableIterator<T> {
    for (const rows of this.#runs.values()) yield* rows.values();
  }
}
