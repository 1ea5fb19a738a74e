// The provider schemes' names: WEBHOOK_SOURCES' `scheme`, the route's segment and the events' provider.

export const SCHEME_NAMES = [
  "stripe",
  "razorpay",
  "adyen",
  "paddle",
  "square",
  "coinbase-commerce",
  "xendit",
  "portone-v2",
] as const;
export type SchemeName = (typeof SCHEME_NAMES)[number];

export function isSchemeName(name: unknown): name is SchemeName {
  return typeof name === "string" && (SCHEME_NAMES as readonly string[]).includes(name);
}
