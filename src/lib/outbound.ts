// Every request the gateway makes to the outside world (the merchant's origin, PortOne's API)
// goes through this one seam. Tests put stand-ins for those services here; nothing inside the
// Worker (KV, Durable Objects) is ever replaced.

export const outbound = {
  fetch: (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => fetch(input, init),
};

/**
 * A request that fails with a TimeoutError after `timeoutMs`. The timer is cleared on return (not
 * AbortSignal.timeout): a pending timer would keep a Durable Object busy, and unevictable, for the
 * whole timeout after a quick answer.
 */
export async function fetchWithTimeout(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new DOMException("timed out", "TimeoutError")), timeoutMs);
  try {
    return await outbound.fetch(url, { ...init, signal: abort.signal });
  } finally {
    clearTimeout(timer);
  }
}
