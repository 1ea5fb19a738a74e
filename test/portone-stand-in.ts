// A PortOne API stand-in that follows the documented shapes (docs/portone-api.md), with
// their odd envelopes: transaction-details and the subscription endpoints under `content`,
// fetch-all-payments under `body.content`, unknown references as HTTP 400 with status_code 4096 /
// 4001, and on demand a 500, a hang (the timeout the client would meet), garbage, or an auth error.
import { portoneApi } from "./stand-ins";

type Json = Record<string, unknown>;
export type Misbehaviour = "500" | "hang" | "garbage" | "auth";

export const fakePortOne = {
  payments: new Map<string, Json>(),
  links: new Map<string, Json>(),
  subscriptions: new Map<string, Json>(),
  charges: new Map<string, Json[]>(),
  /** Payments fetch-all-payments lists, in pages of the size asked. */
  listed: [] as Json[],
  /** Every answer goes wrong this way (until cleared). */
  misbehaving: null as Misbehaviour | null,
  calls: [] as string[],
  reset(): void {
    this.payments.clear();
    this.links.clear();
    this.subscriptions.clear();
    this.charges.clear();
    this.listed = [];
    this.misbehaving = null;
    this.calls = [];
  },
};

const answer = (content: unknown): Response =>
  Response.json({ content, status_code: "2000", status_reason: "SUCCESS" });
const unknownRef = (code: string): Response =>
  Response.json(
    {
      message: "Transaction record with given reference not found",
      status_code: code,
      status_reason: "INVALID_REFERENCE",
    },
    { status: 400 },
  );

async function route(request: Request): Promise<Response> {
  const path = new URL(request.url).pathname;
  fakePortOne.calls.push(`${request.method} ${path}`);
  switch (fakePortOne.misbehaving) {
    case "500":
      return new Response("upstream exploded", { status: 500 });
    case "hang":
      throw new DOMException("The operation timed out", "TimeoutError");
    case "garbage":
      return new Response("<html>not json</html>", { status: 200, headers: { "content-type": "text/html" } });
    case "auth":
      return Response.json(
        {
          message: "invalid key",
          status_code: "4010",
          status_reason: "INVALID_UNAUTHORISED_TRANSACTION_IAMPORTKEY_ERROR",
        },
        { status: 400 },
      );
    default:
  }
  let m = /^\/api\/[^/]+\/transaction-details$/.exec(path);
  if (m && request.method === "POST") {
    const { order_ref } = await request.json<{ order_ref: string }>();
    const payment = fakePortOne.payments.get(order_ref);
    return payment ? answer(payment) : unknownRef("4096");
  }
  m = /^\/api\/transaction\/([^/]+)\/status$/.exec(path);
  if (m) {
    const merchantRef = decodeURIComponent(m[1] ?? "");
    const payment = [...fakePortOne.payments.values()].find((p) => p.merchant_order_ref === merchantRef);
    return payment
      ? answer({ order_ref: payment.order_ref, channel_order_ref: payment.channel_order_ref, status: payment.status })
      : unknownRef("4096");
  }
  m = /^\/api\/paymentLink\/([^/]+)\/fetch-status$/.exec(path);
  if (m) {
    const link = fakePortOne.links.get(decodeURIComponent(m[1] ?? ""));
    return link ? answer(link) : unknownRef("4096");
  }
  m = /^\/api\/subscription\/([^/]+)\/txns-records$/.exec(path);
  if (m) return answer(fakePortOne.charges.get(decodeURIComponent(m[1] ?? "")) ?? []);
  m = /^\/api\/subscription\/([^/]+)$/.exec(path);
  if (m) {
    const subscription = fakePortOne.subscriptions.get(decodeURIComponent(m[1] ?? ""));
    return subscription ? answer(subscription) : unknownRef("4001");
  }
  m = /^\/api\/merchant\/[^/]+\/fetch-all-payments$/.exec(path);
  if (m && request.method === "POST") {
    const { page, size } = await request.json<{ page: number; size: number }>();
    const content = fakePortOne.listed.slice((page - 1) * size, page * size);
    const total_pages = Math.max(1, Math.ceil(fakePortOne.listed.length / size));
    return Response.json({
      body: { content, total_pages, total_elements: fakePortOne.listed.length },
      status_code: "2000",
    });
  }
  return Response.json({ message: `no route ${path}` }, { status: 404 });
}

/** Installs the stand-in as PortOne's API for this test. */
export function installFakePortOne(): void {
  fakePortOne.reset();
  portoneApi.answer(route);
}

/** A payment as transaction-details returns it. */
export function paymentContent(orderRef: string, status: string, amount = 10000): Json {
  return {
    order_ref: orderRef,
    merchant_order_ref: `${orderRef}_m`,
    channel_order_ref: "0",
    amount,
    currency: "VND",
    status,
    refund_status: "",
    payment_link_ref: "",
    subscription_order_ref: "",
    date: "2026-11-30T10:00:00Z",
  };
}
