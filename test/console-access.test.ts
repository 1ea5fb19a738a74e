// Cloudflare Access in front of the console (CF_ACCESS_TEAM_DOMAIN + CF_ACCESS_AUD): every request
// must carry a JWT that Access signed for this application, verified against the team's published
// keys (a stand-in here, at the fetch boundary, serving a key pair made by the test).
import { createExecutionContext } from "cloudflare:test";
import { sign } from "hono/jwt";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { testEnv } from "./env";
import { BASE } from "./helpers";
import { ACCESS_TEAM, accessTeam } from "./stand-ins";

const AUD = "a1b2c3-console-aud";
const withAccess = testEnv({ CF_ACCESS_TEAM_DOMAIN: ACCESS_TEAM, CF_ACCESS_AUD: AUD });

type Jwk = JsonWebKey & { kid: string; alg: string };

async function keyPair(kid: string): Promise<{ publicJwk: Jwk; privateJwk: Jwk }> {
  const pair = (await crypto.subtle.generateKey(
    { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const publicJwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
  const privateJwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  return { publicJwk: { ...publicJwk, kid, alg: "RS256" }, privateJwk: { ...privateJwk, kid, alg: "RS256" } };
}

const team = await keyPair("team-key-1");
const stranger = await keyPair("team-key-1"); // same kid, another key: a forger's guess

function jwt(key: Jwk, claims: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign(
    { iss: `https://${ACCESS_TEAM}`, aud: AUD, sub: "operator-42", iat: now, exp: now + 600, ...claims },
    key,
    "RS256",
  );
}

function get(path: string, assertion: string | null, e: Env = withAccess): Promise<Response> {
  const headers: Record<string, string> = assertion === null ? {} : { "cf-access-jwt-assertion": assertion };
  return Promise.resolve(
    worker.fetch(new Request(`${BASE}${path}`, { headers, redirect: "manual" }), e, createExecutionContext()),
  );
}

describe("the console behind Cloudflare Access", () => {
  it("opens for a JWT Access signed for this application", async () => {
    accessTeam.answer(() => Response.json({ keys: [team.publicJwk] }));
    const response = await get("/console", await jwt(team.privateJwk));
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("Overview");
  });

  it("refuses no JWT, another audience, another issuer, an expired one, and a key Access never published", async () => {
    accessTeam.answer(() => Response.json({ keys: [team.publicJwk] }));
    const past = Math.floor(Date.now() / 1000) - 3600;
    for (const assertion of [
      null,
      await jwt(team.privateJwk, { aud: "another-app" }),
      await jwt(team.privateJwk, { iss: "https://evil.cloudflareaccess.com" }),
      await jwt(team.privateJwk, { iat: past - 600, exp: past }),
      await jwt(stranger.privateJwk),
      await jwt(team.privateJwk, { exp: undefined }), // never expires: refused
      "not.a.jwt",
    ]) {
      expect((await get("/console/events", assertion)).status).toBe(403);
    }
  });

  it("offers no token login: Access logs operators in", async () => {
    const login = await get("/console/login", null);
    expect(login.status).toBe(303);
    expect(login.headers.get("location")).toBe("/console");
  });

  it("is closed with 503 when only one of the two variables is set", async () => {
    const half = testEnv({ CF_ACCESS_TEAM_DOMAIN: ACCESS_TEAM, CF_ACCESS_AUD: undefined });
    expect((await get("/console", null, half)).status).toBe(503);
  });
});
