/** A Map that keeps its `capacity` most recently used entries and tells when it drops one. */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(
    private readonly capacity: number,
    private readonly onEvict: (value: V) => void = () => {},
  ) {}

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): V {
    this.delete(key);
    this.entries.set(key, value);
    for (const [oldest, dropped] of this.entries) {
      if (this.entries.size <= this.capacity) break;
      this.entries.delete(oldest);
      this.onEvict(dropped);
    }
    return value;
  }

  /** Removes and returns the entry without calling `onEvict`: the caller owns the value now. */
  take(key: K): V | undefined {
    const value = this.entries.get(key);
    this.entries.delete(key);
    return value;
  }

  /** Drops every entry, calling `onEvict` for each. */
  clear(): void {
    for (const key of [...this.entries.keys()]) this.delete(key);
  }

  delete(key: K): void {
    const value = this.entries.get(key);
    if (value === undefined) return;
    this.entries.delete(key);
    this.onEvict(value);
  }
}
