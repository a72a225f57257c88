import { UsageError } from './errors.js';

/**
 * Fatal, as the API's decoder is (server/http/input.ts): a file that is not UTF-8 would otherwise reach the server with
 * U+FFFD where its characters were, and the run or event would keep the loss. A leading BOM (Windows editors write one)
 * is dropped by the decoder, as it is by the API.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The second bytes a lead byte allows where they are narrower than 0x80–0xBF (no overlong forms, surrogates or > U+10FFFF). */
const SECOND_BYTE: Readonly<Record<number, readonly [number, number]>> = {
  0xe0: [0xa0, 0xbf],
  0xed: [0x80, 0x9f],
  0xf0: [0x90, 0xbf],
  0xf4: [0x80, 0x8f],
};

/**
 * Where the first sequence that is not UTF-8 starts, by the rules the decoder applies; undefined when there is none.
 * The decoder only says that the bytes are not UTF-8, and a person with a 2 MB file needs to know where.
 */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number | undefined {
  for (let at = 0; at < bytes.length;) {
    const lead = bytes[at]!;
    const length =
      lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (length === 0) return at;
    for (let next = 1; next < length; next++) {
      const [min, max] = next === 1 ? (SECOND_BYTE[lead] ?? [0x80, 0xbf]) : [0x80, 0xbf];
      const byte = bytes[at + next];
      if (byte === undefined || byte < min || byte > max) return at;
    }
    at += length;
  }
  return undefined;
}

/**
 * The text of a file the CLI reads as input (`--input-file`, `--data-file`, a history file), `what` naming it for the
 * message: UTF-8 without a leading BOM. Bytes that are not UTF-8 are a UsageError naming the file and the offset of
 * the first of them, the decoder's own message saying neither.
 */
export function decodeUtf8File(bytes: Uint8Array, what: string): string {
  try {
    return UTF8.decode(bytes);
  } catch (caught) {
    const at = firstInvalidUtf8Offset(bytes);
    const where = at === undefined ? 'it ends inside a character' : `byte 0x${bytes[at]!.toString(16).padStart(2, '0')} at offset ${at}`;
    throw new UsageError(`${what} is not UTF-8 (${where}; Latin-1 or Windows-1252 text, say): save it as UTF-8 and run the command again`, {
      cause: caught,
    });
  }
}
