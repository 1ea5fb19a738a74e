// Verification cost per provider scheme, in Node, one process: each scheme's whole step (header
// parsing, the HMAC or token compare, the JSON parse, the event's fields and id, as
// ingress/schemes.ts runs it) on its SDK-made vector (fixtures/provider-vectors.json), as a ratio to
// one raw WebCrypto HMAC-SHA256 of the same body with a key imported once: the floor of any
// signature check. Medians of three rounds.
import { timingSafeEqual } from "node:crypto";
import vectorFile from "../fixtures/provider-vectors.json";
import { provenItems, SCHEMES } from "../src/providers/schemes";
import { parseSources, type SchemeSource } from "../src/providers/sources/parse";

const subtle = crypto.subtle as SubtleCrypto & {
  timingSafeEqual?: (a: ArrayBufferView, b: ArrayBufferView) => boolean;
};
subtle.timingSafeEqual ??= (a, b) => timingSafeEqual(a as Uint8Array, b as Uint8Array);

export interface SchemeVerifyBench {
  readonly iterations: number;
  readonly rawHmacNsPerOp: number;
  /** Per scheme: ns per verification and its ratio to the raw HMAC. */
  readonly schemes: Record<string, { readonly nsPerOp: number; readonly overRawHmac: number }>;
}

/** A vector as the fixture holds it (the Southeast Asian ones may carry a route token). */
interface Vector {
  readonly scheme: string;
  readonly source: string;
  readonly body: string;
  readonly headers: Record<string, string | undefined>;
  readonly token?: string;
}

async function time(iterations: number, op: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(2000, iterations); i++) await op();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await op();
  return Number(process.hrtime.bigint() - start) / iterations;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export async function benchSchemeVerify(iterations: number): Promise<SchemeVerifyBench> {
  const sources = parseSources(JSON.stringify(vectorFile.sources));
  if (!sources.ok) throw new Error("the vectors' WEBHOOK_SOURCES do not parse");
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode("bench-secret"),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const nowMs = vectorFile.signedAt * 1000;
  const rawTimes: number[] = [];
  const schemes: Record<string, { nsPerOp: number; overRawHmac: number }> = {};
  const body = new TextEncoder().encode(vectorFile.vectors[0]?.body ?? "");
  for (let round = 0; round < 3; round++)
    rawTimes.push(await time(iterations, () => crypto.subtle.sign("HMAC", key, body)));
  const raw = median(rawTimes);
  const vectors: readonly Vector[] = [...vectorFile.vectors, ...vectorFile.seaVectors];
  for (const v of vectors) {
    const source = sources.value.get(v.source) as SchemeSource;
    const headers = new Headers(v.headers as Record<string, string>);
    const input = {
      raw: v.body,
      headers,
      secrets: source.secrets,
      toleranceSeconds: source.toleranceSeconds ?? 0,
      nowMs,
      url: source.notificationUrl ?? "",
      options: source.options,
      pathToken: v.token ?? null,
    };
    const op = async () => {
      const items = await SCHEMES[source.scheme].verify(input);
      if (!items.ok || !(await provenItems(source.scheme, source.name, v.body, items.value, source.overrides)).ok)
        throw new Error(`${v.scheme} did not verify`);
    };
    const times: number[] = [];
    for (let round = 0; round < 3; round++) times.push(await time(iterations, op));
    const ns = median(times);
    schemes[v.scheme] = { nsPerOp: Math.round(ns), overRawHmac: Math.round((ns / raw) * 100) / 100 };
  }
  return { iterations, rawHmacNsPerOp: Math.round(raw), schemes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await benchSchemeVerify(Number(process.argv[2] ?? 20000)), null, 2));
}
