// Every request the gateway makes to the outside world (the merchant's origin, PortOne's API)
// goes through this one seam. Tests put stand-ins for those services here; nothing inside the
// Worker (KV, Durable Objects) is ever replaced.

export const outbound = {
  fetch: (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => fetch(input, init),
};
