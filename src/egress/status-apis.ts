// The status APIs that confirm the hints of the API-confirmed schemes, asked as each provider documents:
// Midtrans's `GET <apiBaseUrl>/v2/<id>/status` with `Authorization: Basic base64(<server key>:)`
// (https://docs.midtrans.com/reference/get-transaction-status), and Payment Options'
// `GET <apiBaseUrl>/api/v1/server-to-server-interface/transaction/status/<id>` with the API key in
// `Authorization` and `x-api-key` (https://docs.paymentoptions.com, "Transaction Status"). Each answer is
// the parsed JSON object or one of the failures every provider's API shares (lookup.ts). Never redirected
// (a redirect would carry the key to another host); 10 s and 1 MiB at most, body included.

import { isRecord } from "../lib/named-json";
import { fetchBounded, jsonOf, type OutboundAnswer, type OutboundLimits } from "../lib/outbound";
import { err, errorText, ok } from "../lib/result";
import type { Lookup } from "./lookup";

const API_LIMITS: OutboundLimits = { timeoutMs: 10_000, maxBytes: 1024 * 1024 };

type Json = Record<string, unknown>;

async function get(provider: string, url: string, headers: Record<string, string>): Promise<Lookup<Json>> {
  let response: OutboundAnswer;
  try {
    response = await fetchBounded(
      url,
      { headers: { accept: "application/json", ...headers }, redirect: "manual" },
      API_LIMITS,
    );
  } catch (thrown) {
    return err({ kind: "unavailable", reason: errorText(thrown) });
  }
  const body = jsonOf(response);
  // Midtrans answers HTTP 200 with its own status_code in the body (404: no such transaction).
  const raw = isRecord(body) ? body.status_code : undefined;
  const code = typeof raw === "string" || typeof raw === "number" ? String(raw) : "";
  const status = /^\d{3}$/.test(code) && response.ok ? Number(code) : response.status;
  if (status === 401 || status === 403) return err({ kind: "auth", reason: `${provider} refused the key (${status})` });
  if (status === 404) return err({ kind: "not_found", reason: `${provider} does not know this transaction (yet)` });
  if (status >= 500) return err({ kind: "unavailable", reason: `${provider} API answered ${status}` });
  if (!response.ok || !isRecord(body))
    return err({ kind: "unreadable", reason: `${provider} API answered ${response.status} without a readable body` });
  return ok(body);
}

/** Midtrans's status of a transaction (its id, or an order_id: Midtrans answers for either). */
export function midtransStatus(apiBaseUrl: string, serverKey: string, id: string): Promise<Lookup<Json>> {
  const url = `${apiBaseUrl.replace(/\/+$/, "")}/v2/${encodeURIComponent(id)}/status`;
  return get("Midtrans", url, { authorization: `Basic ${btoa(`${serverKey}:`)}` });
}

/** Payment Options' status of a transaction. */
export function paymentOptionsStatus(apiBaseUrl: string, apiKey: string, id: string): Promise<Lookup<Json>> {
  const url = `${apiBaseUrl.replace(/\/+$/, "")}/api/v1/server-to-server-interface/transaction/status/${encodeURIComponent(id)}`;
  return get("Payment Options", url, { authorization: apiKey, "x-api-key": apiKey });
}
