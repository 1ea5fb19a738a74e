// PortOne's signed webhook kinds (spec §1, §3.5, §5.3, §6.3) and their lifecycles (§3.3, §5.1, §6.1).
// The body carries no type: the kind comes from the route the merchant registered in the portal.

import type { Lifecycle } from "../types";

/** A signed pair of the canonical message: its key, where its value is read, and its JSON type. */
export interface SignedField {
  readonly key: string;
  /** JSON fields tried in order; the first one present (not null) gives the value. */
  readonly from: readonly string[];
  readonly type: "string" | "amount";
}

export interface PortOneKind {
  /** Path segment of the route: /webhooks/portone/<slug>. */
  readonly slug: string;
  /** Name in the forwarded envelope: portone.<kind>.<status>. */
  readonly kind: string;
  /** The JSON field naming the payment object whose events are serialized together. */
  readonly objectRefField: string;
  /** In canonical (byte) order of `key`. */
  readonly signed: readonly SignedField[];
  readonly lifecycle: Lifecycle;
}

const str = (key: string, ...from: string[]): SignedField => ({
  key,
  from: from.length > 0 ? from : [key],
  type: "string",
});
const amount: SignedField = { key: "amount", from: ["amount"], type: "amount" };

export const PAYMENT: PortOneKind = {
  slug: "payment",
  kind: "payment",
  objectRefField: "order_ref",
  signed: [
    amount,
    str("channel_key"),
    str("channel_order_ref"),
    str("country_code"),
    str("currency"),
    str("merchant_order_ref"),
    str("method_name"),
    str("order_ref"),
    str("status"),
  ],
  // §3.3: Initiated -> Pending -> Success | Failed | Expired.
  lifecycle: { ranks: { initiated: 0, pending: 1 }, terminal: ["success", "failed", "expired"] },
};

export const PAYMENT_LINK: PortOneKind = {
  slug: "payment-link",
  kind: "payment_link",
  objectRefField: "link_ref",
  signed: [
    amount,
    // §5.3: signed as country_code, read from the camelCase JSON field, with a fallback.
    str("country_code", "countryCode", "country_code"),
    str("currency"),
    str("link_ref"),
    str("merchant_order_ref"),
    str("status"),
  ],
  // §5.1: Created -> Processing -> Success | Expired; Created -> Cancelled | Expired; Deleted (link API).
  lifecycle: {
    ranks: { created: 0, processing: 1 },
    terminal: ["success", "expired", "cancelled", "canceled", "deleted"],
  },
};

export const SUBSCRIPTION_LINK: PortOneKind = {
  slug: "subscription-link",
  kind: "subscription_link",
  objectRefField: "order_ref",
  signed: [str("currency"), str("merchant_order_ref"), str("order_ref"), str("status")],
  // §6.1: Created -> Active -> Completed; Created -> Expired | Cancelled.
  lifecycle: {
    ranks: { created: 0, active: 1 },
    terminal: ["completed", "expired", "cancelled", "canceled"],
  },
};

export const SIGNED_KINDS: ReadonlyMap<string, PortOneKind> = new Map(
  [PAYMENT, PAYMENT_LINK, SUBSCRIPTION_LINK].map((k) => [k.slug, k]),
);

/** The same kinds by their envelope name (payment, payment_link, subscription_link). */
export const SIGNED_KINDS_BY_NAME: ReadonlyMap<string, PortOneKind> = new Map(
  [PAYMENT, PAYMENT_LINK, SUBSCRIPTION_LINK].map((k) => [k.kind, k]),
);
