// Reads the request body as text, bounded while reading: a body over the limit is refused as soon
// as the limit is crossed, without buffering the rest. Verification needs the exact bytes, so the
// text is kept in the context for the provider's middleware.

import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { MAX_DISCARD_BYTES } from "../lib/limits";
import { httpError } from "../lib/http-errors";

export interface RawBodyOptions {
  /** Largest accepted body, in bytes. */
  maxBytes: number;
}

export function rawBody(options: RawBodyOptions): MiddlewareHandler<AppEnv> {
  const { maxBytes } = options;
  if (!Number.isInteger(maxBytes) || maxBytes <= 0)
    throw new RangeError("rawBody: maxBytes must be a positive integer");
  const tooLarge = () => httpError(413, "payload_too_large", `The body is larger than ${maxBytes} bytes.`);

  return async function readRawBody(c, next) {
    const declared = c.req.header("content-length");
    if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge();
    const bytes = await readAtMost(c.req.raw.body, maxBytes);
    if (bytes === null) throw tooLarge();
    // Invalid UTF-8 becomes U+FFFD, as Go's JSON decoder reads it.
    c.set("rawBody", new TextDecoder().decode(bytes));
    await next();
  };
}

/** The stream's bytes, or null as soon as more than `limit` bytes arrive. */
async function readAtMost(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array | null> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await discardRest(reader, total);
      return null;
    }
    chunks.push(value);
  }
  return concat(chunks, total);
}

/**
 * Reads and drops what is left of an oversized body, up to MAX_DISCARD_BYTES, then cancels.
 * Answering before the body is consumed breaks the connection under wrangler dev (its proxy fails
 * the next request with 503); discarding keeps memory bounded, and the cap bounds the time an
 * endless stream can hold the request.
 */
async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>, alreadyRead: number): Promise<void> {
  let read = alreadyRead;
  while (read <= MAX_DISCARD_BYTES) {
    const { done, value } = await reader.read();
    if (done) return;
    read += value.byteLength;
  }
  await reader.cancel();
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
