// The limits on what a webhook request may be (size, nesting), with their units and reasons.
// Other numbers live beside the mechanism they tune, each with its unit: the retry schedule and
// in lib/retry.ts, timeouts in config/destinations.ts, per-run budgets in ledger/, the KV hint's TTL in kv/seen.ts.

/** Largest webhook body accepted, in bytes (the contract's 64 KiB). PortOne's samples are under
 *  4 KiB, so this leaves room while bounding memory per request. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Deepest JSON nesting accepted, in levels. PortOne payloads nest 3 deep; deeper input parses but
 *  would overflow the stack of recursive walks (hashing, re-serializing). */
export const MAX_JSON_DEPTH = 32;

/** How much of an oversized body is read and dropped before the stream is cancelled, in bytes.
 *  Draining keeps keep-alive connections usable; the cap bounds an endless upload's hold. */
export const MAX_DISCARD_BYTES = 1024 * 1024;
