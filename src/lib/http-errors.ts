// Public errors: a status and a stable code with a short message, as JSON. Rich reasons stay in
// logs. Anything unexpected becomes a generic 500 without internals.

import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { log } from "./log";

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

/** A protocol failure to throw from middleware or handlers. */
export function httpError(
  status: ContentfulStatusCode,
  error: string,
  message: string,
  headers?: HeadersInit,
): HTTPException {
  return new HTTPException(status, { res: errorResponse(status, error, message, headers), message: error });
}

export function onError(err: Error, c: Context): Response {
  if (err instanceof HTTPException) return err.getResponse();
  log("error", "unhandled error", { path: c.req.path, method: c.req.method, error: err.name });
  return errorResponse(500, "internal_error", "The gateway failed to handle this request; it was not acknowledged.");
}

export function notFound(c: Context): Response {
  return errorResponse(404, "not_found", `No route for ${c.req.method} ${c.req.path}.`);
}
