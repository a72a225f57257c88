import type { z } from 'zod';

/** A field that no two entries of a list may share. */
export interface UniqueField<Entry> {
  field: string;
  valueOf: (entry: Entry) => string;
  /** What the entry should have, in the words that follow "expected" in a config error; `first` has the value already. */
  expected: (first: number, entry: Entry) => string;
}

/**
 * A superRefine for a list whose entries must differ in each of `fields`: an entry that repeats one gets one issue,
 * on the first of them it repeats (an entry listed twice needs one fix, not one message per field), naming the entry
 * that had the value first.
 */
export function uniqueEntries<Entry>(...fields: ReadonlyArray<UniqueField<Entry>>) {
  return (entries: readonly Entry[], context: z.RefinementCtx<Entry[]>): void => {
    const seen = fields.map((field) => ({ field, firstWith: new Map<string, number>() }));
    entries.forEach((entry, index) => {
      for (const { field, firstWith } of seen) {
        const first = firstWith.get(field.valueOf(entry));
        if (first !== undefined) {
          context.addIssue({ code: 'custom', path: [index, field.field], message: field.expected(first, entry) });
          break;
        }
      }
      for (const { field, firstWith } of seen) {
        const value = field.valueOf(entry);
        if (!firstWith.has(value)) firstWith.set(value, index);
      }
    });
  };
}
