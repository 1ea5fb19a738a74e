// What a webhook route's verifier proves (ingress/verify.ts resolves the verifier, ingress/record.ts
// records what it proved): the shape every verifier hands the one recording handler.

import type { Result } from "../lib/result";
import type { Rejection, VerifiedEvent } from "./types";

/** Which provider API confirms a hint (ledger/confirmers.ts). */
export type ConfirmerName = "portone-refund" | "midtrans" | "payment-options";

/** Whose API answers for each confirmer, as the reasons and pages name it. */
export const CONFIRMER_API: Readonly<Record<ConfirmerName, string>> = {
  "portone-refund": "PortOne",
  midtrans: "Midtrans",
  "payment-options": "Payment Options",
};

/** A notification that proves too little to forward (PortOne's unsigned refund webhook; Midtrans's,
 *  whose signature covers three fields; Payment Options', which carries only a token): kept by its
 *  object's ledger, which asks the provider's API about `subject`. Only the API's answer is forwarded. */
export interface Hint {
  /** The object it is kept on (its ledger's name, providers/names.ts). */
  readonly objectName: string;
  readonly confirmer: ConfirmerName;
  /** What the API is asked about: a refund's id, a transaction's id. */
  readonly subject: string;
  /** The reference the API is asked under beside the subject (a refund's payment), else the object's. */
  readonly parentRef: string;
  /** The status the hint claims, or null. */
  readonly claimed: string | null;
  /** The hint's identity: the same hint again is a duplicate. */
  readonly eventId: string;
  /** The hint's body as kept (card numbers masked). */
  readonly payload: Record<string, unknown>;
}

/** One thing a request proved: an event a signature proved, with the bytes it came in (the body, or a
 *  batch item's own content), whose hash tells a redelivery with other bytes as a conflict; or a hint
 *  to be confirmed with its provider's API. */
export type ProvenItem = { readonly event: VerifiedEvent; readonly content: string } | { readonly hint: Hint };

/** What a request proved, and the answer its provider expects once every item is stored: a text of
 *  the scheme's own (Adyen's `[accepted]`, FPX's `OK`), or null for the gateway's JSON `{"result": ...}`. */
export interface Proven {
  readonly items: readonly ProvenItem[];
  readonly answer: string | null;
}

/** A route's verifier: proves a raw body, or says why not. */
export type Verify = (raw: string) => Promise<Result<Proven, Rejection>>;
