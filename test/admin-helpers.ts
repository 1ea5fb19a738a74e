// Calls to the operator API with the test token (vitest.config.ts's ADMIN_TOKEN).
import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../src/index";
import { BASE } from "./helpers";

export const TOKEN = "test-admin-token";

export async function adminFetch(
  path: string,
  init: RequestInit = {},
  token: string | null = TOKEN,
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token !== null) headers.set("authorization", `Bearer ${token}`);
  return worker.fetch(new Request(`${BASE}/admin${path}`, { ...init, headers }), env, createExecutionContext());
}
