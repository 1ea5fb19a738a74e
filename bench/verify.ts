// Verification micro-benchmark, in Node, one process: our full PortOne verification (parse, scan,
// canonical form, HMAC, constant-time compare, event id) against (1) one raw WebCrypto
// HMAC-SHA256 of the same canonical message, the physical floor of this step, and (2) the docs'
// Node sample approach (JSON.parse, URLSearchParams, createHmac), which is also wrong for ~ and *.
import { createHmac, timingSafeEqual } from "node:crypto";
import { hmacKeyFromText } from "../src/lib/hmac";
import { PAYMENT, PAYMENT_LINK, type PortOneKind } from "../src/providers/portone/kinds";
import { withSignature } from "../src/providers/portone/sign";
import { canonicalMessage, verifyPortOne } from "../src/providers/portone/verify";
import { paymentLinkSample, paymentSample } from "../fixtures/portone-samples";

// workerd has crypto.subtle.timingSafeEqual; Node has the same primitive elsewhere.
const subtle = crypto.subtle as SubtleCrypto & {
  timingSafeEqual?: (a: ArrayBufferView, b: ArrayBufferView) => boolean;
};
subtle.timingSafeEqual ??= (a, b) => timingSafeEqual(a as Uint8Array, b as Uint8Array);

const SECRET = "PORTONE_SECRET";

export interface VerifyBench {
  readonly iterations: number;
  readonly fullNsPerOp: number;
  readonly rawHmacNsPerOp: number;
  readonly docsSampleNsPerOp: number;
  /** The docs' approach with WebCrypto's HMAC, as a Worker without node:crypto would run it. */
  readonly docsSampleWebCryptoNsPerOp: number;
  readonly fullOverRawHmac: number;
  readonly fullOverDocsSample: number;
}

async function docsSampleWebCrypto(raw: string, kind: PortOneKind, key: CryptoKey): Promise<boolean> {
  const body = JSON.parse(raw) as Record<string, unknown>;
  const params = new URLSearchParams();
  for (const field of kind.signed) params.append(field.key, String(body[field.from[0] as string]));
  params.sort();
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(params.toString())));
  return btoa(String.fromCharCode(...mac)) === body.signature_hash;
}

function docsSample(raw: string, kind: PortOneKind): boolean {
  const body = JSON.parse(raw) as Record<string, unknown>;
  const params = new URLSearchParams();
  for (const field of kind.signed) params.append(field.key, String(body[field.from[0] as string]));
  params.sort();
  return createHmac("sha256", SECRET).update(params.toString()).digest("base64") === body.signature_hash;
}

async function time(iterations: number, op: (i: number) => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < Math.min(2000, iterations); i++) await op(i); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await op(i);
  return Number(process.hrtime.bigint() - start) / iterations;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function benchVerify(iterations: number): Promise<VerifyBench> {
  const cases: Array<{ raw: string; kind: PortOneKind; canonical: Uint8Array }> = [];
  for (const [sample, kind] of [
    [paymentSample, PAYMENT],
    [paymentLinkSample, PAYMENT_LINK],
  ] as const) {
    const raw = JSON.stringify(await withSignature({ ...sample }, kind, SECRET));
    const canonical = canonicalMessage(JSON.parse(raw) as Record<string, unknown>, kind);
    if (!canonical.ok) throw new Error("sample does not canonicalize");
    cases.push({ raw, kind, canonical: new TextEncoder().encode(canonical.value) });
  }
  const keys = [await hmacKeyFromText(SECRET)];
  const rawKey = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const pick = (i: number) => cases[i % cases.length] as (typeof cases)[number];
  const full: number[] = [],
    raw: number[] = [],
    docs: number[] = [],
    docsWeb: number[] = [];
  for (let round = 0; round < 3; round++) {
    full.push(
      await time(iterations, async (i) => {
        const c = pick(i);
        if (!(await verifyPortOne(c.raw, c.kind, keys)).ok) throw new Error("did not verify");
      }),
    );
    raw.push(await time(iterations, (i) => crypto.subtle.sign("HMAC", rawKey, pick(i).canonical)));
    docs.push(await time(iterations, (i) => docsSample(pick(i).raw, pick(i).kind)));
    docsWeb.push(await time(iterations, (i) => docsSampleWebCrypto(pick(i).raw, pick(i).kind, rawKey)));
  }
  const [f, r, d] = [median(full), median(raw), median(docs)];
  return {
    iterations,
    fullNsPerOp: Math.round(f),
    rawHmacNsPerOp: Math.round(r),
    docsSampleNsPerOp: Math.round(d),
    docsSampleWebCryptoNsPerOp: Math.round(median(docsWeb)),
    fullOverRawHmac: Math.round((f / r) * 100) / 100,
    fullOverDocsSample: Math.round((f / d) * 100) / 100,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await benchVerify(Number(process.argv[2] ?? 20000)));
}
