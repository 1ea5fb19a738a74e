// The names events carry: the provider schemes' (WEBHOOK_SOURCES' `scheme`, the route's segment and the
// events' provider), the gateway's own, the event type built from them, and an object's name,
// `provider:kind:ref` (the provider part a source's name for a source's events): the name of the Durable
// Object that holds the payment object and the read model's `object` column. Joined and split only
// here; the ref may itself hold colons.

export const SCHEME_NAMES = [
  "stripe",
  "razorpay",
  "adyen",
  "paddle",
  "square",
  "coinbase-commerce",
  "xendit",
  "portone-v2",
  "pulse2pay",
  "omise",
  "paymongo",
  "cashfree",
  "paystack",
  "2c2p",
  "fpx",
  "midtrans",
  "payment-options",
] as const;
export type SchemeName = (typeof SCHEME_NAMES)[number];

export function isSchemeName(name: unknown): name is SchemeName {
  return typeof name === "string" && (SCHEME_NAMES as readonly string[]).includes(name);
}

/** The provider name of the gateway's own events (a destination's test event). */
export const GATEWAY_PROVIDER = "gateway";

/** An event's type, as forwarded and as destinations' `types` globs match it: the type a scheme named
 *  apart from the status (Pulse2Pay's `event`, FPX's message type), else as its provider, kind and
 *  status make it (eventType). */
export function typeOf(ref: { provider: string; kind: string; status: string; type?: string | null }): string {
  return ref.type ?? eventType(ref.provider, ref.kind, ref.status);
}

/** An event's type from its provider, kind and status: provider.kind.status. */
export function eventType(provider: string, kind: string, status: string): string {
  // The gateway's own events are named by their kind alone (gateway.test).
  if (provider === GATEWAY_PROVIDER) return `${provider}.${kind}`;
  // A provider scheme's status is the provider's own event type: stripe.payment_intent.succeeded;
  // PortOne V2's keeps its case (portone-v2.Transaction.Paid).
  if (isSchemeName(provider)) return `${provider}.${provider === "portone-v2" ? status : status.toLowerCase()}`;
  return `${provider}.${kind}.${status.toLowerCase()}`;
}

/** An object's name. */
export function objectNameOf(provider: string, kind: string, ref: string): string {
  return `${provider}:${kind}:${ref}`;
}

export function objectNameParts(name: string): { provider: string; kind: string; ref: string } {
  const [provider = "", kind = "", ...rest] = name.split(":");
  return { provider, kind, ref: rest.join(":") };
}
