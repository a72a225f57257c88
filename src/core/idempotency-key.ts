/**
 * What a client's `Idempotency-Key` may be: visible ASCII, as an HTTP header carries it unchanged, and short enough to
 * store with every signal it keys. A UUID fits.
 */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** What IDEMPOTENCY_KEY_PATTERN asks for, in words, for messages. */
export const IDEMPOTENCY_KEY_RULE = 'use 1–255 visible ASCII characters (no spaces), e.g. a UUID';
