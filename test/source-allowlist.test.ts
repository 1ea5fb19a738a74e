// ALLOWED_SOURCE_IPS: IPv4 and IPv6 addresses and CIDR ranges against CF-Connecting-IP, checked
// before anything else; other sources get 403; unset means no check; a bad entry fails closed.
import { createExecutionContext } from "cloudflare:test";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { inRange, parseCidr, parseIp } from "../src/lib/cidr";
import { BASE, eventFor, kvKeyCount, ledgerCount, uniqueRef } from "./helpers";
import { testEnv } from "./env";

const matches = (ip: string, cidr: string): boolean => {
  const [parsedIp, range] = [parseIp(ip), parseCidr(cidr)];
  if (!parsedIp || !range) throw new Error(`unparsable ${ip} or ${cidr}`);
  return inRange(parsedIp, range);
};

describe("CIDR matching", () => {
  it.each([
    ["203.0.113.7", "203.0.113.0/24", true],
    ["203.0.114.7", "203.0.113.0/24", false],
    ["203.0.113.7", "203.0.113.7", true],
    ["203.0.113.8", "203.0.113.7", false],
    ["10.1.2.3", "0.0.0.0/0", true],
    ["2001:db8::1", "2001:db8::/32", true],
    ["2001:db9::1", "2001:db8::/32", false],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1/128", true],
    ["::ffff:203.0.113.7", "203.0.113.0/24", true],
    // An IPv4-mapped entry is normalised like the client's address: the same IPv4 range.
    ["203.0.113.7", "::ffff:203.0.113.0/120", true],
    ["::ffff:203.0.113.7", "::ffff:203.0.113.0/120", true],
    ["203.0.114.7", "::ffff:203.0.113.0/120", false],
    ["203.0.113.7", "::ffff:203.0.113.7", true],
    ["198.51.100.1", "::ffff:0:0/96", true],
    ["203.0.113.7", "::/0", false],
    ["::1", "::1", true],
    ["fe80::1:2:3:4", "fe80::/10", true],
  ])("%s in %s: %s", (ip, cidr, expected) => {
    expect(matches(ip, cidr)).toBe(expected);
  });

  it.each([
    "",
    "203.0.113",
    "203.0.113.256",
    "203.0.113.01",
    "1.2.3.4/33",
    "1.2.3.4/",
    "1.2.3.4/-1",
    "2001:db8:::1",
    "2001:db8::/129",
    "1::2::3",
    "12345::",
    "g::1",
    "1.2.3.4/8/8",
  ])("refuses %j", (bad) => {
    expect(parseCidr(bad)).toBeNull();
  });

  it("every IPv4 address is in its own /32 and in 0.0.0.0/0, and a /n range holds exactly its prefix", () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (a, b, n) => {
        expect(matches(a, `${a}/32`)).toBe(true);
        expect(matches(a, "0.0.0.0/0")).toBe(true);
        const bits = (ip: string) =>
          ip
            .split(".")
            .map((o) => Number(o).toString(2).padStart(8, "0"))
            .join("");
        expect(matches(b, `${a}/${n}`)).toBe(bits(a).slice(0, n) === bits(b).slice(0, n));
      }),
      { numRuns: 500 },
    );
  });

  it("parses every IPv6 address fast-check makes, and each is in its own /128", () => {
    fc.assert(
      fc.property(fc.ipV6(), (a) => {
        const parsed = parseIp(a);
        expect(parsed).not.toBeNull();
        if (parsed?.version === 6) expect(matches(a, `${a}/128`)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

async function send(allowlist: string | undefined, sourceIp: string | null, method = "POST"): Promise<Response> {
  const headers: Record<string, string> = {};
  if (sourceIp !== null) headers["cf-connecting-ip"] = sourceIp;
  const body = method === "POST" ? JSON.stringify(await eventFor("payment", uniqueRef("ip"), "Success")) : null;
  const request = new Request(`${BASE}/webhooks/portone/payment`, { method, headers, body });
  return worker.fetch(request, testEnv({ ALLOWED_SOURCE_IPS: allowlist }), createExecutionContext());
}

describe("the allowlist on webhook routes", () => {
  it("lets listed sources through and answers 403 to others, before anything is stored", async () => {
    const list = "198.51.100.0/24, 2001:db8::/32";
    expect((await send(list, "198.51.100.20")).status).toBe(200);
    expect((await send(list, "2001:db8:1::5")).status).toBe(200);
    const [ledgers, keys] = [await ledgerCount(), await kvKeyCount()];
    for (const ip of ["203.0.113.9", "2001:db9::1", "not-an-ip", null]) {
      const response = await send(list, ip);
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: "forbidden_source" });
    }
    expect((await send(list, "203.0.113.9", "GET")).status).toBe(403); // before the method check
    expect(await ledgerCount()).toBe(ledgers);
    expect(await kvKeyCount()).toBe(keys);
  });

  it("lets an IPv4 client through an IPv4-mapped entry, in either form", async () => {
    const list = "::ffff:203.0.113.0/120";
    expect((await send(list, "203.0.113.9")).status).toBe(200);
    expect((await send(list, "::ffff:203.0.113.9")).status).toBe(200);
    expect((await send(list, "203.0.114.9")).status).toBe(403);
  });

  it("checks nothing when unset or empty", async () => {
    expect((await send(undefined, null)).status).toBe(200);
    expect((await send("", "203.0.113.9")).status).toBe(200);
  });

  it("fails closed with 503 when an entry is not an IP or range", async () => {
    const response = await send("198.51.100.0/24, 198.51.100.300", "198.51.100.20");
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: "not_configured" });
  });
});
