// Public errors: a status and a stable code with a short message, as JSON. Rich reasons stay in
// logs. Anything unexpected becomes a generic 500 without internals.

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { log, type LogFields } from "./log";

export interface ErrorBody {
  error: string;
  message: string;
}

export function errorResponse(
  status: ContentfulStatusCode,
  error: string,
  message: string,
  headers?: HeadersInit,
): Response {
  const body: ErrorBody = { error, message };
  const response = Response.json(body, { status, headers });
  return response;
}

/** The `error` code of an answer built by errorResponse or httpError, or null when the answer carries none
 *  (a success, a page, a body that is not ours). Reads a clone: the answer still goes out whole. */
export async function errorCodeOf(response: Response): Promise<string | null> {
  try {
    const body: unknown = await response.clone().json();
    const code = body !== null && typeof body === "object" ? (body as Partial<ErrorBody>).error : undefined;
    return typeof code === "string" ? code : null;
  } catch {
    return null;
  }
}

/** A protocol failure to throw from middleware or handlers. */
export function httpError(
  status: ContentfulStatusCode,
  error: string,
  message: string,
  headers?: HeadersInit,
): HTTPException {
  return new HTTPException(status, { res: errorResponse(status, error, message, headers), message: error });
}

/** Fails closed on configuration that cannot be trusted: 503 not_configured (a provider retries once it
 *  is fixed). `answer` says what is wrong, never a value; the log names the variable or the bad key. */
export function notConfigured(answer: string, logged?: { message: string; fields?: LogFields }): HTTPException {
  if (logged !== undefined) log("error", logged.message, logged.fields ?? {});
  return httpError(503, "not_configured", answer);
}

/** Nothing could be stored, so nothing is acknowledged: 503 storage_unavailable (a provider retries). */
export function storageUnavailable(
  answer = "The event could not be stored; retry later. Nothing was acknowledged.",
): HTTPException {
  return httpError(503, "storage_unavailable", answer);
}

/** The command that creates the read model's tables (D1 migrations), named in the 503 it causes. */
export const APPLY_MIGRATIONS = "wrangler d1 migrations apply READ_MODEL --remote";

/** A failure of the read model (D1), which lists and counts across objects: 503, never 500. Ingest
 *  and delivery do not depend on it. D1's errors carry a D1_ prefix; a missing table means the
 *  migrations were never applied. */
/** What to tell about a failure of the read model, or null when the error is not D1's. */
export function readModelProblem(err: Error): ErrorBody | null {
  const text = `${err.message} ${err.cause instanceof Error ? err.cause.message : ""}`;
  if (!/\bD1_[A-Z_]+\b/.test(text)) return null;
  if (/no such table/i.test(text))
    return {
      error: "read_model_not_migrated",
      message: `The read model's tables are missing: apply the D1 migrations (\`${APPLY_MIGRATIONS}\`; \`npm run dev\` applies them locally). Webhooks are still received and forwarded.`,
    };
  return {
    error: "read_model_unavailable",
    message: "The read model (D1) could not be read; try again shortly. Webhooks are still received and forwarded.",
  };
}

export function onError(err: Error, c: Context): Response {
  if (err instanceof HTTPException) return err.getResponse();
  const readModel = readModelProblem(err);
  if (readModel !== null) {
    log("error", "read model failed", { path: c.req.path, method: c.req.method, error: err.message });
    return errorResponse(503, readModel.error, readModel.message);
  }
  log("error", "unhandled error", { path: c.req.path, method: c.req.method, error: err.name });
  return errorResponse(500, "internal_error", "The gateway failed to handle this request; it was not acknowledged.");
}

export function notFound(c: Context): Response {
  return errorResponse(404, "not_found", `No route for ${c.req.method} ${c.req.path}.`);
}
