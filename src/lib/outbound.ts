// Every request the gateway makes to the outside world (the merchant's origin, PortOne's API,
// Cloudflare Access's keys) goes through this one seam. Tests put stand-ins for those services here;
// nothing inside the Worker (KV, Durable Objects) is ever replaced.
// One deadline covers the whole exchange, the body included, and the body read is bounded: an answer
// that sends its headers and then a byte at a time, or a body without end, cannot hold an alarm, a
// reconciliation pass or a console request past the deadline.

export const outbound = {
  fetch: (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => fetch(input, init),
};

/** An answer as read within the deadline: its status and headers, and at most `maxBytes` of its body. */
export interface OutboundAnswer {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: Headers;
  /** The body as text (UTF-8), cut at `maxBytes`; empty when it was not read. */
  readonly body: string;
  /** Whether the body was longer than `maxBytes` (what is past it was never read). */
  readonly truncated: boolean;
}

export interface OutboundLimits {
  /** The deadline of the whole exchange, body included, in ms. */
  readonly timeoutMs: number;
  /** The most of the body read, in bytes. */
  readonly maxBytes: number;
  /** Whether to read the body of an answer with this status (default: always). */
  readonly readBody?: (status: number) => boolean;
}

/** One request whose answer is read within `timeoutMs` (a TimeoutError past it). The timer is
 *  cleared on return (not AbortSignal.timeout): a pending timer would keep a Durable Object busy,
 *  and unevictable, for the whole timeout after a quick answer. */
export async function fetchBounded(url: string, init: RequestInit, limits: OutboundLimits): Promise<OutboundAnswer> {
  const abort = new AbortController();
  let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const reason = new DOMException(`no answer within ${limits.timeoutMs} ms`, "TimeoutError");
      abort.abort(reason);
      reader?.cancel(reason).catch(() => undefined);
      reject(reason);
    }, limits.timeoutMs);
  });
  const exchange = (async (): Promise<OutboundAnswer> => {
    const response = await outbound.fetch(url, { ...init, signal: abort.signal });
    const { status, ok, headers } = response;
    if (response.body === null || !(limits.readBody?.(status) ?? true)) {
      await response.body?.cancel();
      return { status, ok, headers, body: "", truncated: false };
    }
    reader = response.body.getReader();
    return { status, ok, headers, ...(await readAtMost(reader, limits.maxBytes)) };
  })();
  exchange.catch(() => undefined); // once the deadline has passed, its end is nobody's concern
  try {
    return await Promise.race([exchange, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function readAtMost(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  maxBytes: number,
): Promise<{ body: string; truncated: boolean }> {
  const decoder = new TextDecoder();
  let body = "";
  let left = maxBytes;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { body: body + decoder.decode(), truncated: false };
    if (value.byteLength > left) {
      body += decoder.decode(value.subarray(0, left));
      await reader.cancel();
      return { body, truncated: true };
    }
    body += decoder.decode(value, { stream: true });
    left -= value.byteLength;
  }
}

/** The body as JSON, or undefined when it is not (or was cut short). */
export function jsonOf(answer: OutboundAnswer): unknown {
  if (answer.truncated) return undefined;
  try {
    return JSON.parse(answer.body) as unknown;
  } catch {
    return undefined;
  }
}

/** Where the gateway may send a request: an absolute https URL, or http to a loopback host
 *  (development); null otherwise. */
export function outboundUrl(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol === "https:") return url.href;
  const loopback =
    url.hostname === "localhost" || url.hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  return url.protocol === "http:" && loopback ? url.href : null;
}
