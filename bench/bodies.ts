// Pre-signed bodies for the benchmark's scenarios, signed by the gateway's own PortOne signer.
import { PAYMENT_LINK, SUBSCRIPTION_LINK } from "../src/providers/portone/kinds";
import { withSignature } from "../src/providers/portone/sign";
import { paymentLinkSample, subscriptionLinkSample } from "../fixtures/portone-samples";

export const SECRET = "PORTONE_SECRET";

/** `count` new payment-link events over `objects` distinct links: each link Created, then Processing. */
export async function newEvents(run: string, count: number, objects: number): Promise<string[]> {
  const statuses = ["Created", "Processing", "Success"];
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const status = statuses[Math.floor(i / objects) % statuses.length] as string;
      const payload = { ...paymentLinkSample, link_ref: `${run}_${i % objects}`, status };
      return JSON.stringify(await withSignature(payload, PAYMENT_LINK, SECRET));
    }),
  );
}

/** `count` distinct events of one subscription (Active after each deduction). */
export async function hotObject(run: string, count: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const payload = { ...subscriptionLinkSample, order_ref: `${run}_hot`, status: "Active", collected_count: i + 1 };
      return JSON.stringify(await withSignature(payload, SUBSCRIPTION_LINK, SECRET));
    }),
  );
}
