// Test vectors for the seed documents' and Southeast Asia's schemes (scripts/provider-vectors.mjs writes
// them with the others): each genuine event signed by its provider's documented rule, and by its official
// library where one verifies (cashfree-pg's PGVerifyWebhookSignature must accept Cashfree's), and each
// scheme's traps, which the gateway must refuse. FPX's test certificate and key are made here once (with
// @peculiar/x509) and kept in the fixture, so a run signs with the certificate .dev.vars.example names.

import "reflect-metadata";
import { createHash, createHmac, createSign, randomUUID, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { Cashfree, CFEnvironment } from "cashfree-pg";
import { sign as jwtSign } from "hono/jwt";

const unique = () => randomUUID().replace(/-/g, "").slice(0, 16);
const hmac = (alg, key, message, encoding = "hex") => createHmac(alg, key).update(message, "utf8").digest(encoding);

/** Where npm run dev's stand-in of the two status APIs answers (scripts/provider-stand-in.mjs). */
export const STAND_IN = "http://127.0.0.1:9101";

/** FPX's test key and certificates: made once, then read back from the fixture. */
export async function fpxKeys(previous) {
  if (previous?.key && previous?.certificate && previous?.expired) return previous;
  x509.cryptoProvider.set(webcrypto);
  const algorithm = {
    name: "RSASSA-PKCS1-v1_5",
    hash: "SHA-256",
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ["sign", "verify"]);
  const cert = (serial, notBefore, notAfter) =>
    x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial,
      name: "CN=FPX test certificate (edge-webhook-gateway vectors)",
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
      keys,
      signingAlgorithm: algorithm,
    });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)).toString("base64");
  return {
    key: `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g).join("\n")}\n-----END PRIVATE KEY-----\n`,
    certificate: (await cert("01", "2026-01-01T00:00:00Z", "2036-01-01T00:00:00Z")).toString("pem"),
    expired: (await cert("02", "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z")).toString("pem"),
  };
}

/** Test secrets only: each scheme's source in WEBHOOK_SOURCES. */
export function seaSources(fpx) {
  return {
    p2p: { scheme: "pulse2pay", secret: "p2p-webhook-secret-0123456789" },
    th: { scheme: "omise", secret: Buffer.from("omise-webhook-secret-key-0123456").toString("base64") },
    ph: { scheme: "paymongo", secret: "whsk_test_0123456789abcdefghijklmn" },
    "ph-test": { scheme: "paymongo", secret: "whsk_test_0123456789abcdefghijklmn", mode: "test" },
    cf: { scheme: "cashfree", secret: "cfsk_ma_test_0123456789abcdefghij" },
    ng: { scheme: "paystack", secret: "sk_test_0123456789abcdefghijklmnopqrstuv" },
    sg: { scheme: "2c2p", secret: "2c2p-merchant-secret-key-0123456789" },
    my: { scheme: "fpx", certificate: fpx.certificate },
    // FPX's certificate past its validity period: the trap that proves it proves nothing.
    "my-expired": { scheme: "fpx", certificate: fpx.expired },
    idr: { scheme: "midtrans", secret: "SB-Mid-server-0123456789abcdefghij", apiBaseUrl: `${STAND_IN}/midtrans` },
    jp: {
      scheme: "payment-options",
      secret: "po-webhook-token-0123456789abcdefghijklmn",
      apiKey: "po-api-key-0123456789",
      apiBaseUrl: `${STAND_IN}/payment-options`,
    },
  };
}

const one = (scheme, source, body, headers, type, objectRef, extra = {}) => ({
  scheme,
  source,
  body,
  headers,
  expect: [{ type, kind: "payment", object_ref: objectRef }],
  ...extra,
});

function pulse2pay(now, s) {
  const id = `pay_${unique()}`;
  const body = JSON.stringify({
    id: `evt_${unique()}`,
    event: "payment.confirmed",
    payment: { id, status: "CONFIRMED", amount: "0.015", currency: "BTC" },
  });
  const ts = String(now * 1000);
  return one(
    "pulse2pay",
    "p2p",
    body,
    { "x-pulse2pay-timestamp": ts, "x-pulse2pay-signature": hmac("sha256", s.p2p.secret, `${ts}.${body}`) },
    "pulse2pay.payment.confirmed",
    id,
  );
}

function omise(now, s) {
  const charge = `chrg_test_${unique()}`;
  const body = JSON.stringify({
    object: "event",
    id: `evnt_test_${unique()}`,
    key: "charge.complete",
    data: { object: "charge", id: charge, status: "successful", amount: 100000, currency: "THB" },
  });
  const key = Buffer.from(s.th.secret, "base64");
  const sig = hmac("sha256", key, `${now}.${body}`);
  // A secret roll: an old signature first, then the current one (either may match).
  return one(
    "omise",
    "th",
    body,
    { "omise-signature-timestamp": String(now), "omise-signature": `${"0".repeat(64)},${sig}` },
    "omise.charge.complete",
    charge,
  );
}

function paymongo(now, s) {
  const pay = `pay_${unique()}`;
  const body = JSON.stringify({
    data: {
      id: `evt_${unique()}`,
      type: "event",
      attributes: {
        type: "payment.paid",
        livemode: true,
        data: { id: pay, type: "payment", attributes: { amount: 10000, currency: "PHP", status: "paid" } },
      },
    },
  });
  const sig = hmac("sha256", s.ph.secret, `${now}.${body}`);
  return one("paymongo", "ph", body, { "paymongo-signature": `t=${now},te=,li=${sig}` }, "paymongo.payment.paid", pay);
}

function cashfree(now, s) {
  const order = `order_${unique()}`;
  const body = JSON.stringify({
    type: "PAYMENT_SUCCESS_WEBHOOK",
    event_time: new Date(now * 1000).toISOString(),
    data: {
      order: { order_id: order, order_amount: 100, order_currency: "INR" },
      payment: { cf_payment_id: Number(`5114${Date.now() % 1e8}`), payment_status: "SUCCESS", payment_amount: 100 },
    },
  });
  const ts = String(now * 1000);
  const sig = hmac("sha256", s.cf.secret, `${ts}${body}`, "base64");
  new Cashfree(
    CFEnvironment.SANDBOX,
    "TEST_CLIENT_ID",
    s.cf.secret,
    undefined,
    undefined,
    undefined,
    false,
  ).PGVerifyWebhookSignature(sig, body, ts); // throws when the SDK refuses it
  return one(
    "cashfree",
    "cf",
    body,
    { "x-webhook-timestamp": ts, "x-webhook-signature": sig },
    "cashfree.PAYMENT_SUCCESS_WEBHOOK",
    order,
  );
}

function paystack(_now, s) {
  const reference = `ref_${unique()}`;
  const body = JSON.stringify({
    event: "charge.success",
    data: { id: Number(`30${Date.now() % 1e8}`), reference, status: "success", amount: 500000, currency: "NGN" },
  });
  return one(
    "paystack",
    "ng",
    body,
    { "x-paystack-signature": hmac("sha512", s.ng.secret, body) },
    "paystack.charge.success",
    reference,
  );
}

async function twoCTwoP(_now, s) {
  const invoice = `inv${unique()}`;
  const claims = {
    merchantID: "JT01",
    invoiceNo: invoice,
    cardNo: "411111XXXXXX1111",
    amount: 1000,
    currencyCode: "SGD",
    tranRef: unique(),
    respCode: "0000",
    respDesc: "Success",
  };
  const body = JSON.stringify({ payload: await jwtSign(claims, s.sg.secret, "HS256") });
  return one("2c2p", "sg", body, {}, "2c2p.payment.0000", invoice);
}

export const FPX_FIELDS = [
  "fpx_buyerBankBranch",
  "fpx_buyerBankId",
  "fpx_buyerIban",
  "fpx_buyerId",
  "fpx_buyerName",
  "fpx_creditAuthCode",
  "fpx_creditAuthNo",
  "fpx_debitAuthCode",
  "fpx_debitAuthNo",
  "fpx_fpxTxnId",
  "fpx_fpxTxnTime",
  "fpx_makerName",
  "fpx_msgToken",
  "fpx_msgType",
  "fpx_sellerExId",
  "fpx_sellerExOrderNo",
  "fpx_sellerId",
  "fpx_sellerOrderNo",
  "fpx_sellerTxnTime",
  "fpx_txnAmount",
  "fpx_txnCurrency",
];

/** An FPX form signed over `fields` in that order (the genuine order, or a trap's). */
export function fpxForm(values, key, fields = FPX_FIELDS) {
  const signer = createSign("RSA-SHA1");
  signer.update(fields.map((f) => values[f] ?? "").join("|"));
  const checkSum = signer.sign(key, "hex").toUpperCase();
  return new URLSearchParams({ ...values, fpx_checkSum: checkSum }).toString();
}

function fpxValues() {
  const order = `ORD${unique()}`;
  return {
    fpx_buyerBankBranch: "SBI BANK A",
    fpx_buyerBankId: "TEST0021",
    fpx_buyerIban: "",
    fpx_buyerId: "",
    fpx_buyerName: "JOHN DOE",
    fpx_creditAuthCode: "00",
    fpx_creditAuthNo: "",
    fpx_debitAuthCode: "00",
    fpx_debitAuthNo: "12345678",
    fpx_fpxTxnId: `2612${unique()}`,
    fpx_fpxTxnTime: "20261207101010",
    fpx_makerName: "JOHN DOE",
    fpx_msgToken: "01",
    fpx_msgType: "AC",
    fpx_sellerExId: "EX00012345",
    fpx_sellerExOrderNo: order,
    fpx_sellerId: "SE00012345",
    fpx_sellerOrderNo: order,
    fpx_sellerTxnTime: "20261207101000",
    fpx_txnAmount: "100.00",
    fpx_txnCurrency: "MYR",
    fpx_buyerEmail: "buyer@example.com",
  };
}

function fpx(_now, _s, keys) {
  const values = fpxValues();
  const body = fpxForm(values, keys.key);
  return one(
    "fpx",
    "my",
    body,
    { "content-type": "application/x-www-form-urlencoded" },
    "fpx.ac",
    values.fpx_sellerOrderNo,
    { answer: "OK" },
  );
}

function midtrans(now, s) {
  const order = `order-${unique()}`;
  const transaction = randomUUID();
  const [statusCode, gross] = ["200", "150000.00"];
  const signature = createHash("sha512")
    .update(order + statusCode + gross + s.idr.secret)
    .digest("hex");
  const common = {
    transaction_id: transaction,
    order_id: order,
    gross_amount: gross,
    currency: "IDR",
    payment_type: "credit_card",
    transaction_status: "settlement",
    fraud_status: "accept",
  };
  const body = JSON.stringify({
    ...common,
    transaction_time: new Date(now * 1000).toISOString().replace("T", " ").slice(0, 19),
    status_code: statusCode,
    status_message: "midtrans payment notification",
    signature_key: signature,
    masked_card: "48111111-1114",
    merchant_id: "G141532850",
  });
  // What Midtrans's status API answers for it (scripts/provider-stand-in.mjs, test stand-ins); a full
  // card number in a card object, which the gateway must mask.
  const api = {
    ...common,
    status_code: "200",
    status_message: "Success, transaction is found",
    signature_key: signature,
    card: { number: "4811111111111114", brand: "visa" },
  };
  return one("midtrans", "idr", body, {}, "midtrans.settlement", order, {
    api: { path: `/midtrans/v2/${transaction}/status`, answer: api },
  });
}

function paymentOptions(_now, s) {
  const id = randomUUID();
  const notice = {
    success: true,
    status_code: 200,
    transaction_type: "CAPTURE",
    transaction_details: { id, ref: 74811 },
    payment_details: { amount: 1000, currency: "JPY", card: { name: "John Doe", number: "5200000000001005" } },
  };
  const answer = { ...notice, is_live: false, merchant_details: { mid: "M0001", merchant_txn_ref: `qwe-${unique()}` } };
  return one("payment-options", "jp", JSON.stringify(notice), {}, "payment-options.capture.succeeded", id, {
    token: s.jp.secret,
    api: { path: `/payment-options/api/v1/server-to-server-interface/transaction/status/${id}`, answer },
  });
}

/** Every scheme's genuine vector, signed at `now` (seconds). */
export async function seaVectors(now, sources, keys) {
  return [
    pulse2pay(now, sources),
    omise(now, sources),
    paymongo(now, sources),
    cashfree(now, sources),
    paystack(now, sources),
    await twoCTwoP(now, sources),
    fpx(now, sources, keys),
    midtrans(now, sources),
    paymentOptions(now, sources),
  ];
}

/** Each scheme's traps: a request the provider's rule refuses, and the refusal's reason. */
export async function seaTraps(now, s, keys) {
  const body = (v) => v.body;
  const [p2p, th, ph, cf, ng, sg, my] = await seaVectors(now, s, keys);
  const b64url = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const claims = JSON.parse(Buffer.from(JSON.parse(sg.body).payload.split(".")[1], "base64url").toString());
  const values = Object.fromEntries(new URLSearchParams(my.body));
  delete values.fpx_checkSum;
  const reordered = [...FPX_FIELDS].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())).reverse();
  const trap = (v, why, reason, change) => ({
    why,
    reason,
    scheme: v.scheme,
    source: v.source,
    body: body(v),
    headers: v.headers,
    ...change,
  });
  return [
    trap(p2p, "a timestamp in seconds where milliseconds are required", "stale_timestamp", {
      headers: {
        "x-pulse2pay-timestamp": String(now),
        "x-pulse2pay-signature": hmac("sha256", s.p2p.secret, `${now}.${p2p.body}`),
      },
    }),
    trap(th, "the Omise secret used as the key, not base64-decoded", "bad_signature", {
      headers: { ...th.headers, "omise-signature": hmac("sha256", s.th.secret, `${now}.${th.body}`) },
    }),
    trap(ph, "te (test mode) offered to a live source", "missing_signature", {
      headers: { "paymongo-signature": `t=${now},te=${hmac("sha256", s.ph.secret, `${now}.${ph.body}`)},li=` },
    }),
    trap(cf, "ts.body with a dot, where Cashfree signs ts and body joined", "bad_signature", {
      headers: {
        ...cf.headers,
        "x-webhook-signature": hmac("sha256", s.cf.secret, `${now * 1000}.${cf.body}`, "base64"),
      },
    }),
    trap(ng, "SHA-256 where Paystack signs with SHA-512", "bad_signature", {
      headers: { "x-paystack-signature": hmac("sha256", s.ng.secret, ng.body) },
    }),
    trap(sg, "alg: none", "bad_signature", {
      body: JSON.stringify({ payload: `${b64url({ alg: "none", typ: "JWT" })}.${b64url(claims)}.` }),
    }),
    trap(sg, "HS512 where 2C2P signs HS256", "bad_signature", {
      body: JSON.stringify({ payload: await jwtSign(claims, s.sg.secret, "HS512") }),
    }),
    trap(my, "the FPX fields signed in another order", "bad_signature", { body: fpxForm(values, keys.key, reordered) }),
    trap(my, "a certificate past its validity period", "bad_signature", { source: "my-expired" }),
  ];
}
