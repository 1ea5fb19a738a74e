// `npm run simulate -- <kind> <status> [options]`, like `stripe trigger`: builds a realistic PortOne
// webhook from the spec's samples, signs it exactly as PortOne does (the gateway's own signer),
// posts it to the gateway and prints the answer. `npm run simulate -- <scheme>` sends one genuine event
// of another provider's scheme instead (scripts/provider-vectors.mjs signs it, as that provider would,
// with .dev.vars.example's test source). See `npm run simulate -- --help`.
import { parseArgs } from "node:util";
import { devVar } from "./dev-vars";
import { PAYMENT, PAYMENT_LINK, SUBSCRIPTION_LINK, type PortOneKind } from "../src/providers/portone/kinds";
import { withSignature } from "../src/providers/portone/sign";
import { paymentLinkSample, paymentSample, refundSample, subscriptionLinkSample } from "../fixtures/portone-samples";
import { SCHEME_NAMES as SCHEMES } from "../src/providers/names";
import type { Simulated } from "./provider-vectors.mjs";

const KINDS: Record<
  string,
  { kind: PortOneKind | null; sample: Readonly<Record<string, unknown>>; lifecycle: string[] }
> = {
  payment: { kind: PAYMENT, sample: paymentSample, lifecycle: ["Pending", "Success"] },
  "payment-link": { kind: PAYMENT_LINK, sample: paymentLinkSample, lifecycle: ["Created", "Processing", "Success"] },
  "subscription-link": {
    kind: SUBSCRIPTION_LINK,
    sample: subscriptionLinkSample,
    lifecycle: ["Created", "Active", "Completed"],
  },
  refund: { kind: null, sample: refundSample, lifecycle: ["IN_QUEUE", "SUCCESS"] },
};

const HELP = `Usage: npm run simulate -- <kind> <status> [options]
       npm run simulate -- <kind> --lifecycle [options]
       npm run simulate -- <scheme> [--url URL]

kinds (PortOne): ${Object.keys(KINDS).join(", ")}
schemes (signed with .dev.vars.example's test sources; Midtrans's and Payment Options' hints are confirmed
  by \`npm run provider-stand-in\`, which this teaches the answer): ${SCHEMES.join(", ")}
  --url URL       gateway base URL (default http://127.0.0.1:8787, the local \`npm run dev\`)
  --ref REF       the object's reference (default: the spec sample's, so a second run is a duplicate)
  --amount N      the amount (payment, payment-link, refund)
  --merchant-order-ref R   the merchant's order reference (payment, payment-link, subscription-link)
  --secret S      PortOne Secret Key (default: $PORTONE_SECRET_KEY, else .dev.vars, else .dev.vars.example)
  --lifecycle     send the kind's whole lifecycle in order, for a new reference unless --ref is given
Example: npm run simulate -- payment-link Success`;

function fail(message: string): never {
  console.error(`simulate: ${message}`);
  process.exit(2);
}

function secretFrom(flag: string | undefined): { secret: string; source: string } {
  if (flag) return { secret: flag, source: "--secret" };
  if (process.env.PORTONE_SECRET_KEY) return { secret: process.env.PORTONE_SECRET_KEY, source: "$PORTONE_SECRET_KEY" };
  const fromFile = devVar("PORTONE_SECRET_KEY");
  if (fromFile) return { secret: fromFile.value, source: fromFile.file };
  return fail("no PortOne secret: pass --secret, set $PORTONE_SECRET_KEY, or create .dev.vars");
}

async function send(url: string, body: Record<string, unknown>, secretSource: string): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch (err) {
    const reason = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : "unknown";
    fail(`cannot reach ${url} (${reason}). Is \`npm run dev\` running, or is --url right?`);
  }
  const text = await response.text();
  console.log(`POST ${url}  status=${String(body.status ?? body.refund_status)}  ->  ${response.status} ${text}`);
  if (response.status === 401) {
    console.error(
      `  The gateway rejected the signature: the secret used here (from ${secretSource}) is not its PORTONE_SECRET_KEY.`,
    );
  }
  if (response.status >= 400) process.exitCode = 1;
}

/** Sends one genuine event of a provider scheme (not PortOne's) and prints the answer. */
async function simulateOne(base: string, scheme: string): Promise<void> {
  let sent: Simulated;
  try {
    // Loaded only here: it brings every provider's SDK.
    const { simulateScheme } = await import("./provider-vectors.mjs");
    sent = await simulateScheme(base, scheme);
  } catch (err) {
    fail(`cannot send to ${base} (${err instanceof Error ? err.message : "unknown"}). Is \`npm run dev\` running?`);
  }
  const expected = sent.vector.expect.map((e) => `${e.type} ${e.object_ref}`).join(", ");
  console.log(`POST ${sent.url}  ->  ${sent.status} ${sent.text}`);
  console.log(`  expect at the origin: ${expected}${sent.vector.api ? " (once the provider's API confirms it)" : ""}`);
  if (sent.status === 401)
    console.error(
      `  Refused: the gateway's WEBHOOK_SOURCES.${sent.vector.source} is not .dev.vars.example's test source.`,
    );
  if (sent.status >= 400) process.exitCode = 1;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: "string", default: "http://127.0.0.1:8787" },
      ref: { type: "string" },
      amount: { type: "string" },
      "merchant-order-ref": { type: "string" },
      secret: { type: "string" },
      lifecycle: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help || positionals.length === 0) return void console.log(HELP);
  const [name = "", status] = positionals;
  if ((SCHEMES as readonly string[]).includes(name)) return simulateOne(values.url.replace(/\/+$/, ""), name);
  const spec =
    KINDS[name] ?? fail(`unknown kind "${name}"; use one of: ${[...Object.keys(KINDS), ...SCHEMES].join(", ")}`);
  if (!values.lifecycle && !status) fail(`give a status (for example ${spec.lifecycle.at(-1)}) or --lifecycle`);
  const amount = values.amount === undefined ? undefined : Number(values.amount);
  if (amount !== undefined && !Number.isFinite(amount)) fail(`--amount must be a number, not "${values.amount}"`);
  const { secret, source } = secretFrom(values.secret);
  const ref = values.ref ?? (values.lifecycle ? `sim_${Date.now().toString(36)}` : undefined);
  const url = `${values.url.replace(/\/+$/, "")}/webhooks/portone/${name}`;

  for (const step of values.lifecycle ? spec.lifecycle : [status as string]) {
    const fields: Record<string, unknown> = spec.kind
      ? { status: step, ...(ref ? { [spec.kind.objectRefField]: ref } : {}) }
      : { refund_status: step, ...(ref ? { payment_txn_ref: ref } : {}) };
    if (amount !== undefined) fields.amount = amount;
    if (values["merchant-order-ref"] !== undefined && spec.kind)
      fields.merchant_order_ref = values["merchant-order-ref"];
    const payload = { ...spec.sample, ...fields };
    await send(
      url,
      spec.kind ? await withSignature(payload, spec.kind, secret.split(",")[0]?.trim() ?? "") : payload,
      source,
    );
  }
  if (ref && values.lifecycle) console.log(`reference: ${ref}`);
}

await main();
