// The one handler of every route under /webhooks/: records what the route's verifier proved (verify.ts),
// item by item, and answers as the provider expects once all are stored (the gateway's JSON, or the
// scheme's own text). A verified event is answered from the KV hint if it was already recorded with this
// very body, otherwise recorded by its object's ledger; a refund hint is kept by its payment's ledger,
// to be confirmed with PortOne's API. The provider gets 200 only after the ledger's transaction
// committed; if the ledger cannot be reached the answer is a 503 so the provider retries (a batch's
// items already stored then answer duplicate), and nothing was acknowledged.
// A duplicate whose body differs from the recorded one (unsigned fields added to a captured body,
// or a Standard Webhooks webhook-id reused with another body) is never forwarded; it is logged as
// a conflict, with both bodies' hashes, because it is either a sender's bug or an attack.

import type { Context } from "hono";
import { clock } from "../lib/clock";
import { sha256Hex, toBase64 } from "../lib/hmac";
import { markSeen, wasSeen } from "../kv/seen";
import type { AppEnv } from "../env";
import { ledgerOf } from "../ledger/client";
import type { NotStored, RecordOutcome } from "../ledger/ledger";
import { objectNameOf } from "../providers/names";
import { log } from "../lib/log";
import { errorText } from "../lib/result";
import type { Hint } from "../providers/proven";
import type { VerifiedEvent } from "../providers/types";
import { loggedRoute } from "./rejections";
import { signedHeadersOf } from "./sources";
import { httpError, storageUnavailable } from "../lib/http-errors";

export async function recordProven(c: Context<AppEnv>): Promise<Response> {
  const { items, answer } = c.var.proven;
  let result: RecordOutcome["result"] = "accepted";
  const original = originalOf(c);
  for (const item of items)
    result =
      "event" in item
        ? await acceptEvent(c, item.event, await sha256Hex(item.content), original)
        : await keepHint(c, item.hint);
  return answer === null ? c.json({ result }) : c.text(answer);
}

/** Headers never kept in `original`, whatever a source's configuration names. */
const NEVER_KEPT = new Set(["cookie", "authorization", "proxy-authorization", "x-callback-token"]);

/** The provider's request as received (JSON {"headers", "body": base64}), when a destination asks for
 *  it (`"original": true`); else undefined, and nothing of it travels to the ledger. */
function originalOf(c: Context<AppEnv>): string | undefined {
  const destinations = c.var.config.destinations;
  if (!destinations.ok || !destinations.value.some((d) => d.original)) return undefined;
  const headers: Record<string, string> = {};
  for (const name of ["content-type", ...signedHeadersOf(c)]) {
    const value = c.req.raw.headers.get(name);
    if (value !== null && !NEVER_KEPT.has(name)) headers[name] = value;
  }
  return JSON.stringify({ headers, body: toBase64(c.var.body) });
}

/** Answers one verified event from the hint or records it; `contentHash` names the bytes it came in
 *  (the body, or a batch item), so a redelivery with other bytes is seen as a conflict. */
async function acceptEvent(
  c: Context<AppEnv>,
  event: VerifiedEvent,
  contentHash: string,
  original: string | undefined,
): Promise<RecordOutcome["result"]> {
  const ids = {
    route: loggedRoute(c),
    kind: event.kind,
    object_ref: event.objectRef,
    event_id: event.eventId,
    ...(event.deliveryId === undefined ? {} : { delivery_id: event.deliveryId }),
  };

  const hint = c.var.config.seenHint;
  if (hint && (await seenHint(c.env.SEEN, event.eventId, contentHash))) {
    // The ledger logged this duplicate at info when it first answered it (the marker is written then).
    log("debug", "webhook duplicate (edge hint)", { ...ids, result: "duplicate" });
    return "duplicate";
  }

  const outcome = await record(c.env, event, contentHash, original);
  // The marker is written once the ledger has answered duplicate for this very body (its first
  // redelivery): a new event then costs one KV read and no KV write, and the redeliveries after the
  // first are still answered at the edge. Most events are never redelivered, so a write per new event
  // cost more than it saved.
  if (hint && outcome.result === "duplicate" && outcome.conflictsWith === undefined) {
    c.executionCtx.waitUntil(
      markSeen(c.env.SEEN, event.eventId, contentHash, objectName(event)).catch((err: unknown) => {
        // Only the hint is lost: the next redelivery wakes the ledger, which answers duplicate.
        log("warn", "seen marker not written", { ...ids, error: errorText(err) });
      }),
    );
  }
  if (outcome.conflictsWith !== undefined) {
    log("warn", "webhook duplicate with a different body; the new body is not forwarded", {
      ...ids,
      result: outcome.result,
      recorded_body_sha256: outcome.conflictsWith,
      received_body_sha256: contentHash,
    });
  }
  log("info", `webhook ${outcome.result}`, {
    ...ids,
    result: outcome.result,
    status: outcome.status,
    previous_status: outcome.previousStatus,
    seq: outcome.seq,
  });
  return outcome.result;
}

async function record(
  env: Env,
  event: VerifiedEvent,
  contentHash: string,
  original: string | undefined,
): Promise<RecordOutcome> {
  let outcome: RecordOutcome | NotStored;
  try {
    outcome = await ledgerOf(env, objectName(event)).record({
      provider: event.provider,
      kind: event.kind,
      objectRef: event.objectRef,
      eventId: event.eventId,
      status: event.status,
      position: event.position,
      data: JSON.stringify(event.data),
      unverified: event.unverified === null ? null : JSON.stringify(event.unverified),
      source: "webhook",
      contentHash,
      receivedAt: new Date(clock.now()).toISOString(),
      ...(event.sourceName === undefined ? {} : { sourceName: event.sourceName }),
      ...(event.type == null ? {} : { type: event.type }),
      ...(original === undefined ? {} : { original }),
    });
  } catch (err) {
    outcome = { result: "not_stored", error: errorText(err) };
  }
  if (outcome.result !== "not_stored") return outcome;
  log("error", "ledger unavailable; webhook not acknowledged", {
    kind: event.kind,
    object_ref: event.objectRef,
    event_id: event.eventId,
    error: outcome.error,
  });
  throw storageUnavailable();
}

/** Keeps a hint in its object's ledger, which confirms it with its provider's API. */
async function keepHint(c: Context<AppEnv>, hint: Hint): Promise<"accepted" | "duplicate"> {
  const ids = { route: loggedRoute(c), confirmer: hint.confirmer, subject: hint.subject, parent_ref: hint.parentRef };
  let result: "accepted" | "duplicate" | "limited";
  try {
    result = await ledgerOf(c.env, hint.objectName).recordHint({
      eventId: hint.eventId,
      confirmer: hint.confirmer,
      subject: hint.subject,
      parentRef: hint.parentRef,
      claimed: hint.claimed,
      payload: JSON.stringify(hint.payload),
      receivedAt: new Date(clock.now()).toISOString(),
    });
  } catch (err) {
    log("error", "ledger unavailable; hint not acknowledged", { ...ids, error: errorText(err) });
    throw storageUnavailable();
  }
  if (result === "limited") {
    log("warn", "hint not kept: its object holds as many hints as it may", ids);
    const refund = hint.confirmer === "portone-refund";
    throw httpError(
      429,
      refund ? "refund_hint_limit" : "hint_limit",
      `This ${refund ? "payment" : "object"} already holds as many hints as the gateway keeps; nothing was stored.`,
    );
  }
  log("info", `hint ${result}; confirming with the provider's API`, { ...ids, result });
  return result;
}

/** A KV failure must not block a webhook: the ledger is the authority, so a failed read is a miss. */
async function seenHint(kv: KVNamespace, eventId: string, contentHash: string): Promise<boolean> {
  try {
    return await wasSeen(kv, eventId, contentHash);
  } catch (err) {
    log("warn", "seen hint unavailable; asking the ledger", { event_id: eventId, error: errorText(err) });
    return false;
  }
}

/** The object an event moves: PortOne's (its provider), or its source's (a source's name is its
 *  objects' first part, so two sources of one scheme never share one). */
const objectName = (e: VerifiedEvent): string => objectNameOf(e.sourceName ?? e.provider, e.kind, e.objectRef);
