// Test vectors for the provider schemes, made with each provider's own official SDK: a realistic
// payload is signed (by the SDK where it signs, else by node:crypto) and then handed to the SDK's
// own verifier, which must accept it before it is written. The SDKs are dev dependencies only; the
// gateway never imports them. Xendit publishes no verifying SDK: its token is compared as documented.
//
//   node scripts/provider-vectors.mjs              writes fixtures/provider-vectors.json (committed)
//   node scripts/provider-vectors.mjs --post URL   signs fresh events now and tries them against a
//                                                  running gateway (npm run dev): genuine, replay, one
//                                                  byte changed (.dev.vars.example has these sources)
//   node scripts/provider-vectors.mjs --sources    prints the WEBHOOK_SOURCES those vectors need

import { createHmac, randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import Stripe from "stripe";
import Razorpay from "razorpay";
import { hmacValidator as HmacValidator } from "@adyen/api-library";
import { Paddle, Environment } from "@paddle/paddle-node-sdk";
import { WebhooksHelper } from "square";
import coinbase from "coinbase-commerce-node";
import { Webhook as PortOneWebhook } from "@portone/server-sdk";
import { existsSync, readFileSync } from "node:fs";
import { fpxKeys, seaSources, seaTraps, seaVectors, STAND_IN } from "./provider-vectors-sea.mjs";

const FIXTURE = new URL("../fixtures/provider-vectors.json", import.meta.url);
/** FPX's test key and certificates, kept in the fixture once made (provider-vectors-sea.mjs). */
const FPX = await fpxKeys(existsSync(FIXTURE) ? JSON.parse(readFileSync(FIXTURE, "utf8")).fpx : undefined);

/** Test secrets only: each scheme's source in WEBHOOK_SOURCES. */
export const SOURCES = {
  eu: { scheme: "stripe", secret: "whsec_test_0123456789abcdefghijklmnopqrstuv" },
  in: { scheme: "razorpay", secret: "razorpay-webhook-secret-0123" },
  cards: { scheme: "adyen", secret: "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056" },
  saas: { scheme: "paddle", secret: "pdl_ntfset_01hv8x2ay4t2d7qq8xa6j6vxwe_0123456789abcdefgh" },
  pos: {
    scheme: "square",
    secret: "sq-signature-key-0123456789",
    notificationUrl: "https://gateway.example.com/webhooks/square/pos",
  },
  crypto: { scheme: "coinbase-commerce", secret: "cc-shared-secret-0123456789" },
  id: { scheme: "xendit", secret: "xnd_callback_token_0123456789abcdefghijklmnop" },
  kr: { scheme: "portone-v2", secret: `whsec_${Buffer.from("portone-v2-webhook-secret-012345").toString("base64")}` },
  ...seaSources(FPX),
};

const hex = (secret, message) => createHmac("sha256", secret).update(message, "utf8").digest("hex");
const b64 = (secret, message) => createHmac("sha256", secret).update(message, "utf8").digest("base64");
const unique = () => randomUUID().replace(/-/g, "").slice(0, 16);

async function stripeVector(now) {
  const { secret } = SOURCES.eu;
  const pi = `pi_3Q${unique()}`;
  const body = JSON.stringify({
    id: `evt_3Q${unique()}`,
    object: "event",
    api_version: "2024-06-20",
    created: now,
    type: "payment_intent.succeeded",
    livemode: false,
    data: { object: { id: pi, object: "payment_intent", amount: 2000, currency: "usd", status: "succeeded" } },
  });
  const stripe = new Stripe("sk_test_vectors");
  const header = await stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret, timestamp: now });
  await stripe.webhooks.constructEventAsync(body, header, secret, 300, undefined, now * 1000);
  return one(
    "stripe",
    "eu",
    body,
    { "stripe-signature": header },
    "stripe.payment_intent.succeeded",
    pi,
    "payment_intent",
  );
}

function razorpayVector(now) {
  const { secret } = SOURCES.in;
  const pay = `pay_${unique()}`;
  const body = JSON.stringify({
    entity: "event",
    account_id: "acc_BFQ7uQEaa7j2z7",
    event: "payment.captured",
    contains: ["payment"],
    payload: {
      payment: {
        entity: {
          id: pay,
          entity: "payment",
          amount: 50000,
          currency: "INR",
          status: "captured",
          order_id: `order_${unique()}`,
        },
      },
    },
    created_at: now,
  });
  const signature = hex(secret, body);
  if (!Razorpay.validateWebhookSignature(body, signature, secret)) throw new Error("razorpay SDK refused its vector");
  const headers = { "x-razorpay-signature": signature, "x-razorpay-event-id": `evt_${unique()}` };
  return one("razorpay", "in", body, headers, "razorpay.payment.captured", pay, "payment");
}

function adyenVector() {
  const { secret } = SOURCES.cards;
  const validator = new HmacValidator();
  const psp = `88${Date.now()}${Math.floor(Math.random() * 1000)}`.slice(0, 16);
  const item = (fields) => {
    const unsigned = { ...fields, additionalData: { authCode: "058318" } };
    unsigned.additionalData.hmacSignature = validator.calculateHmac(unsigned, secret);
    if (!validator.validateHMAC(unsigned, secret)) throw new Error("adyen SDK refused its vector");
    return { NotificationRequestItem: unsigned };
  };
  const common = {
    merchantAccountCode: "ShopSG",
    merchantReference: `order-${unique()}`,
    amount: { value: 1130, currency: "SGD" },
  };
  const body = JSON.stringify({
    live: "false",
    notificationItems: [
      item({
        ...common,
        pspReference: psp,
        eventCode: "AUTHORISATION",
        success: "true",
        eventDate: "2026-12-02T10:00:00+01:00",
        paymentMethod: "visa",
      }),
      item({
        ...common,
        pspReference: `${psp.slice(0, 14)}99`,
        originalReference: psp,
        eventCode: "CAPTURE",
        success: "true",
        eventDate: "2026-12-02T10:05:00+01:00",
      }),
    ],
  });
  return {
    scheme: "adyen",
    source: "cards",
    body,
    headers: {},
    expect: [
      { type: "adyen.authorisation", kind: "event", object_ref: psp },
      { type: "adyen.capture", kind: "event", object_ref: psp },
    ],
  };
}

async function paddleVector(now) {
  const { secret } = SOURCES.saas;
  const txn = `txn_01h${unique()}`;
  const body = JSON.stringify({
    event_id: `evt_01h${unique()}`,
    event_type: "transaction.completed",
    occurred_at: new Date(now * 1000).toISOString(),
    notification_id: `ntf_01h${unique()}`,
    data: { id: txn, status: "completed", currency_code: "USD", customer_id: "ctm_01hv6y1jedq4p1n0yqn5ba3ky4" },
  });
  const signature = `ts=${now};h1=${hex(secret, `${now}:${body}`)}`;
  const paddle = new Paddle("pdl_sdbx_apikey_vectors", { environment: Environment.sandbox });
  if (!(await paddle.webhooks.isSignatureValid(body, secret, signature)))
    throw new Error("paddle SDK refused its vector");
  return one(
    "paddle",
    "saas",
    body,
    { "paddle-signature": signature },
    "paddle.transaction.completed",
    txn,
    "transaction",
  );
}

async function squareVector(now) {
  const { secret, notificationUrl } = SOURCES.pos;
  const payment = `KkAkhdMsgzn59SM8A89WgKwekxLZY${unique().slice(0, 4)}`;
  const body = JSON.stringify({
    merchant_id: "6SSW7HV8K2ST5",
    type: "payment.updated",
    event_id: randomUUID(),
    created_at: new Date(now * 1000).toISOString(),
    data: {
      type: "payment",
      id: payment,
      object: { payment: { id: payment, status: "COMPLETED", amount_money: { amount: 100, currency: "USD" } } },
    },
  });
  const signature = b64(secret, notificationUrl + body);
  const valid = await WebhooksHelper.verifySignature({
    requestBody: body,
    signatureHeader: signature,
    signatureKey: secret,
    notificationUrl,
  });
  if (!valid) throw new Error("square SDK refused its vector");
  return one(
    "square",
    "pos",
    body,
    { "x-square-hmacsha256-signature": signature },
    "square.payment.updated",
    payment,
    "payment",
  );
}

function coinbaseVector(now) {
  const { secret } = SOURCES.crypto;
  const code = unique().slice(0, 8).toUpperCase();
  const body = JSON.stringify({
    id: 1,
    scheduled_for: new Date(now * 1000).toISOString(),
    event: {
      id: randomUUID(),
      resource: "event",
      type: "charge:confirmed",
      api_version: "2018-03-22",
      created_at: new Date(now * 1000).toISOString(),
      data: { code, id: randomUUID(), resource: "charge", name: "Order", pricing_type: "fixed_price" },
    },
  });
  const signature = coinbase.Webhook.computeSignature(body, secret);
  coinbase.Webhook.verifyEventBody(body, signature, secret); // throws when the SDK refuses it
  return one(
    "coinbase-commerce",
    "crypto",
    body,
    { "x-cc-webhook-signature": signature },
    "coinbase-commerce.charge:confirmed",
    code,
    "charge",
  );
}

function xenditVector() {
  const invoice = unique().slice(0, 24);
  const body = JSON.stringify({
    id: invoice,
    external_id: `invoice-${unique()}`,
    user_id: "5781d19b2e2385880609791c",
    status: "PAID",
    merchant_name: "Shop ID",
    amount: 50000,
    currency: "IDR",
    paid_at: "2026-12-02T10:00:00.000Z",
    payment_method: "BANK_TRANSFER",
  });
  // No SDK verifies callbacks: the token is the rule (docs.xendit.co, "Verify webhook").
  const headers = { "x-callback-token": SOURCES.id.secret, "webhook-id": `whk_${unique()}` };
  return one("xendit", "id", body, headers, "xendit.paid", invoice, "event");
}

async function portOneV2Vector(now) {
  const { secret } = SOURCES.kr;
  const paymentId = `payment-${randomUUID()}`;
  const body = JSON.stringify({
    type: "Transaction.Paid",
    timestamp: new Date(now * 1000).toISOString(),
    data: { paymentId, storeId: "store-4c8c4fcd-9b7a-4f4a-8a27-2d1a4f2b2c3e", transactionId: randomUUID() },
  });
  const id = `msg_${unique()}`;
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const signature = createHmac("sha256", key).update(`${id}.${now}.${body}`).digest("base64");
  const headers = { "webhook-id": id, "webhook-timestamp": String(now), "webhook-signature": `v1,${signature}` };
  await PortOneWebhook.verify(secret, body, headers); // throws when the SDK refuses it
  return one("portone-v2", "kr", body, headers, "portone-v2.Transaction.Paid", paymentId, "payment");
}

function one(scheme, source, body, headers, type, objectRef, kind) {
  return { scheme, source, body, headers, expect: [{ type, kind, object_ref: objectRef }] };
}

/** Every scheme's vector, signed at `now` (seconds) and accepted by its SDK. */
export async function vectors(now = Math.floor(Date.now() / 1000)) {
  return [
    await stripeVector(now),
    razorpayVector(now),
    adyenVector(),
    await paddleVector(now),
    await squareVector(now),
    coinbaseVector(now),
    xenditVector(),
    await portOneV2Vector(now),
  ];
}

/** One byte of what the signature covers changed, inside a string so the body stays valid JSON (for
 *  Adyen, in an item's signed eventCode: the rest of its body is not signed). */
export function oneByteChanged(body) {
  const code = body.indexOf('"eventCode":"');
  const at = code >= 0 ? code + '"eventCode":"'.length : body.indexOf('"', body.indexOf(":") + 1) + 1;
  const c = body[at] === "a" ? "b" : "a";
  return body.slice(0, at) + c + body.slice(at + 1);
}

/** Tells the provider stand-in (npm run provider-stand-in) what its status APIs answer for the hints
 *  about to be posted; without it running, those hints wait unconfirmed (and are retried). */
async function teachStandIn(all) {
  const answers = Object.fromEntries(all.filter((v) => v.api).map((v) => [v.api.path, v.api.answer]));
  try {
    await fetch(`${STAND_IN}/__answers`, { method: "PUT", body: JSON.stringify(answers) });
  } catch {
    console.log(`No provider stand-in at ${STAND_IN} (npm run provider-stand-in): the hints will wait unconfirmed.`);
  }
}

/** The vector with one byte of what proves it changed: of the body where the signature covers it;
 *  Xendit's token proves the sender, not the body (its change is in the token, Payment Options' in its
 *  URL); Midtrans's signature covers three fields (one of them changed); FPX's form (its amount). */
function tampered(v) {
  if (v.scheme === "payment-options") return { ...v, token: `${v.token.slice(0, -1)}x` };
  if (v.scheme === "midtrans")
    return { ...v, body: v.body.replace(/"gross_amount":"(\d)/, (_m, d) => `"gross_amount":"${d === "9" ? 1 : 9}`) };
  if (v.scheme === "fpx") return { ...v, body: v.body.replace("fpx_txnAmount=100.00", "fpx_txnAmount=900.00") };
  if (v.scheme === "xendit") {
    const token = oneByteChanged(`"":"${v.headers["x-callback-token"]}"`).slice(4, -1);
    return { ...v, headers: { ...v.headers, "x-callback-token": token } };
  }
  return { ...v, body: oneByteChanged(v.body) };
}

async function tryAgainst(base) {
  const post = (v) =>
    fetch(`${base}/webhooks/${v.scheme}/${v.source}${v.token ? `/${v.token}` : ""}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...v.headers },
      body: v.body,
    });
  const text = async (r) => `${r.status} ${(await r.text()).slice(0, 60)}`;
  const now = Math.floor(Date.now() / 1000);
  const all = [...(await vectors(now)), ...(await seaVectors(now, SOURCES, FPX))];
  await teachStandIn(all);
  for (const v of all) {
    const [first, replay, changed] = [await post(v), await post(v), await post(tampered(v))];
    console.log(
      [
        `${v.scheme}/${v.source}${v.api ? " (a hint: forwarded once the API stand-in confirms it)" : ""}`,
        `genuine: ${await text(first)}`,
        `replay: ${await text(replay)}`,
        `one byte: ${await text(changed)}`,
        `expect ${v.expect.map((e) => `${e.type} ${e.object_ref}`).join(", ")}`,
      ].join("\n  "),
    );
  }
  for (const trap of await seaTraps(now, SOURCES, FPX))
    console.log(
      `trap ${trap.scheme}/${trap.source}, ${trap.why}: ${await text(await post(trap))} (expect 401 ${trap.reason})`,
    );
}

/** A genuine event of `scheme` signed now with its test source's secret (the stand-in taught its API's
 *  answer for a hint), posted to the gateway at `base`: what `npm run simulate -- <scheme>` sends. */
export async function simulateScheme(base, scheme) {
  const now = Math.floor(Date.now() / 1000);
  const all = [...(await vectors(now)), ...(await seaVectors(now, SOURCES, FPX))];
  const v = all.find((x) => x.scheme === scheme);
  if (v === undefined) throw new Error(`no sample of the scheme "${scheme}"`);
  await teachStandIn([v]);
  const url = `${base}/webhooks/${v.scheme}/${v.source}${v.token ? `/${v.token}` : ""}`;
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...v.headers },
    body: v.body,
  });
  return {
    url: url.replace(v.token ?? "\u0000", "…"),
    vector: v,
    status: response.status,
    text: await response.text(),
  };
}

async function writeFixture() {
  const signedAt = Math.floor(Date.now() / 1000);
  const fixture = {
    signedAt,
    sources: SOURCES,
    vectors: await vectors(signedAt),
    seaVectors: await seaVectors(signedAt, SOURCES, FPX),
    traps: await seaTraps(signedAt, SOURCES, FPX),
    // A test key and self-signed certificates made for these vectors only: no deployment's secret.
    fpx: FPX,
  };
  writeFileSync(FIXTURE, `${JSON.stringify(fixture, null, 2)}\n`);
  console.log(`wrote ${FIXTURE.pathname}: ${Object.keys(SOURCES).length} sources, signed at ${signedAt}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { post: { type: "string" }, sources: { type: "boolean" } } });
  if (values.sources) console.log(JSON.stringify(SOURCES));
  else if (values.post) await tryAgainst(values.post.replace(/\/$/, ""));
  else await writeFixture();
}
