// The provider schemes by name, and the one step every scheme's items take to become the gateway's
// events: the source's overrides (objectRef, status, kind, lifecycle) applied, the event id derived
// from the provider's id (else from what is proven), and the object's kind made safe for a name.

import { eventIdOf } from "../event-id";
import { scalarAt } from "../json-scan";
import { positionOf, reject, type Lifecycle, type Rejection, type VerifiedEvent } from "../types";
import { ok, type Result } from "../../lib/result";
import { adyen } from "./adyen";
import { coinbaseCommerce } from "./coinbase-commerce";
import { paddle } from "./paddle";
import { portOneV2 } from "./portone-v2";
import { razorpay } from "./razorpay";
import type { SchemeName } from "../names";
import type { Scheme, SchemeItem } from "./scheme";
import { square } from "./square";
import { stripe } from "./stripe";
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
};

/** What a source may set over a scheme's built-in rules. */
export interface SchemeOverrides {
  readonly objectRef: string | null;
  readonly status: string | null;
  readonly kind: string | null;
  readonly lifecycle: Lifecycle;
}

/** A scheme's proven items as events of `scheme` arrived on the source `sourceName`, in the order the
 *  request carried them. Each source's events are its own: their objects and ids name the source, so a
 *  sandbox and a live source of one scheme never share an object or a webhook-id. */
export async function schemeEvents(
  scheme: SchemeName,
  sourceName: string,
  items: readonly SchemeItem[],
  overrides: SchemeOverrides,
): Promise<Result<VerifiedEvent[], Rejection>> {
  const events: VerifiedEvent[] = [];
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
    events.push({
      provider: scheme,
      kind: overrides.kind ?? kindName(item.kind),
      objectRef,
      status,
      position: positionOf(overrides.lifecycle, status),
      eventId: await eventIdOf(scheme, "event", identity),
      data: item.data,
      unverified: item.unverified,
      ...(item.deliveryId === undefined ? {} : { deliveryId: item.deliveryId }),
      sourceName,
    });
  }
  return ok(events);
}

/** A payload's object kind as a name part: lower case, [a-z0-9_.-], at most 64 characters. */
function kindName(kind: string): string {
  const name = kind
    .toLowerCase()
    .replace(/[^a-z0-9_.-]/g, "_")
    .slice(0, 64);
  return name === "" ? "event" : name;
}
