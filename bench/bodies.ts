// Pre-signed bodies for the benchmark's scenarios, signed by the gateway's own PortOne signer.
import { PAYMENT_LINK } from "../src/providers/portone/kinds";
import { withSignature } from "../src/providers/portone/sign";
import { paymentLinkSample } from "../fixtures/portone-samples";

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

/** `count` distinct events of one payment link, all Processing, each with another signed amount: an
 *  event is named by its signed fields, so unsigned differences (a subscription's collected_count)
 *  would make them one event and measure duplicates instead. */
export async function hotObject(run: string, count: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const payload = { ...paymentLinkSample, link_ref: `${run}_hot`, status: "Processing", amount: 500 + i };
      return JSON.stringify(await withSignature(payload, PAYMENT_LINK, SECRET));
    }),
  );
}
