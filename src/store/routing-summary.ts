import type { EventRoutingSummary } from '../core/ports.js';

/**
 * Rows of (event seq, run id, whether the event started the run) as routing summaries, in seq
 * order. A run's trigger event also counts as consumed by it: it is listed as started only.
 */
export function toRoutingSummaries(rows: ReadonlyArray<{ seq: number | string; run_id: string; started: number | boolean }>): EventRoutingSummary[] {
  const bySeq = new Map<number, EventRoutingSummary>();
  const summaryOf = (seq: number): EventRoutingSummary => {
    let summary = bySeq.get(seq);
    if (!summary) bySeq.set(seq, (summary = { seq, started: [], delivered: [] }));
    return summary;
  };
  const started = (row: (typeof rows)[number]) => row.started === 1 || row.started === true;
  for (const row of rows) if (started(row)) summaryOf(Number(row.seq)).started.push(row.run_id);
  for (const row of rows) {
    if (started(row)) continue;
    const summary = summaryOf(Number(row.seq));
    if (!summary.started.includes(row.run_id) && !summary.delivered.includes(row.run_id)) summary.delivered.push(row.run_id);
  }
  for (const summary of bySeq.values()) {
    summary.started.sort();
    summary.delivered.sort();
  }
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}
