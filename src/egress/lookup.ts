// What asking a provider's API gives: the answer, or one failure union for every endpoint of every
// provider (PortOne's, Midtrans's, Payment Options'): `auth` is a configuration problem the caller stops
// on; `unavailable` (5xx, timeouts, refused connections) is backed off; `not_found` means the provider
// does not know the reference (yet); `unreadable` is an answer that cannot be read, never a status.

import type { Result } from "../lib/result";

export type LookupFailure =
  | { readonly kind: "auth"; readonly reason: string }
  | { readonly kind: "not_found"; readonly reason: string }
  | { readonly kind: "unavailable"; readonly reason: string }
  | { readonly kind: "unreadable"; readonly reason: string };

export type Lookup<T> = Result<T, LookupFailure>;
