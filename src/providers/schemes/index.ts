// The provider schemes by name, and the one step every scheme's items take to become what the gateway
// records: the source's overrides (objectRef, status, kind, lifecycle) applied, the event id derived
// from the provider's id (else from what is proven), the object's kind made safe for a name, and an
// item that proves only a hint kept as one (card numbers masked) for the provider's API to confirm.

import { maskCards } from "../card-mask";
import { eventIdOf, stableStringify } from "../event-id";
import { scalarAt } from "../json-scan";
import { positionOf, reject, type Lifecycle, type Rejection, type VerifiedEvent } from "../types";
import { ok, type Result } from "../../lib/result";
import { adyen } from "./adyen";
import { cashfree } from "./cashfree";
import { coinbaseCommerce } from "./coinbase-commerce";
import { fpx } from "./fpx";
import { midtrans } from "./midtrans";
import { omise } from "./omise";
import { paddle } from "./paddle";
import { paymentOptions } from "./payment-options";
import { paymongo } from "./paymongo";
import { paystack } from "./paystack";
import { portOneV2 } from "./portone-v2";
import { pulse2pay } from "./pulse2pay";
import { razorpay } from "./razorpay";
import { objectNameOf, type SchemeName } from "../names";
import type { Hint, ProvenItem } from "../proven";
import type { Scheme, SchemeItem } from "./scheme";
import { square } from "./square";
import { stripe } from "./stripe";
import { twoCTwoP } from "./two-c-two-p";
import { xendit } from "./xendit";

export const SCHEMES: Readonly<Record<SchemeName, Scheme>> = {
  stripe,
  razorpay,
  adyen,
  paddle,
  square,
  "coinbase-commerce": coinbaseCommerce,
  xendit,
  "portone-v2": portOneV2,
  pulse2pay,
  omise,
  paymongo,
  cashfree,
  paystack,
  "2c2p": twoCTwoP,
  fpx,
  midtrans,
  "payment-options": paymentOptions,
};

/** What a source may set over a scheme's built-in rules. */
export interface SchemeOverrides {
  readonly objectRef: string | null;
  readonly status: string | null;
  readonly kind: string | null;
  readonly lifecycle: Lifecycle;
}

/** What a request of `scheme` proved, arrived on the source `sourceName`, in the order the request
 *  carried it: each item an event (with the bytes it came in: the request's, or a batch item's own
 *  content), or a hint for the provider's API to confirm. Each source's events are its own: their objects
 *  and ids name the source, so a sandbox and a live source of one scheme never share an object or a
 *  webhook-id. */
export async function provenItems(
  scheme: SchemeName,
  sourceName: string,
  raw: string,
  items: readonly SchemeItem[],
  overrides: SchemeOverrides,
): Promise<Result<ProvenItem[], Rejection>> {
  const proven: ProvenItem[] = [];
  for (const item of items) {
    const objectRef = overrides.objectRef === null ? item.objectRef : scalarAt(item.data, overrides.objectRef);
    if (objectRef === null) return reject("missing_object_ref", `no object reference in a ${scheme} event`);
    const status = overrides.status === null ? item.status : scalarAt(item.data, overrides.status);
    if (status === null) return reject("missing_status", `no event type or status in a ${scheme} event`);
    // The provider's event id names the event; without one, what the signature proves does.
    // With its object: an id reused for another object (Xendit's webhook-id covers no body) is
    // another event, never a second one under the same webhook-id.
    const identity = {
      ...(item.id === null ? { proven: item.data } : { id: item.id, object: objectRef }),
      source: sourceName,
    };
    const kind = overrides.kind ?? kindName(item.kind);
    if (item.confirm !== undefined) {
      const hint: Hint = {
        objectName: objectNameOf(sourceName, kind, objectRef),
        confirmer: item.confirm.by,
        subject: item.confirm.subject,
        parentRef: objectRef,
        claimed: item.confirm.claimed,
        eventId: await eventIdOf(scheme, "hint", identity),
        payload: maskCards(item.data) as Record<string, unknown>,
      };
      proven.push({ hint });
      continue;
    }
    const event: VerifiedEvent = {
      provider: scheme,
      kind,
      objectRef,
      status,
      position: positionOf(overrides.lifecycle, status),
      eventId: await eventIdOf(scheme, "event", identity),
      data: item.data,
      unverified: item.unverified,
      ...(item.type === undefined ? {} : { type: item.type }),
      ...(item.deliveryId === undefined ? {} : { deliveryId: item.deliveryId }),
      sourceName,
    };
    const content = SCHEMES[scheme].batch ? stableStringify({ data: item.data, unverified: item.unverified }) : raw;
    proven.push({ event, content });
  }
  return ok(proven);
}

/** A payload's object kind as a name part: lower case, [a-z0-9_.-], at most 64 characters. */
function kindName(kind: string): string {
  const name = kind
    .toLowerCase()
    .replace(/[^a-z0-9_.-]/g, "_")
    .slice(0, 64);
  return name === "" ? "event" : name;
}
