/**
 * A stable 64-bit (16 hex digit) hash for deriving ids, written here because the core may not use
 * `node:crypto`. Not cryptographic: ids derived from it are idempotency keys, not secrets.
 */
export function stableHash(text: string): string {
  // Two independent 32-bit FNV-1a-style lanes with different offsets give 64 bits.
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
