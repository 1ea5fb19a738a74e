// What a webhook route's verifier proves (ingress/verify.ts resolves the verifier, ingress/record.ts
// records what it proved): the shape every verifier hands the one recording handler.

import type { Result } from "../lib/result";
import type { RefundHint } from "./portone/refund";
import type { Rejection, VerifiedEvent } from "./types";

/** One thing a request proved: an event a signature proved, with the bytes it came in (the body, or a
 *  batch item's own content), whose hash tells a redelivery with other bytes as a conflict; or a refund
 *  hint, which proves nothing and is kept to be confirmed with PortOne's API. */
export type ProvenItem =
  { readonly event: VerifiedEvent; readonly content: string } | { readonly refundHint: RefundHint };

/** What a request proved, and the answer its provider expects once every item is stored: a text of
 *  the scheme's own (Adyen's `[accepted]`), or null for the gateway's JSON `{"result": ...}`. */
export interface Proven {
  readonly items: readonly ProvenItem[];
  readonly answer: string | null;
}

/** A route's verifier: proves a raw body, or says why not. */
export type Verify = (raw: string) => Promise<Result<Proven, Rejection>>;
